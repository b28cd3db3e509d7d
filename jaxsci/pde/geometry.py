"""Geometry as DeepXDE users know it: boxes, balls, polygons and their constructive-solid-
geometry (CSG) combinations, with interior and boundary samplers (uniform or scrambled
Sobol), outward normals and a signed distance function.

Every geometry is a :class:`jaxsci.pde.AbstractDomain` (so problems and samplers take it)
with ``sdf(x)`` (negative inside; exact for the primitives, the usual min/max bound for
CSG, Ricci 1973), ``normal(x)`` (the normalized gradient of the SDF: outward on the
boundary, into the holes of a difference), ``bounds`` (an axis-aligned bounding box) and
``boundary_measure`` (perimeter / surface area; estimated for CSG). A square with two
circular holes::

    domain = Rectangle([0, 0], [1, 1]) - Disk([0.3, 0.5], 0.1) - Disk([0.7, 0.5], 0.15)
    inside = domain.sample(1000, key=k1)                   # uniform (rejection)
    sobol = domain.sample(1024, key=k1, quasi=True)         # scrambled Sobol (rejection)
    edge = domain.sample_boundary(400, key=k2)              # on the outer edge and the holes
    n = jax.vmap(domain.normal)(edge)                       # outward normals (Neumann data)

``sdf``/``normal``/``contains`` are JAX functions (jit, vmap, grad). The samplers run at
Python time on concrete sizes (rejection sampling needs them) and return arrays of the
default float dtype; they are not for use under ``jax.jit``.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ..internal import check_key
from ._domain import AbstractDomain, _check_n, _check_points

__all__ = ["AbstractGeometry", "Difference", "Disk", "Intersection", "Polygon", "Rectangle", "Union"]


def _float():
    return jnp.zeros(()).dtype


def _rng(key) -> np.random.Generator:
    """A NumPy generator seeded from a JAX key (host-side sampling: no compilation per size)."""
    return np.random.default_rng(int(jax.random.bits(key, (), jnp.uint32)))


def _unit(n: int, dim: int, rng: np.random.Generator, quasi: bool) -> np.ndarray:
    if quasi:
        from scipy.stats import qmc

        m = max(1, math.ceil(math.log2(n)))
        return qmc.Sobol(dim, scramble=True, seed=rng).random_base2(m)[:n]
    return rng.random((n, dim))


@eqx.filter_jit
def _jit_sdf(geometry, x):
    return jax.vmap(geometry.sdf)(x)


def _sdf_values(geometry, x: np.ndarray) -> np.ndarray:
    """``sdf`` at many host points, compiled once per power-of-two size."""
    n = x.shape[0]
    size = 1 << max(0, (n - 1).bit_length())
    padded = np.zeros((size, x.shape[1]))
    padded[:n] = x
    return np.asarray(_jit_sdf(geometry, jnp.asarray(padded, _float())))[:n]


class AbstractGeometry(AbstractDomain):
    """A domain with a signed distance function, normals, bounds and samplers.

    Subclasses implement ``sdf``, ``bounds``, ``boundary_measure`` and
    ``_boundary_candidates`` (points on their own boundary); interior sampling is rejection
    from the bounding box. ``a - b``, ``a | b`` and ``a & b`` build the CSG difference,
    union and intersection.
    """

    @abc.abstractmethod
    def sdf(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """The signed distance (negative inside) at one point."""

    @property
    @abc.abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)``: an axis-aligned box that contains the geometry."""

    @property
    @abc.abstractmethod
    def boundary_measure(self) -> float:
        """The boundary's length (2D) or area (3D, ...)."""

    @abc.abstractmethod
    def _boundary_candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points uniform on the boundary of this geometry."""

    def contains(self, x, tol=1e-6) -> Bool[Array, ...]:
        """Whether each point (last axis: coordinates) is inside or within ``tol`` of it."""
        x = _check_points(x, self.dim)
        flat = x.reshape(-1, self.dim)
        return (jax.vmap(self.sdf)(flat) <= tol).reshape(x.shape[:-1])

    def normal(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        """The unit outward normal at a boundary point: ``grad sdf / |grad sdf|``."""
        g = jax.grad(self.sdf)(x)
        return g / jnp.linalg.norm(g)

    def sample(self, n, *args, key=None, quasi: bool = False) -> Float[Array, "n d"]:
        """``n`` points uniform in the interior (rejection from the bounding box); with
        ``quasi=True`` the candidates are a scrambled Sobol sequence on the box."""
        if args:
            raise TypeError("call `sample(n, key=key)` (the key is a keyword argument).")
        n = _check_n(n)
        if key is None:
            raise TypeError("`sample` draws random points: pass `key=jax.random.key(seed)`.")
        rng = _rng(check_key(key))
        lower, upper = self.bounds
        kept: list[np.ndarray] = []
        count, batch = 0, 2 * n
        for _ in range(30):
            unit = _unit(batch, self.dim, rng, quasi)
            x = lower + unit * (upper - lower)
            inside = _sdf_values(self, x) < 0
            kept.append(x[inside])
            count += int(inside.sum())
            if count >= n:
                return jnp.asarray(np.concatenate(kept)[:n], _float())
            batch = min(4 * batch, 1 << 22)
        raise ValueError(
            f"{type(self).__name__}.sample found only {count} of {n} points inside after 30 "
            "rounds: the geometry is empty or a tiny part of its bounding box."
        )

    def sample_boundary(self, n, *args, key=None) -> Float[Array, "n d"]:
        """``n`` points uniform on the boundary (by arc length / surface area)."""
        if args:
            raise TypeError("call `sample_boundary(n, key=key)` (the key is a keyword argument).")
        n = _check_n(n)
        if key is None:
            raise TypeError("`sample_boundary` draws random points: pass `key=jax.random.key(seed)`.")
        return jnp.asarray(self._boundary_candidates(n, _rng(check_key(key)))[:n], _float())

    def __sub__(self, other: AbstractGeometry) -> Difference:
        return Difference(self, other)

    def __or__(self, other: AbstractGeometry) -> Union:
        return Union(self, other)

    def __and__(self, other: AbstractGeometry) -> Intersection:
        return Intersection(self, other)


def _vector(value, name: str, dim: int | None = None) -> np.ndarray:
    v = np.atleast_1d(np.asarray(value, float))
    if v.ndim != 1 or not np.all(np.isfinite(v)) or (dim is not None and v.shape[0] != dim):
        want = f"({dim},)" if dim is not None else "(d,)"
        raise ValueError(f"`{name}` must be {want} finite numbers, got {value!r}.")
    return v


class Rectangle(AbstractGeometry):
    """The box ``[lower, upper]`` in R^d (a rectangle in 2D, a cuboid in 3D).

    Example:
        >>> r = Rectangle([0.0, 0.0], [2.0, 1.0])
        >>> float(r.sdf(jnp.array([1.0, 0.25]))), r.boundary_measure
        (-0.25, 6.0)
    """

    lower_: tuple[float, ...] = eqx.field(static=True)
    upper_: tuple[float, ...] = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, lower, upper):
        lower, upper = _vector(lower, "lower"), _vector(upper, "upper")
        if lower.shape != upper.shape or not np.all(upper > lower):
            raise ValueError(f"Rectangle needs lower < upper of equal length, got {lower} and {upper}.")
        self.lower_, self.upper_ = tuple(lower.tolist()), tuple(upper.tolist())
        self.dim = int(lower.shape[0])

    @property
    def lower(self) -> np.ndarray:
        """The lower corner."""
        return np.asarray(self.lower_)

    @property
    def upper(self) -> np.ndarray:
        """The upper corner."""
        return np.asarray(self.upper_)

    def sdf(self, x):
        c = jnp.asarray((self.lower + self.upper) / 2, x.dtype)
        h = jnp.asarray((self.upper - self.lower) / 2, x.dtype)
        q = jnp.abs(x - c) - h
        outside = jnp.sqrt(jnp.sum(jnp.maximum(q, 0.0) ** 2) + jnp.finfo(x.dtype).tiny)
        return jnp.where(jnp.all(q <= 0), jnp.max(q), outside)

    @property
    def bounds(self):
        return self.lower, self.upper

    @property
    def boundary_measure(self):
        w = self.upper - self.lower
        return float(2 * np.sum(np.prod(w) / w))

    def _boundary_candidates(self, n, rng):
        w = self.upper - self.lower
        areas = np.prod(w) / w
        axis = rng.choice(self.dim, n, p=areas / areas.sum())
        side = rng.random(n) < 0.5
        x = self.lower + rng.random((n, self.dim)) * w
        x[np.arange(n), axis] = np.where(side, self.upper[axis], self.lower[axis])
        return x


class Disk(AbstractGeometry):
    """The ball ``|x - center| <= radius`` in R^d (a disk in 2D).

    Example:
        >>> d = Disk([0.0, 0.0], 2.0)
        >>> float(d.sdf(jnp.array([1.0, 0.0]))), round(d.boundary_measure, 4)
        (-1.0, 12.5664)
    """

    center_: tuple[float, ...] = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, center, radius):
        center = _vector(center, "center")
        if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not (
                math.isfinite(radius) and radius > 0):
            raise ValueError(f"`radius` must be a finite number > 0, got {radius!r}.")
        self.center_, self.radius, self.dim = tuple(center.tolist()), float(radius), int(center.shape[0])

    @property
    def center(self) -> np.ndarray:
        """The center."""
        return np.asarray(self.center_)

    def sdf(self, x):
        r = x - jnp.asarray(self.center, x.dtype)
        return jnp.sqrt(jnp.sum(r**2) + jnp.finfo(x.dtype).tiny) - self.radius

    @property
    def bounds(self):
        return self.center - self.radius, self.center + self.radius

    @property
    def boundary_measure(self):
        d = self.dim
        return float(2 * math.pi ** (d / 2) / math.gamma(d / 2) * self.radius ** (d - 1))

    def _boundary_candidates(self, n, rng):
        g = rng.standard_normal((n, self.dim))
        return self.center + self.radius * g / np.linalg.norm(g, axis=1, keepdims=True)


class Polygon(AbstractGeometry):
    """A simple polygon in 2D from its vertices (either orientation).

    The SDF is the distance to the nearest edge with the sign of the even-odd crossing
    rule (inside negative).

    Example:
        >>> tri = Polygon([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> round(float(tri.sdf(jnp.array([0.25, 0.25]))), 4), round(tri.boundary_measure, 4)
        (-0.25, 3.4142)
    """

    vertices_: tuple[tuple[float, float], ...] = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, vertices):
        v = np.asarray(vertices, float)
        if v.ndim != 2 or v.shape[1] != 2 or v.shape[0] < 3 or not np.all(np.isfinite(v)):
            raise ValueError(f"Polygon needs vertices of shape (k, 2) with k >= 3 finite points, got shape {v.shape}.")
        x, y = v[:, 0], v[:, 1]
        if abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) < 1e-14:
            raise ValueError("Polygon vertices enclose no area (collinear or repeated points).")
        self.vertices_, self.dim = tuple(tuple(p) for p in v.tolist()), 2

    @property
    def vertices(self) -> np.ndarray:
        """The vertices, shape ``(k, 2)``."""
        return np.asarray(self.vertices_)

    def sdf(self, x):
        a = jnp.asarray(self.vertices, x.dtype)
        b = jnp.roll(a, -1, axis=0)
        e, w = b - a, x[None, :] - a
        t = jnp.clip(jnp.sum(w * e, axis=1) / jnp.sum(e * e, axis=1), 0.0, 1.0)
        dist = jnp.sqrt(jnp.min(jnp.sum((w - t[:, None] * e) ** 2, axis=1)) + jnp.finfo(x.dtype).tiny)
        crosses = ((a[:, 1] > x[1]) != (b[:, 1] > x[1])) & (
            x[0] < a[:, 0] + (x[1] - a[:, 1]) * e[:, 0] / jnp.where(e[:, 1] == 0, 1.0, e[:, 1]))
        inside = jnp.sum(crosses) % 2 == 1
        return jnp.where(inside, -dist, dist)

    @property
    def bounds(self):
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    @property
    def boundary_measure(self):
        return float(np.sum(np.linalg.norm(np.roll(self.vertices, -1, axis=0) - self.vertices, axis=1)))

    def _boundary_candidates(self, n, rng):
        a = self.vertices
        e = np.roll(a, -1, axis=0) - a
        length = np.linalg.norm(e, axis=1)
        edge = rng.choice(a.shape[0], n, p=length / length.sum())
        t = rng.random(n)
        return a[edge] + t[:, None] * e[edge]


def _check_pair(a, b, what: str) -> None:
    for g in (a, b):
        if not isinstance(g, AbstractGeometry):
            raise TypeError(f"{what} combines jaxsci.pde.geometry shapes, got {type(g).__name__}.")
    if a.dim != b.dim:
        raise ValueError(f"{what} needs shapes of one dimension, got {a.dim} and {b.dim}.")


class _CSG(AbstractGeometry):
    a: AbstractGeometry
    b: AbstractGeometry
    dim: int = eqx.field(static=True)

    def __init__(self, a, b):
        _check_pair(a, b, type(self).__name__)
        self.a, self.b, self.dim = a, b, a.dim

    def _boundary_candidates(self, n, rng):
        # each part's boundary sampled in proportion to its measure, kept where it is the
        # boundary of the combination: uniform on the combined boundary
        kept: list[np.ndarray] = []
        count, factor = 0, 4
        ma, mb = self.a.boundary_measure, self.b.boundary_measure
        tol = 1e-7 * max(1.0, float(np.max(np.abs(np.concatenate(self.bounds)))))
        for _ in range(20):
            total = factor * n
            na = max(1, round(total * ma / (ma + mb)))
            x = np.concatenate([self.a._boundary_candidates(na, rng),
                                self.b._boundary_candidates(max(1, total - na), rng)])
            on = np.abs(_sdf_values(self, x)) <= tol
            kept.append(x[on])
            count += int(on.sum())
            if count >= n:
                x = np.concatenate(kept)
                pick = rng.permutation(x.shape[0])[:n]
                return x[pick]
            factor *= 4
        raise ValueError(f"{type(self).__name__} has (almost) no boundary: found {count} of {n} points.")

    @property
    def boundary_measure(self):
        """Estimated from 4096 candidate points of each part's boundary."""
        tol = 1e-7 * max(1.0, float(np.max(np.abs(np.concatenate(self.bounds)))))
        total = 0.0
        rng = np.random.default_rng(0)
        for part in (self.a, self.b):
            x = part._boundary_candidates(4096, rng)
            on = np.abs(_sdf_values(self, x)) <= tol
            total += part.boundary_measure * float(on.mean())
        return total


class Union(_CSG):
    """The union ``a | b``: ``sdf = min(sdf_a, sdf_b)``.

    Example:
        >>> u = Disk([0.0, 0.0], 1.0) | Disk([1.5, 0.0], 1.0)
        >>> bool(u.contains(jnp.array([2.0, 0.0])))
        True
    """

    def sdf(self, x):
        return jnp.minimum(self.a.sdf(x), self.b.sdf(x))

    @property
    def bounds(self):
        (la, ua), (lb, ub) = self.a.bounds, self.b.bounds
        return np.minimum(la, lb), np.maximum(ua, ub)


class Intersection(_CSG):
    """The intersection ``a & b``: ``sdf = max(sdf_a, sdf_b)``.

    Example:
        >>> i = Rectangle([0.0, 0.0], [2.0, 2.0]) & Disk([0.0, 0.0], 1.0)
        >>> bool(i.contains(jnp.array([0.5, 0.5]))), bool(i.contains(jnp.array([1.5, 0.1])))
        (True, False)
    """

    def sdf(self, x):
        return jnp.maximum(self.a.sdf(x), self.b.sdf(x))

    @property
    def bounds(self):
        (la, ua), (lb, ub) = self.a.bounds, self.b.bounds
        return np.maximum(la, lb), np.minimum(ua, ub)


class Difference(_CSG):
    """The difference ``a - b``: ``sdf = max(sdf_a, -sdf_b)``; its normals on ``b``'s
    boundary point into ``b`` (out of the domain).

    Example:
        >>> plate = Rectangle([0.0, 0.0], [1.0, 1.0]) - Disk([0.5, 0.5], 0.2)
        >>> bool(plate.contains(jnp.array([0.5, 0.5]))), plate.normal(jnp.array([0.7, 0.5])).tolist()
        (False, [-1.0, 0.0])
    """

    def sdf(self, x):
        return jnp.maximum(self.a.sdf(x), -self.b.sdf(x))

    @property
    def bounds(self):
        return self.a.bounds
