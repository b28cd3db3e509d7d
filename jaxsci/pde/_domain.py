"""Domains: where a PDE lives, how to test membership and draw uniform points.

Every domain is an ``equinox.Module`` with ``dim``, ``contains(x)``, ``sample(n, key=key)``
(uniform in the interior) and, where it has one, ``sample_boundary(n, key=key)``.
Space-time domains put time in the last coordinate.
"""

from __future__ import annotations

import abc
import math
import numbers
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ..internal import (
    check_key,
    check_positive,
    check_positive_int,
    is_prng_key as _is_prng_key,
)


def _check_n(n, name: str = "n") -> int:
    """The number of points: a Python integer >= 1."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(
            f"`{name}` (the number of points) must be a positive integer, got "
            f"{type(n).__name__} {n!r}."
        )
    if n < 1:
        raise ValueError(f"`{name}` (the number of points) must be a positive integer, got {n}.")
    return int(n)


def _n_and_key(n, legacy: tuple, key, what: str) -> tuple[int, jax.Array]:
    """``(n, key)`` from ``f(n, key=key)``, or from the jaxsci 0.1 order ``f(key, n)``
    (deprecated: a ``DeprecationWarning``)."""
    if legacy:
        if len(legacy) != 1 or key is not None or not _is_prng_key(n):
            raise TypeError(f"call `{what}(n, key=key)` (the key is a keyword argument).")
        warnings.warn(
            f"`{what}(key, n)` is deprecated: call `{what}(n, key=key)`.",
            DeprecationWarning,
            stacklevel=3,
        )
        n, key = legacy[0], n
    if key is None and _is_prng_key(n):
        raise TypeError(
            f"`{what}` takes the number of points first and the key as a keyword: "
            f"`{what}(n, key=key)`."
        )
    if key is None:
        raise TypeError(f"`{what}` draws random points: pass `key=jax.random.key(seed)`.")
    return _check_n(n), check_key(key)


def _check_points(x, dim: int, name: str = "x") -> jax.Array:
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != dim:
        raise ValueError(
            f"`{name}` must hold points of R^{dim} along its last axis (shape (..., {dim})), "
            f"got shape {tuple(x.shape)}."
        )
    return x


def _along_last(v: jax.Array, x: jax.Array) -> jax.Array:
    """``v`` of shape ``(d,)`` shaped to broadcast against ``x`` of shape ``(..., d)``."""
    return v.reshape((1,) * (x.ndim - 1) + v.shape).astype(x.dtype)


def _check_real(value, name: str) -> float:
    """A finite real number given as a Python/NumPy scalar."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite real number, got {value!r}.")
    return float(value)


