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
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import taylor
from ..internal import check_positive, check_positive_int
from ._domain import Box, SpaceTime, _check_real
from ._problem import PDEProblem, check_derivatives


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
        (lap,) = check_derivatives(self, derivatives)
        return -lap - self.forcing(p)

    def boundary_value(self, p):
        return self.solution(p)

    def hard_constraint(self, net):
        def g(p):
            x, y = p[0], p[1]
            u = lambda a, b: self.solution(jnp.stack([a, b]))
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
        check_positive(t_final, "t_final")
        x_range = tuple(x_range)
        if len(x_range) != 2 or not _check_real(x_range[1], "x_range[1]") > _check_real(
            x_range[0], "x_range[0]"
        ):
            raise ValueError(f"`x_range` must be (x_min, x_max) with x_max > x_min, got {x_range}.")
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
        dispersive, u_x = check_derivatives(self, derivatives)
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
        check_positive(width, "width")
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
        transport, u_x = check_derivatives(self, derivatives)  # u_t - nu u_xx, u_x
        return transport + u * u_x

    def initial_value(self, p):
        return -jnp.sin(jnp.pi * p[0])

    def hard_constraint(self, net):
        """``u = -sin(pi x) + t (1 - x^2) net(x, t)``: initial and boundary data exact."""
        return lambda p: -jnp.sin(jnp.pi * p[0]) + p[1] * (1.0 - p[0] ** 2) * net(p)

    def test_points(self, n: int = 0, *args, key=None):
        """The classic 256 x 100 evaluation grid of x in [-1, 1], t in (0, 1] (``n`` and
        ``key`` are ignored)."""
        x = jnp.linspace(-1.0, 1.0, 256)
        t = jnp.linspace(0.01, 1.0, 100)
        xx, tt = jnp.meshgrid(x, t, indexing="ij")
        return jnp.stack([xx.ravel(), tt.ravel()], axis=1)


__all__ = ["AllenCahn1D", "Burgers1D", "KdVSoliton", "Poisson2D"]


