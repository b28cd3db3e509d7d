"""Classical low-dimensional PINN benchmark problems with exact or quadrature references.

* :class:`Poisson2D`: ``-Lap u = f`` on ``[0, 1]^2`` with a manufactured solution and
  Dirichlet data.
* :class:`KdVSoliton`: ``u_t + 6 u u_x + u_xxx = 0`` with the exact one-soliton solution
  ``u = (c/2) sech^2(sqrt(c)/2 (x - c t - x0))`` (Korteweg & de Vries 1895; a third-order
  operator).
* :class:`Burgers1D`: ``u_t + u u_x - nu u_xx = 0`` on ``[-1, 1] x [0, 1]``,
  ``u(x, 0) = -sin(pi x)``, ``u(+-1, t) = 0``, ``nu = 0.01/pi`` (the setting of Raissi,
  Perdikaris, Karniadakis, J. Comput. Phys. 2019), with the reference solution from the
  Hopf-Cole transformation (Hopf 1950; Cole 1951) evaluated by quadrature, as in
  Basdevant et al., Computers & Fluids 1986.

Points are ``(x, t)`` / ``(x, y)`` with time last.
"""

from __future__ import annotations

import equinox as eqx

import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import taylor
from ..core import check_positive, check_positive_int
from ._domain import Box, SpaceTime
from ._problem import PDEProblem


class Poisson2D(PDEProblem):
    """``-Lap u = f`` on the unit square with ``u* = sin(pi x) sin(2 pi y) + x y exp(x - y)``.

    The boundary data are ``u*`` restricted to the boundary; ``hard_constraint`` builds
    ``u = g(x, y) + x (1 - x) y (1 - y) net(x, y)`` with ``g`` the bilinear-blended
    transfinite interpolant of the boundary data, exact on the boundary.
    """

    name: str = eqx.field(static=True)
    domain: Box
    operators: tuple

    def __init__(self):
        self.name = "2D Poisson (manufactured)"
        self.domain = Box([0.0, 0.0], [1.0, 1.0])
        self.operators = (taylor.laplacian(2),)

    def solution(self, p):
        x, y = p[0], p[1]
        return jnp.sin(jnp.pi * x) * jnp.sin(2 * jnp.pi * y) + x * y * jnp.exp(x - y)

    def forcing(self, p):
        """``f = -Lap u*``, written out by hand."""
        x, y = p[0], p[1]
        sines = 5 * jnp.pi**2 * jnp.sin(jnp.pi * x) * jnp.sin(2 * jnp.pi * y)
        # Lap(x y e^{x-y}) = e^{x-y} ((x + 2) y + x (y - 2))
        return sines - jnp.exp(x - y) * ((x + 2.0) * y + x * (y - 2.0))

    def residual(self, p, u, derivatives):
        (lap,) = derivatives
        return -lap - self.forcing(p)

    def boundary_value(self, p):
        return self.solution(p)

    def hard_constraint(self, net):
        def g(p):
            x, y = p[0], p[1]
            u = lambda a, b: self.solution(jnp.stack([a, b]))  # noqa: E731
            edges = (1 - x) * u(0.0, y) + x * u(1.0, y) + (1 - y) * u(x, 0.0) + y * u(x, 1.0)
            corners = ((1 - x) * (1 - y) * u(0.0, 0.0) + x * (1 - y) * u(1.0, 0.0)
                       + (1 - x) * y * u(0.0, 1.0) + x * y * u(1.0, 1.0))
            return edges - corners

        def constrained(p):
            x, y = p[0], p[1]
            return g(p) + x * (1 - x) * y * (1 - y) * net(p)

        return constrained