class AbstractDomain(eqx.Module):
    """Base class of domains: ``dim``, ``contains`` and a uniform interior sampler.

    ``sample_boundary`` and ``to_unit_cube`` exist where the domain has them; the default
    says that it has none (``TypeError``).

    Example:
        >>> Box([0.0], [1.0]).sample(4, key=jax.random.key(0)).shape
        (4, 1)
    """

    dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def contains(self, x: Float[Array, "... d"], tol: float = 1e-6) -> Bool[Array, ...]:
        """Whether each point of ``x`` (last axis: coordinates) lies in the domain."""

    @abc.abstractmethod
    def sample(self, n: int, *args, key: jax.Array | None = None) -> Float[Array, "n d"]:
        """``n`` points drawn uniformly from the interior."""

    def sample_boundary(self, n: int, *args, key: jax.Array | None = None) -> Float[Array, "n d"]:
        """``n`` points drawn uniformly from the boundary."""
        raise TypeError(f"{type(self).__name__} has no boundary sampler.")

    def to_unit_cube(self, unit: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """Map points of [0, 1)^d into the domain (for quasi-random sequences)."""
        raise TypeError(f"{type(self).__name__} has no map from the unit cube.")


class Box(AbstractDomain):
    """The box ``[lower_i, upper_i]`` in R^dim.

    The bounds may be traced (a ``Box`` built inside ``jax.jit`` or ``jax.vmap``); then
    ``upper > lower`` is checked when the computation runs (``equinox.error_if``).

    Example:
        >>> Box([0.0, -1.0], [1.0, 1.0]).contains(jnp.array([0.5, 0.0]))
        Array(True, dtype=bool)
    """

    lower: Float[Array, " d"]
    upper: Float[Array, " d"]
    dim: int = eqx.field(static=True)

    def __init__(self, lower, upper):
        for name, bound in (("lower", lower), ("upper", upper)):
            if hasattr(bound, "dtype") and not jnp.issubdtype(bound.dtype, jnp.number):
                raise TypeError(f"`{name}` must be real numbers, got dtype {bound.dtype}.")
            if hasattr(bound, "dtype") and jnp.issubdtype(bound.dtype, jnp.complexfloating):
                raise TypeError(f"`{name}` must be real numbers, got dtype {bound.dtype}.")
        lower = jnp.atleast_1d(jnp.asarray(lower, float))
        upper = jnp.atleast_1d(jnp.asarray(upper, float))
        if lower.shape != upper.shape or lower.ndim != 1:
            raise ValueError(
                f"Box needs `lower` and `upper` of equal shape (d,), got {lower.shape} and "
                f"{upper.shape}."
            )
        ordered = jnp.all(upper > lower) & jnp.all(jnp.isfinite(lower) & jnp.isfinite(upper))
        message = "Box needs finite bounds with upper > lower in every coordinate."
        if isinstance(ordered, jax.core.Tracer):  # traced bounds (under jit/vmap): checked at run time
            upper = eqx.error_if(upper, ~ordered, message)
        elif not bool(ordered):
            raise ValueError(f"{message} Got lower={lower}, upper={upper}.")
        self.lower, self.upper, self.dim = lower, upper, int(lower.shape[0])

    def contains(self, x, tol=1e-6):
        """Whether each point lies in the box (within ``tol``)."""
        x = _check_points(x, self.dim)
        lower, upper = _along_last(self.lower, x), _along_last(self.upper, x)
        return jnp.all((x >= lower - tol) & (x <= upper + tol), axis=-1)

    def to_unit_cube(self, unit):
        """``lower + unit * (upper - lower)``."""
        unit = _check_points(unit, self.dim, "unit")
        lower, upper = _along_last(self.lower, unit), _along_last(self.upper, unit)
        return lower + unit * (upper - lower)

    def sample(self, n, *args, key=None):
        """``n`` points uniform in the box."""
        n, key = _n_and_key(n, args, key, "sample")
        return self.to_unit_cube(jax.random.uniform(key, (n, self.dim), dtype=self.lower.dtype))

    def sample_boundary(self, n, *args, key=None):
        """Uniform on the surface of the box (faces chosen in proportion to their area)."""
        n, key = _n_and_key(n, args, key, "sample_boundary")
        width = self.upper - self.lower
        areas = jnp.prod(width) / width  # area of the two faces normal to axis i
        k1, k2, k3 = jax.random.split(key, 3)
        axis = jax.random.choice(k1, self.dim, (n,), p=areas / areas.sum())
        side = jax.random.bernoulli(k2, 0.5, (n,))
        x = self.sample(n, key=k3)
        face = jnp.where(side, self.upper[axis], self.lower[axis])
        return x.at[jnp.arange(n), axis].set(face)


def _check_radius(radius) -> None:
    if isinstance(radius, jax.core.Tracer):
        return
    if not hasattr(radius, "shape") or radius.shape == ():
        check_positive(radius, "radius")
        if not math.isfinite(float(radius)):
            raise ValueError(f"`radius` must be a finite positive number, got {radius!r}.")
    else:
        raise ValueError(f"`radius` must be a positive scalar, got shape {radius.shape}.")


class Ball(AbstractDomain):
    """The closed ball ``|x| <= radius`` in R^dim.

    ``radial`` chooses how ``sample`` draws the radius: ``"volume"`` (uniform in the
    ball's volume, ``r = radius U^(1/d)``: in high dimension nearly all points lie close
    to the sphere) or ``"uniform"`` (``r = radius U``, a uniform direction at a uniformly
    drawn radius; the sampling of the STDE paper's experiments, Shi et al. 2024).

    Example:
        >>> Ball(3).sample(5, key=jax.random.key(0)).shape
        (5, 3)
    """

    dim: int = eqx.field(static=True)
    radius: float = 1.0
    radial: str = eqx.field(static=True, default="volume")

    def __check_init__(self):
        check_positive_int(self.dim, "dim")
        _check_radius(self.radius)
        if self.radial not in ("volume", "uniform"):
            raise ValueError(f"`radial` must be 'volume' or 'uniform', got {self.radial!r}.")

    def contains(self, x, tol=1e-6):
        """Whether each point lies in the ball (within ``tol``)."""
        x = _check_points(x, self.dim)
        return jnp.linalg.norm(x, axis=-1) <= self.radius + tol

    def sample(self, n, *args, key=None):
        """A uniform direction times ``radius * U^(1/d)`` (volume) or ``radius * U``."""
        n, key = _n_and_key(n, args, key, "sample")
        k1, k2 = jax.random.split(key)
        direction = Sphere(self.dim, self.radius).sample(n, key=k1) / self.radius
        u = jax.random.uniform(k2, (n, 1), dtype=direction.dtype)
        r = self.radius * (u ** (1.0 / self.dim) if self.radial == "volume" else u)
        return direction * r

    def sample_boundary(self, n, *args, key=None):
        """Uniform on the sphere ``|x| = radius``."""
        n, key = _n_and_key(n, args, key, "sample_boundary")
        return Sphere(self.dim, self.radius).sample(n, key=key)


class Sphere(AbstractDomain):
    """The sphere ``|x| = radius`` in R^dim.

    Example:
        >>> x = Sphere(3, 2.0).sample(4, key=jax.random.key(0))
        >>> bool(jnp.allclose(jnp.linalg.norm(x, axis=1), 2.0))
        True
    """

    dim: int = eqx.field(static=True)
    radius: float = 1.0

    def __check_init__(self):
        check_positive_int(self.dim, "dim")
        _check_radius(self.radius)

    def contains(self, x, tol=1e-6):
        """Whether each point lies on the sphere (within ``tol``)."""
        x = _check_points(x, self.dim)
        return jnp.abs(jnp.linalg.norm(x, axis=-1) - self.radius) <= tol

    def sample(self, n, *args, key=None):
        """Uniform on the sphere: normalised Gaussian vectors."""
        n, key = _n_and_key(n, args, key, "sample")
        g = jax.random.normal(key, (n, self.dim))
        return self.radius * g / jnp.linalg.norm(g, axis=-1, keepdims=True)


class SpaceTime(AbstractDomain):
    """``space x [t0, t1]``; points are ``(x_1, ..., x_n, t)`` with time last.

    Example:
        >>> domain = SpaceTime(Box([-1.0], [1.0]), 0.0, 1.0)
        >>> domain.sample(3, key=jax.random.key(0)).shape
        (3, 2)
    """

    space: AbstractDomain
    t0: float
    t1: float
    dim: int = eqx.field(static=True)

    def __init__(self, space: AbstractDomain, t0: float, t1: float):
        if not isinstance(space, AbstractDomain):
            raise TypeError(
                f"`space` must be a jaxsci.pde domain (e.g. pde.Box([-1.0], [1.0])), got "
                f"{type(space).__name__}."
            )
        t0, t1 = _check_real(t0, "t0"), _check_real(t1, "t1")
        if not t1 > t0:
            raise ValueError(f"SpaceTime needs t1 > t0, got t0={t0}, t1={t1}.")
        self.space, self.t0, self.t1, self.dim = space, t0, t1, space.dim + 1

    @property
    def time_index(self) -> int:
        """The coordinate that is time (the last)."""
        return self.dim - 1

    def contains(self, x, tol=1e-6):
        """Whether each point lies in ``space x [t0, t1]`` (within ``tol``)."""
        x = _check_points(x, self.dim)
        t = x[..., -1]
        return self.space.contains(x[..., :-1], tol) & (t >= self.t0 - tol) & (t <= self.t1 + tol)

    def _with_time(self, x, t):
        return jnp.concatenate([x, t[:, None]], axis=-1)

    def sample(self, n, *args, key=None):
        """Uniform in space and in time."""
        n, key = _n_and_key(n, args, key, "sample")
        k1, k2 = jax.random.split(key)
        x = self.space.sample(n, key=k1)
        t = jax.random.uniform(k2, (n,), minval=self.t0, maxval=self.t1, dtype=x.dtype)
        return self._with_time(x, t)

    def sample_initial(self, n, *args, key=None):
        """Points of ``space x {t0}``."""
        n, key = _n_and_key(n, args, key, "sample_initial")
        x = self.space.sample(n, key=key)
        return self._with_time(x, jnp.full((n,), self.t0, x.dtype))

    def sample_boundary(self, n, *args, key=None):
        """Points of ``boundary(space) x [t0, t1]``."""
        n, key = _n_and_key(n, args, key, "sample_boundary")
        k1, k2 = jax.random.split(key)
        x = self.space.sample_boundary(n, key=k1)
        t = jax.random.uniform(k2, (n,), minval=self.t0, maxval=self.t1, dtype=x.dtype)
        return self._with_time(x, t)

    def to_unit_cube(self, unit):
        """The space's map on the first coordinates, ``t0 + u (t1 - t0)`` on time."""
        unit = _check_points(unit, self.dim, "unit")
        x = self.space.to_unit_cube(unit[:, :-1])
        return self._with_time(x, self.t0 + unit[:, -1] * (self.t1 - self.t0))
