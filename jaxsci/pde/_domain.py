"""Domains: where a PDE lives, how to test membership and draw uniform points.

Every domain is an ``equinox.Module`` with ``dim``, ``contains(x)``, ``sample(key, n)``
(uniform in the interior) and, where it has one, ``sample_boundary(key, n)``.
Space-time domains put time in the last coordinate.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ..internal import check_key, check_positive_int


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of points must be a positive integer, got {n!r}.")
    return n


class AbstractDomain(eqx.Module):
    dim: eqx.AbstractVar[int]

    def contains(self, x: Float[Array, "... d"], tol: float = 1e-6) -> Bool[Array, ...]:
        raise NotImplementedError

    def sample(self, key, n: int) -> Float[Array, "n d"]:
        raise NotImplementedError

    def sample_boundary(self, key, n: int) -> Float[Array, "n d"]:
        raise NotImplementedError(f"{type(self).__name__} has no boundary sampler.")

    def to_unit_cube(self, unit: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """Map points of [0, 1)^d into the domain (for quasi-random sequences)."""
        raise NotImplementedError(f"{type(self).__name__} has no map from the unit cube.")


class Box(AbstractDomain):
    """The box ``[lower_i, upper_i]`` in R^dim.

    The bounds may be traced (a ``Box`` built inside ``jax.jit`` or ``jax.vmap``); then
    ``upper > lower`` is checked when the computation runs (``equinox.error_if``).
    """

    lower: Float[Array, " d"]
    upper: Float[Array, " d"]
    dim: int = eqx.field(static=True)

    def __init__(self, lower, upper):
        lower, upper = jnp.atleast_1d(jnp.asarray(lower, float)), jnp.atleast_1d(jnp.asarray(upper, float))
        if lower.shape != upper.shape or lower.ndim != 1:
            raise ValueError(f"Box needs lower and upper of equal shape (d,), got {lower.shape} and {upper.shape}.")
        ordered = jnp.all(upper > lower)
        if isinstance(ordered, jax.core.Tracer):  # traced bounds (under jit/vmap): checked at run time
            upper = eqx.error_if(upper, ~ordered, "Box needs upper > lower in every coordinate.")
        elif not bool(ordered):
            raise ValueError("Box needs upper > lower in every coordinate.")
        self.lower, self.upper, self.dim = lower, upper, int(lower.shape[0])

    def contains(self, x, tol=1e-6):
        return jnp.all((x >= self.lower - tol) & (x <= self.upper + tol), axis=-1)

    def to_unit_cube(self, unit):
        return self.lower + unit * (self.upper - self.lower)

    def sample(self, key, n):
        check_key(key)
        return self.to_unit_cube(jax.random.uniform(key, (_check_n(n), self.dim), dtype=self.lower.dtype))

    def sample_boundary(self, key, n):
        """Uniform on the surface of the box (faces chosen in proportion to their area)."""
        check_key(key)
        n = _check_n(n)
        width = self.upper - self.lower
        areas = jnp.prod(width) / width  # area of the two faces normal to axis i
        k1, k2, k3 = jax.random.split(key, 3)
        axis = jax.random.choice(k1, self.dim, (n,), p=areas / areas.sum())
        side = jax.random.bernoulli(k2, 0.5, (n,))
        x = self.sample(k3, n)
        face = jnp.where(side, self.upper[axis], self.lower[axis])
        return x.at[jnp.arange(n), axis].set(face)


class Ball(AbstractDomain):
    """The closed ball ``|x| <= radius`` in R^dim.

    ``radial`` chooses how ``sample`` draws the radius: ``"volume"`` (uniform in the
    ball's volume, ``r = radius U^(1/d)``: in high dimension nearly all points lie close
    to the sphere) or ``"uniform"`` (``r = radius U``, a uniform direction at a uniformly
    drawn radius; the sampling of the STDE paper's experiments, Shi et al. 2024).
    """

    dim: int = eqx.field(static=True)
    radius: float = 1.0
    radial: str = eqx.field(static=True, default="volume")

    def __check_init__(self):
        check_positive_int(self.dim, "dim")
        if self.radial not in ("volume", "uniform"):
            raise ValueError(f"`radial` must be 'volume' or 'uniform', got {self.radial!r}.")

    def contains(self, x, tol=1e-6):
        return jnp.linalg.norm(x, axis=-1) <= self.radius + tol

    def sample(self, key, n):
        """A uniform direction times ``radius * U^(1/d)`` (volume) or ``radius * U``."""
        check_key(key)
        k1, k2 = jax.random.split(key)
        direction = Sphere(self.dim, self.radius).sample(k1, _check_n(n)) / self.radius
        u = jax.random.uniform(k2, (n, 1), dtype=direction.dtype)
        r = self.radius * (u ** (1.0 / self.dim) if self.radial == "volume" else u)
        return direction * r

    def sample_boundary(self, key, n):
        return Sphere(self.dim, self.radius).sample(key, n)


class Sphere(AbstractDomain):
    """The sphere ``|x| = radius`` in R^dim."""

    dim: int = eqx.field(static=True)
    radius: float = 1.0

    def __check_init__(self):
        check_positive_int(self.dim, "dim")

    def contains(self, x, tol=1e-6):
        return jnp.abs(jnp.linalg.norm(x, axis=-1) - self.radius) <= tol

    def sample(self, key, n):
        """Uniform on the sphere: normalised Gaussian vectors."""
        check_key(key)
        g = jax.random.normal(key, (_check_n(n), self.dim))
        return self.radius * g / jnp.linalg.norm(g, axis=-1, keepdims=True)


class SpaceTime(AbstractDomain):
    """``space x [t0, t1]``; points are ``(x_1, ..., x_n, t)`` with time last."""

    space: AbstractDomain
    t0: float
    t1: float
    dim: int = eqx.field(static=True)

    def __init__(self, space: AbstractDomain, t0: float, t1: float):
        if not t1 > t0:
            raise ValueError(f"SpaceTime needs t1 > t0, got t0={t0}, t1={t1}.")
        self.space, self.t0, self.t1, self.dim = space, float(t0), float(t1), space.dim + 1

    @property
    def time_index(self) -> int:
        return self.dim - 1

    def contains(self, x, tol=1e-6):
        t = x[..., -1]
        return self.space.contains(x[..., :-1], tol) & (t >= self.t0 - tol) & (t <= self.t1 + tol)

    def _with_time(self, x, t):
        return jnp.concatenate([x, t[:, None]], axis=-1)

    def sample(self, key, n):
        check_key(key)
        k1, k2 = jax.random.split(key)
        x = self.space.sample(k1, _check_n(n))
        return self._with_time(x, jax.random.uniform(k2, (n,), minval=self.t0, maxval=self.t1, dtype=x.dtype))

    def sample_initial(self, key, n):
        """Points of ``space x {t0}``."""
        x = self.space.sample(key, _check_n(n))
        return self._with_time(x, jnp.full((n,), self.t0, x.dtype))

    def sample_boundary(self, key, n):
        """Points of ``boundary(space) x [t0, t1]``."""
        check_key(key)
        k1, k2 = jax.random.split(key)
        x = self.space.sample_boundary(k1, _check_n(n))
        return self._with_time(x, jax.random.uniform(k2, (n,), minval=self.t0, maxval=self.t1, dtype=x.dtype))

    def to_unit_cube(self, unit):
        x = self.space.to_unit_cube(unit[:, :-1])
        return self._with_time(x, self.t0 + unit[:, -1] * (self.t1 - self.t0))