class KdVSoliton(PDEProblem):
    """``u_t + 6 u u_x + u_xxx = 0`` on ``[x_min, x_max] x [0, T]`` with the one-soliton
    solution of speed ``c``; initial data ``u*(x, 0)`` and Dirichlet data from ``u*``."""

    speed: float
    x0: float
    name: str = eqx.field(static=True)
    domain: SpaceTime
    operators: tuple

    def __init__(self, speed: float = 1.0, x0: float = -2.0, x_range=(-8.0, 8.0), t_final: float = 2.0):
        check_positive(speed, "speed")
        self.speed, self.x0 = float(speed), float(x0)
        self.name = f"KdV soliton (c={speed})"
        self.domain = SpaceTime(Box([x_range[0]], [x_range[1]]), 0.0, t_final)
        # operators: (u_t + u_xxx, u_x); the residual adds 6 u u_x
        self.operators = (
            taylor.time_derivative(2, 1) + taylor.partial(2, {0: 3}),
            taylor.partial(2, {0: 1}),
        )

    def solution(self, p):
        x, t = p[0], p[1]
        arg = 0.5 * jnp.sqrt(self.speed) * (x - self.speed * t - self.x0)
        return 0.5 * self.speed / jnp.cosh(arg) ** 2

    def residual(self, p, u, derivatives):
        dispersive, u_x = derivatives
        return dispersive + 6.0 * u * u_x

    def initial_value(self, p):
        return self.solution(p.at[1].set(0.0))

    def hard_constraint(self, net):
        """``u = u*(x, 0) + t net(x, t)``: the initial condition holds exactly."""
        return lambda p: self.initial_value(p) + p[1] * net(p)


class Burgers1D(PDEProblem):
    """Viscous Burgers ``u_t + u u_x - nu u_xx = 0`` with ``u(x, 0) = -sin(pi x)``.

    ``solution`` evaluates the Hopf-Cole formula

        u(x, t) = - int sin(pi(x - s)) F(x - s) G(s) ds / int F(x - s) G(s) ds,
        F(y) = exp(-cos(pi y) / (2 pi nu)),  G(s) = exp(-s^2 / (4 nu t)),

    by the trapezoidal rule on ``s in [-L, L]``, ``L = width * sqrt(4 nu t)`` (the
    integrands are smooth and Gaussian-decaying, so the rule converges spectrally), in
    log-space to survive ``exp(+-1/(2 pi nu))``. The formula solves the problem on the
    whole line; the odd, 2-periodic initial data make ``u(+-1, t) = 0`` hold exactly.
    """

    nu: float
    num_nodes: int = eqx.field(static=True)
    width: float = eqx.field(static=True)
    name: str = eqx.field(static=True)
    domain: SpaceTime
    operators: tuple

    def __init__(self, nu: float = 0.01 / jnp.pi, num_nodes: int = 2001, width: float = 12.0):
        check_positive(nu, "nu")
        check_positive_int(num_nodes, "num_nodes")
        self.nu, self.num_nodes, self.width = float(nu), num_nodes, float(width)
        self.name = "1D viscous Burgers"
        self.domain = SpaceTime(Box([-1.0], [1.0]), 0.0, 1.0)
        self.operators = (
            taylor.time_derivative(2, 1) - self.nu * taylor.partial(2, {0: 2}),
            taylor.partial(2, {0: 1}),
        )

    def solution(self, p: Float[Array, " 2"]) -> Float[Array, ""]:
        x, t = p[0], p[1]
        t_safe = jnp.maximum(t, 1e-12)
        scale = jnp.sqrt(4.0 * self.nu * t_safe)
        s = scale * jnp.linspace(-self.width, self.width, self.num_nodes, dtype=p.dtype)
        y = x - s
        log_w = -jnp.cos(jnp.pi * y) / (2 * jnp.pi * self.nu) - (s / scale) ** 2
        w = jnp.exp(log_w - jnp.max(log_w))
        u = -jnp.sum(jnp.sin(jnp.pi * y) * w) / jnp.sum(w)
        return jnp.where(t > 0, u, -jnp.sin(jnp.pi * x))

    def residual(self, p, u, derivatives):
        transport, u_x = derivatives  # u_t - nu u_xx, u_x
        return transport + u * u_x

    def initial_value(self, p):
        return -jnp.sin(jnp.pi * p[0])

    def hard_constraint(self, net):
        """``u = -sin(pi x) + t (1 - x^2) net(x, t)``: initial and boundary data exact."""
        return lambda p: -jnp.sin(jnp.pi * p[0]) + p[1] * (1.0 - p[0] ** 2) * net(p)

    def test_points(self, key, n: int = 0):
        """The classic 256 x 100 evaluation grid of x in [-1, 1], t in (0, 1]."""
        x = jnp.linspace(-1.0, 1.0, 256)
        t = jnp.linspace(0.01, 1.0, 100)
        xx, tt = jnp.meshgrid(x, t, indexing="ij")
        return jnp.stack([xx.ravel(), tt.ravel()], axis=1)


__all__ = ["Burgers1D", "KdVSoliton", "Poisson2D"]
