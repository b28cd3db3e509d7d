"""Collocation points: uniform, quasi-random (Halton, Sobol) and adaptive (R3, RAR)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..internal import check_key, check_positive_int
from ..pde import AbstractDomain

_PRIMES = np.array([2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
                    73, 79, 83, 89, 97, 101, 103, 107, 109, 113])


def _check_domain(domain) -> None:
    if not isinstance(domain, AbstractDomain):
        raise TypeError(
            f"`domain` must be a jaxsci.pde domain (Box, Ball, Sphere, SpaceTime), got "
            f"{type(domain).__name__}."
        )


def uniform(domain: AbstractDomain, n: int, *, key: jax.Array) -> Float[Array, "n d"]:
    """``n`` points drawn uniformly from the domain (jit-able).

    Example:
        >>> from jaxsci import pde
        >>> uniform(pde.Ball(3), 4, key=jax.random.key(0)).shape
        (4, 3)
    """
    _check_domain(domain)
    check_positive_int(n, "n")
    key = check_key(key)
    return domain.sample(n, key=key)


def halton(
    domain: AbstractDomain, n: int, *, start: int = 0, key: jax.Array | None = None
) -> Float[Array, "n d"]:
    """Points ``start .. start+n-1`` of the Halton sequence mapped into the domain.

    The radical-inverse sequence in bases 2, 3, 5, ... (Halton, Numer. Math. 1960); with
    ``key`` a random shift modulo 1 (Cranley-Patterson rotation, SIAM J. Numer. Anal. 1976)
    randomizes it. Up to 30 dimensions; needs a domain with a map from the unit cube
    (boxes and space-time boxes). jit-able in the domain's bounds and the key; ``n`` and
    ``start`` must be Python ints.

    Example:
        >>> from jaxsci import pde
        >>> halton(pde.Box([0.0, 0.0], [1.0, 1.0]), 3)[:, 0]
        Array([0.5 , 0.25, 0.75], dtype=float32)
    """
    _check_domain(domain)
    check_positive_int(n, "n")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise TypeError(f"`start` must be a non-negative Python int (it sets the number of digits), got {start!r}.")
    d = domain.dim
    if d > len(_PRIMES):
        raise ValueError(
            f"halton supports up to {len(_PRIMES)} dimensions, got {d}; use `uniform` (the "
            "advantage of low-discrepancy points vanishes in high dimension)."
        )
    index = jnp.arange(start + 1, start + n + 1)
    bases = jnp.asarray(_PRIMES[:d])
    digits = int(np.ceil(np.log(start + n + 1) / np.log(2))) + 1

    dtype = jnp.zeros(()).dtype  # the default float dtype (float64 under x64)

    def radical_inverse(base):
        base_float = base.astype(dtype)

        def body(carry, _):
            i, value, scale = carry
            scale = scale / base_float
            value = value + (i % base).astype(dtype) * scale
            return (i // base, value, scale), None

        (_, value, _), _ = jax.lax.scan(
            body, (index, jnp.zeros(n, dtype), jnp.ones(n, dtype)), None, length=digits
        )
        return value

    unit = jax.vmap(radical_inverse, out_axes=1)(bases)
    if key is not None:
        key = check_key(key)
        shift = jax.random.uniform(key, (1, d), unit.dtype)
        unit = jnp.mod(unit + shift, jnp.asarray(1.0, unit.dtype))
    return domain.to_unit_cube(unit)


def sobol(domain: AbstractDomain, n: int, *, key: jax.Array) -> Float[Array, "n d"]:
    """``n`` scrambled Sobol points (Owen scrambling, computed by SciPy on the host).

    The scrambling seed is drawn from ``key`` (a 32-bit integer), so different keys give
    independent scramblings. ``n`` should be a power of two for the balance properties of
    the sequence; ``n`` (and the domain's dimension) must be concrete Python ints. The key
    may be traced: under ``jax.jit`` and ``jax.vmap`` the points are computed on the host
    through ``jax.pure_callback`` (one SciPy call per key), so they are not differentiable
    with respect to anything but the domain's bounds.

    Example:
        >>> from jaxsci import pde
        >>> box = pde.Box([0.0, 0.0], [1.0, 2.0])
        >>> jax.jit(lambda k: sobol(box, 8, key=k))(jax.random.key(3)).shape
        (8, 2)
    """
    _check_domain(domain)
    check_positive_int(n, "n")
    key = check_key(key)
    dim = domain.dim
    dtype = jnp.zeros(()).dtype  # the default float dtype (float64 under x64)
    seed = jax.random.bits(key, (), jnp.uint32)

    def host(s):
        from scipy.stats import qmc

        unit = qmc.Sobol(dim, scramble=True, seed=int(s)).random(n)
        return unit.astype(dtype)

    if isinstance(seed, jax.core.Tracer):
        shape = jax.ShapeDtypeStruct((n, dim), dtype)
        unit = jax.pure_callback(host, shape, seed, vmap_method="sequential")
    else:
        unit = jnp.asarray(host(seed))
    return domain.to_unit_cube(unit)


def r3_resample(
    domain: AbstractDomain, points: Float[Array, "n d"], residuals: Float[Array, " n"], *, key: jax.Array
) -> Float[Array, "n d"]:
    """Retain-Resample-Release (R3; Daw, Bu, Wang, Perdikaris, Karpatne, ICML 2023, Alg. 1).

    Points whose ``|residual|`` exceeds the mean ``|residual|`` are retained; the others are
    released and replaced by fresh uniform points, so high-residual regions accumulate
    points over iterations while the set keeps its size (a fixed shape, so it is jit-able).
    """
    _check_domain(domain)
    check_key(key)
    if points.ndim != 2 or residuals.shape != points.shape[:1]:
        raise ValueError(
            f"r3_resample needs points (n, d) and residuals (n,), got {points.shape} and {residuals.shape}."
        )
    score = jnp.abs(residuals)
    keep = score > jnp.mean(score)
    fresh = domain.sample(points.shape[0], key=key)
    return jnp.where(keep[:, None], points, fresh)


def rar_add(
    points: Float[Array, "n d"], candidates: Float[Array, "m d"], residuals: Float[Array, " m"], k: int
) -> Float[Array, "n+k d"]:
    """Residual-based adaptive refinement (RAR; Lu, Meng, Mao, Karniadakis, SIAM Rev. 2021):
    append the ``k`` candidates with the largest ``|residual|``.

    Example:
        >>> rar_add(jnp.zeros((1, 1)), jnp.array([[1.0], [2.0]]), jnp.array([0.1, 5.0]), 1)[:, 0]
        Array([0., 2.], dtype=float32)
    """
    check_positive_int(k, "k")
    if candidates.ndim != 2 or residuals.shape != candidates.shape[:1]:
        raise ValueError(
            f"rar_add needs candidates (m, d) and residuals (m,), got {candidates.shape} and {residuals.shape}."
        )
    if k > candidates.shape[0]:
        raise ValueError(f"cannot add k={k} points from {candidates.shape[0]} candidates.")
    worst = jax.lax.top_k(jnp.abs(residuals), k)[1]
    return jnp.concatenate([points, candidates[worst]], axis=0)