class AllenCahn1D(PDEProblem):
    """``u_t - eps u_xx + 5 u^3 - 5 u = 0``, ``x`` in ``[-1, 1]`` periodic, ``t`` in ``[0, 1]``,
    ``u(x, 0) = x^2 cos(pi x)``, ``eps = 1e-4``: the setting of Wang, Sankaran, Perdikaris
    ("Respecting causality", CMAME 2024; jaxpi).

    The reference is a float64 Fourier pseudo-spectral solve with ETDRK4 (Cox & Matthews
    2002, coefficients of Kassam & Trefethen 2005), ``num_modes`` grid points and time step
    ``dt``, saved every ``save_dt``. ``solution`` interpolates it: spectrally in ``x``,
    by cubic Lagrange interpolation in ``t`` between saved times.

    Accuracy: the periodic extension of ``u0`` has a kink at ``x = +-1`` (``u0'`` jumps
    from -2 to 2), so Fourier convergence in space is only algebraic until diffusion smooths
    it. Measured against a 4096-mode solve, the default (2048 modes, dt = 1e-4) is within
    3.5e-4 everywhere, 8e-6 for t >= 0.1 and 7e-8 for t >= 0.5 (RMS 8e-7); time stepping
    is converged to 1e-10. Construction takes about 10 s on one CPU core.

    Precision: the solve runs in float64 NumPy whatever the x64 setting; ``coefficients``
    and ``solution`` (a JAX function, for use under ``jit``) are in the caller's precision,
    so with x64 off they are rounded to float32 (unit roundoff 6e-8). Enable x64 to judge
    errors below about 1e-6 against it.
    """

    eps: float
    coefficients: Float[Array, "s m"]  # rfft coefficients of the saved snapshots
    save_dt: float
    num_modes: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    domain: SpaceTime
    operators: tuple

    def __init__(self, eps: float = 1e-4, num_modes: int = 2048, dt: float = 1e-4, save_dt: float = 0.005):
        import numpy as np

        from ._etdrk4 import etdrk4_solve

        check_positive(eps, "eps")
        check_positive_int(num_modes, "num_modes")
        check_positive(dt, "dt")
        check_positive(save_dt, "save_dt")
        ratio = save_dt / dt
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(f"`save_dt` ({save_dt}) must be a whole multiple of `dt` ({dt}).")
        self.eps, self.num_modes, self.save_dt = float(eps), num_modes, float(save_dt)
        x = -1.0 + 2.0 * np.arange(num_modes) / num_modes
        k = np.pi * np.arange(num_modes // 2 + 1)  # wavenumbers for period 2
        linear = -eps * k**2 + 5.0

        def nonlinear(v):
            u = np.fft.irfft(v, n=num_modes)
            return np.fft.rfft(-5.0 * u**3)

        saved = etdrk4_solve(x**2 * np.cos(np.pi * x), linear, nonlinear, dt,
                             int(round(1.0 / dt)), int(round(ratio)))
        self.coefficients = jnp.asarray(saved)
        self.name = "1D Allen-Cahn (periodic)"
        self.domain = SpaceTime(Box([-1.0], [1.0]), 0.0, 1.0)
        self.operators = (taylor.time_derivative(2, 1) - self.eps * taylor.partial(2, {0: 2}),)

    def _at_snapshot(self, x, index):
        """The Fourier series of snapshot ``index`` evaluated at ``x`` (period 2 on [-1, 1))."""
        c = self.coefficients[index]
        m = jnp.arange(c.shape[0])
        dtype = jnp.result_type(x)
        weights = jnp.where((m == 0) | (m == self.num_modes // 2), 1.0, 2.0).astype(dtype)
        arg = jnp.pi * m.astype(dtype) * (x + 1.0)
        # Re(c e^{i arg}) = Re c cos(arg) - Im c sin(arg)
        real = jnp.real(c).astype(dtype) * jnp.cos(arg) - jnp.imag(c).astype(dtype) * jnp.sin(arg)
        return jnp.sum(weights * real) / self.num_modes

    def solution(self, p):
        x, t = p[0], p[1]
        s = t / self.save_dt
        last = self.coefficients.shape[0] - 1
        i0 = jnp.clip(jnp.floor(s).astype(jnp.int32) - 1, 0, last - 3)
        nodes = i0 + jnp.arange(4, dtype=i0.dtype)
        values = jax.vmap(lambda i: self._at_snapshot(x, i))(nodes)
        u = s - i0.astype(p.dtype)  # position among the nodes 0, 1, 2, 3
        weights = []
        for j in range(4):  # cubic Lagrange basis polynomials
            w = 1.0
            for m in range(4):
                if m != j:
                    w = w * (u - m) / (j - m)
            weights.append(w)
        return jnp.sum(jnp.stack(weights) * values)

    def residual(self, p, u, derivatives):
        (linear,) = check_derivatives(self, derivatives)
        return linear + 5.0 * u**3 - 5.0 * u

    def initial_value(self, p):
        return p[0] ** 2 * jnp.cos(jnp.pi * p[0])

    def hard_constraint(self, net):
        """Exact periodicity in x through the embedding ``(cos(pi x), sin(pi x), t)`` and the
        initial condition through ``u0(x) + t net(...)``. ``net`` takes 3 inputs."""

        def constrained(p):
            x, t = p[0], p[1]
            features = jnp.stack([jnp.cos(jnp.pi * x), jnp.sin(jnp.pi * x), t])
            return self.initial_value(p) + t * net(features)

        return constrained

    def test_points(self, n: int = 0, *args, key=None):
        """The saved-snapshot grid: ``num_modes`` points in x times every saved time (``n``
        and ``key`` are ignored)."""
        x = -1.0 + 2.0 * jnp.arange(self.num_modes, dtype=float) / self.num_modes
        t = self.save_dt * jnp.arange(self.coefficients.shape[0], dtype=float)
        xx, tt = jnp.meshgrid(x, t, indexing="ij")
        return jnp.stack([xx.ravel(), tt.ravel()], axis=1)

    def grid_values(self) -> Float[Array, " n"]:
        """The reference at :meth:`test_points` (same order, x-major), by one inverse FFT of
        each saved snapshot: the cheap way to score a network on the whole grid, where
        evaluating :meth:`solution` point by point costs ``num_modes`` terms per point."""
        values = jnp.fft.irfft(self.coefficients, n=self.num_modes, axis=1)
        return values.T.ravel()
