"""Exact Dirichlet conditions by a distance-function ansatz.

``u(x) = g(x) + d(x) net(x)`` equals ``g`` on the boundary whatever the network, when
``d`` vanishes on the boundary and is positive inside and ``g`` extends the boundary data
into the domain (Lagaris, Likas & Fotiadis, "Artificial neural networks for solving
ordinary and partial differential equations", IEEE Trans. Neural Netw. 9, 1998, Sec. III;
Sukumar & Srivastava, "Exact imposition of boundary conditions with distance functions in
physics-informed deep neural networks", CMAME 389, 2022, Sec. 3). The loss then has no
boundary term.

:class:`BoxDistance` and :class:`BallDistance` are smooth polynomial distance functions
(not Euclidean distances: they are exact zeros on the boundary and smooth everywhere, so
Taylor-mode derivatives of any order see no kink), scaled so that their maximum over the
domain is 1. Build them from bounds or from a :mod:`jaxsci.pde` domain (``pde.Box``,
``pde.geometry.Rectangle``, ``pde.Ball``, ``pde.geometry.Disk``) with ``.of(domain)``.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..core import default_float_dtype
from ..internal import check_real
from ..pde import Ball, Box
from ..pde.geometry import Disk, Rectangle
from ._losses import _check_network


def _vector(value, name: str) -> tuple[float, ...]:
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"`{name}` must be concrete numbers (the distance is built at Python time), got a traced array.")
    try:
        v = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a sequence of numbers, got {value!r}.") from None
    if v.ndim != 1 or v.shape[0] == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"`{name}` must be a vector (d,) of finite numbers, got {value!r}.")
    return tuple(float(a) for a in v)


def _product(factors: Float[Array, " d"]) -> Float[Array, ""]:
    """``prod_i factors_i`` as a chain of multiplications (Taylor mode has no rule for
    ``reduce_prod``)."""
    out = factors[0]
    for i in range(1, factors.shape[0]):
        out = out * factors[i]
    return out


class BoxDistance(eqx.Module):
    """``d(x) = prod_i 4 (x_i - a_i)(b_i - x_i) / (b_i - a_i)^2`` on the box ``[a, b]``.

    Zero on every face, positive inside, 1 at the centre (its maximum), negative outside:
    the product form of Lagaris et al. (1998, Sec. III) for a box, normalized to maximum
    1. Its gradient on a face is not of unit length (it is ``4 / (b_i - a_i)`` times the
    other factors, so it vanishes at the corners); Sukumar & Srivastava (2022, Sec. 3)
    discuss normalized alternatives.

    Args:
        lower, upper: the corners ``a`` and ``b`` (concrete numbers, ``upper > lower``).

    Example:
        >>> d = BoxDistance([0.0, 0.0], [1.0, 2.0])
        >>> float(d(jnp.array([0.5, 1.0]))), float(d(jnp.array([0.0, 0.3])))
        (1.0, 0.0)
    """

    lower: tuple[float, ...] = eqx.field(static=True)
    upper: tuple[float, ...] = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, lower, upper):
        lower, upper = _vector(lower, "lower"), _vector(upper, "upper")
        if len(lower) != len(upper) or not all(b > a for a, b in zip(lower, upper)):
            raise ValueError(
                f"BoxDistance needs `lower` and `upper` of equal length with upper > lower in "
                f"every coordinate, got {list(lower)} and {list(upper)}."
            )
        self.lower, self.upper, self.dim = lower, upper, len(lower)

    @classmethod
    def of(cls, domain: Box | Rectangle) -> BoxDistance:
        """The distance of a ``pde.Box`` or a ``pde.geometry.Rectangle`` (concrete bounds)."""
        if not isinstance(domain, (Box, Rectangle)):
            raise TypeError(
                "BoxDistance.of needs a jaxsci.pde.Box or jaxsci.pde.geometry.Rectangle, got "
                f"{type(domain).__name__}."
            )
        return cls(domain.lower, domain.upper)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        if x.shape != (self.dim,):
            raise ValueError(f"BoxDistance in {self.dim} dimensions got a point of shape {x.shape}.")
        a = jnp.asarray(self.lower, x.dtype)
        b = jnp.asarray(self.upper, x.dtype)
        return _product(4 * (x - a) * (b - x) / (b - a) ** 2)


class BallDistance(eqx.Module):
    """``d(x) = (r^2 - |x - c|^2) / r^2`` on the ball ``|x - c| <= r``.

    Zero on the sphere, positive inside, 1 at the centre (its maximum), negative outside
    (Lagaris et al. 1998, Sec. III; the ansatz ``(1 - |x|^2) net(x)`` of the unit ball is
    the case ``c = 0``, ``r = 1``).

    Args:
        center: the centre ``c`` (concrete numbers).
        radius: ``r > 0``.

    Example:
        >>> d = BallDistance([0.0, 0.0], 2.0)
        >>> float(d(jnp.zeros(2))), float(d(jnp.array([0.0, 2.0])))
        (1.0, 0.0)
    """

    center: tuple[float, ...] = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, center, radius):
        self.center = _vector(center, "center")
        if isinstance(radius, jax.core.Tracer):
            raise TypeError("`radius` must be a concrete number (the distance is built at Python time), got a traced array.")
        if isinstance(radius, (np.ndarray, jax.Array)) and np.shape(radius) == ():
            radius = float(radius)
        self.radius = check_real(radius, "radius", low=0.0, low_inclusive=False)
        self.dim = len(self.center)

    @classmethod
    def of(cls, domain: Ball | Disk) -> BallDistance:
        """The distance of a ``pde.Ball`` (centred at 0) or a ``pde.geometry.Disk``."""
        if isinstance(domain, Ball):
            return cls((0.0,) * domain.dim, domain.radius)
        if isinstance(domain, Disk):
            return cls(domain.center, domain.radius)
        raise TypeError(
            f"BallDistance.of needs a jaxsci.pde.Ball or jaxsci.pde.geometry.Disk, got {type(domain).__name__}."
        )

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        if x.shape != (self.dim,):
            raise ValueError(f"BallDistance in {self.dim} dimensions got a point of shape {x.shape}.")
        r = x - jnp.asarray(self.center, x.dtype)
        return 1 - jnp.sum(r * r) / self.radius**2


def _as_distance(distance):
    if isinstance(distance, (Box, Rectangle)):
        return BoxDistance.of(distance)
    if isinstance(distance, (Ball, Disk)):
        return BallDistance.of(distance)
    if not callable(distance):
        raise TypeError(
            "`distance` must be a callable x -> scalar that vanishes on the boundary (e.g. "
            "pinn.BoxDistance(lower, upper)) or a domain: pde.Box, pde.Ball, "
            f"pde.geometry.Rectangle or pde.geometry.Disk; got {type(distance).__name__}."
        )
    return distance


def _frozen(tree):
    """``tree`` with its arrays under ``stop_gradient`` (not trained)."""
    dynamic, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.lax.stop_gradient(dynamic), static)


class DirichletAnsatz(eqx.Module):
    """``u(x) = g(x) + d(x) net(x)``: a network that meets Dirichlet data exactly.

    ``d`` vanishes on the boundary and ``g`` extends the boundary data into the domain
    (``g = 0`` by default, for homogeneous data), so ``u = g`` on the boundary for every
    parameter value (Lagaris, Likas & Fotiadis, IEEE Trans. Neural Netw. 1998, Sec. III;
    Sukumar & Srivastava, CMAME 2022, Eq. 5 with a distance function of Sec. 3).

    The ansatz is an equinox module holding ``net``: train it directly (``core.fit``,
    ``pinn.train``) and only the network's arrays change: ``distance`` and
    ``boundary_value`` are evaluated with their arrays under ``jax.lax.stop_gradient``.

    Args:
        net: a callable of one point returning a scalar (e.g. :class:`PINNMLP`).
        distance: a callable ``x -> scalar``, zero on the boundary and positive inside, or a
            domain (``pde.Box``, ``pde.geometry.Rectangle``: :class:`BoxDistance`;
            ``pde.Ball``, ``pde.geometry.Disk``: :class:`BallDistance`).
        boundary_value: ``None`` (``g = 0``) or a callable ``x -> scalar`` equal to the
            Dirichlet data on the boundary.

    Example:
        >>> from jaxsci import pde
        >>> u = DirichletAnsatz(lambda x: jnp.ones(()), pde.Box([0.0, 0.0], [1.0, 1.0]),
        ...                     lambda x: x[0] + x[1])
        >>> float(u(jnp.array([1.0, 0.25]))), float(u(jnp.array([0.5, 0.5])))
        (1.25, 2.0)
    """

    net: Callable
    distance: Callable
    boundary_value: Callable | None

    def __init__(self, net: Callable, distance, boundary_value: Callable | None = None):
        if not callable(net):
            raise TypeError(f"`net` must be a callable of one point, got {type(net).__name__}.")
        distance = _as_distance(distance)
        if boundary_value is not None and not callable(boundary_value):
            raise TypeError(
                "`boundary_value` must be None (zero data) or a callable x -> scalar that "
                f"equals the Dirichlet data on the boundary, got {type(boundary_value).__name__}."
            )
        if isinstance(distance, (BoxDistance, BallDistance)):
            dtype = default_float_dtype()
            _check_network(net, distance.dim, dtype, "net", "the domain's")
            if boundary_value is not None:
                _check_network(boundary_value, distance.dim, dtype, "boundary_value", "the domain's")
        self.net, self.distance, self.boundary_value = net, distance, boundary_value

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        d = _frozen(self.distance)(x)
        u = d * self.net(x)
        if self.boundary_value is not None:
            u = _frozen(self.boundary_value)(x) + u
        return u
