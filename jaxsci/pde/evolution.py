"""Time-dependent problems: periodic on ``[0, 2pi)^dim`` (the TENG benchmark problems) and
bounded on ``[0, 1]^dim``.

``u_t = F(x, u, (L_1[u](x), ..., L_k[u](x)))``: the right-hand side of every problem is
written, as in :class:`jaxsci.pde.PDEProblem`, pointwise from ``u(x)`` and a few linear
differential operators ``L_j`` of :mod:`jaxsci.taylor` (``problem.operators``), which any
derivative backend evaluates (:class:`jaxsci.taylor.Exact` by default); ``operator(u, x)``
is the value ``L[u](x)`` the TENG steppers need (Chen et al., ICML 2024, Sec. 5, the
equations and coefficients of the benchmark). :class:`AbstractEvolutionProblem` is the base
of the problems:

* :class:`Heat2D`: ``u_t = 0.1 Lap u``; exact solution by Fourier decay.
* :class:`AllenCahn2D`: ``u_t = 0.005 Lap u + u - u^3``.
* :class:`Burgers2D`: ``u_t = 0.01 Lap u - u (u_x + u_y)``.
* :class:`PeriodicHeat`: ``u_t = nu Lap u`` on ``[0, 2pi)^dim``, any dimension (exact).
* :class:`BoxHeat`, :class:`BoxAllenCahn`: on the unit box ``[0, 1]^dim`` with homogeneous
  Dirichlet or Neumann conditions (:class:`AbstractBoxProblem`; exact solution, and the
  ETDRK4 solution of the odd or even extension).

Each initial condition is a sum of a few Fourier modes ``sum_j a_j cos(kx_j x + ky_j y +
phi_j)`` (listed in the class docstrings); ``problem.held_out()`` is the same equation with
a different initial condition of the same kind, for choosing settings on data that is not
scored. ``reference(times)`` returns the exact solution (heat) or a pseudo-spectral ETDRK4
solution on dealiased Fourier coefficients (Allen-Cahn, Burgers), converged by refinement
(tests/teng/test_evolution.py). References are computed and returned in float64 NumPy
whatever the caller's ``jax_enable_x64`` setting.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import taylor
from ..internal import check_positive_int
from ._evolution_base import (
    AbstractEvolutionProblem as AbstractEvolutionProblem,
    ReferenceSolution as ReferenceSolution,
    _AllenCahn,
    _check_coefficient,
    _check_times,
    _Heat,
    spectral_reference as spectral_reference,
)
from ._evolution_box import (
    AbstractBoxProblem as AbstractBoxProblem,
    BoxAllenCahn as BoxAllenCahn,
    BoxHeat as BoxHeat,
    box_boundary_points as box_boundary_points,
    box_grid as box_grid,
)

TWO_PI = 2.0 * np.pi
Modes = tuple[tuple[float, int, int, float], ...]


def fourier_modes(modes: Modes, x: Float[Array, "n 2"]) -> Float[Array, " n"]:
    """``sum_j a_j cos(kx_j x + ky_j y + phi_j)`` for ``modes = ((a, kx, ky, phi), ...)``.

    Example:
        >>> fourier_modes(((2.0, 1, 0, 0.0),), jnp.zeros((3, 2))).tolist()
        [2.0, 2.0, 2.0]
    """
    out = jnp.zeros(x.shape[:-1], dtype=x.dtype)
    for a, kx, ky, ph in modes:
        out = out + a * jnp.cos(kx * x[..., 0] + ky * x[..., 1] + ph)
    return out


def _fourier_modes_np(modes: Modes, x: np.ndarray, decay=None) -> np.ndarray:
    """:func:`fourier_modes` in float64 NumPy; mode ``j`` times ``decay(kx_j**2 + ky_j**2)``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[:-1], dtype=np.float64)
    for a, kx, ky, ph in modes:
        factor = 1.0 if decay is None else decay(kx**2 + ky**2)
        out += a * factor * np.cos(kx * x[..., 0] + ky * x[..., 1] + ph)
    return out


class _SpectralProblem(AbstractEvolutionProblem):
    """Shared parts on ``[0, 2pi)^2``: the initial condition from ``modes`` and the ETDRK4
    reference for ``u_t = linear u + nonlinear(u)`` (diagonal ``linear`` in Fourier space)."""

    modes: eqx.AbstractVar[Modes]  # pyright: ignore[reportRedeclaration]
    held_out_modes: ClassVar[Modes] = ()

    @property
    def dim(self) -> int:
        return 2

    def held_out(self):
        """The same equation with the held-out initial condition ``held_out_modes`` (same
        wavenumber shells and amplitudes, other directions and phases): for choosing a
        method's settings on an initial condition that is not the one reported."""
        return dataclasses.replace(self, modes=self.held_out_modes)

    def initial(self, x: Float[Array, "n 2"]) -> Float[Array, " n"]:
        """``u(x, 0)``."""
        return fourier_modes(self.modes, x)

    @abc.abstractmethod
    def _linear(self, k2: np.ndarray) -> np.ndarray:
        """The Fourier symbol of the linear part at ``|k|^2 = k2`` (float64 NumPy)."""

    @abc.abstractmethod
    def _nonlinear(self, u: np.ndarray, kx, ky) -> np.ndarray:
        """The ``rfft2`` coefficients of the nonlinear part from grid values ``u``."""

    def reference(self, times, *, n: int = 128, dt: float = 4e-3) -> ReferenceSolution:
        """Float64 ETDRK4 pseudo-spectral solution on an ``n x n`` grid with step ``dt``.

        Computed in float64 NumPy whatever the x64 setting (the initial condition too).

        Args:
            times: increasing output times (multiples of ``dt``).
            n: grid size (even); the nonlinear term is dealiased by the 2/3 rule.
            dt: ETDRK4 time step.

        Returns:
            A :class:`ReferenceSolution` evaluable at any points and the given times.
        """
        return spectral_reference(lambda p: _fourier_modes_np(self.modes, p), self._linear,
                                  self._nonlinear, times, n=n, dt=dt)


class Heat2D(_SpectralProblem):
    """Periodic heat equation ``u_t = nu (u_xx + u_yy)`` on ``[0, 2pi)^2``.

    Initial condition ``u0 = sin x + 0.5 cos 2y + 0.3 sin(x + y)``; each Fourier mode decays
    as ``exp(-nu |k|^2 t)``, which gives the exact solution :meth:`exact`. Held-out initial
    condition: ``0.8 cos(y + 0.6) + 0.6 cos(2x - 1) + 0.4 cos(x - y + 0.3)``.

    Args:
        nu: the diffusivity, ``> 0``.

    Example:
        >>> p = Heat2D(); p.exact(jnp.zeros((3, 2)), 1.0).shape
        (3,)
    """

    nu: float = 0.1
    modes: Modes = eqx.field(
        static=True,
        default=((1.0, 1, 0, -np.pi / 2), (0.5, 0, 2, 0.0), (0.3, 1, 1, -np.pi / 2)),
    )
    held_out_modes: ClassVar[Modes] = ((0.8, 0, 1, 0.6), (0.6, 2, 0, -1.0), (0.4, 1, -1, 0.3))

    def __check_init__(self):
        _check_coefficient(self.nu, "nu")

    @property
    def operators(self) -> tuple[taylor.DifferentialOperator, ...]:
        return (taylor.laplacian(2),)

    def rhs(self, x, u, derivatives):
        """``nu Lap u``."""
        (lap,) = derivatives
        return self.nu * lap

    def exact(self, x: Float[Array, "n 2"], t: float | Array) -> Float[Array, " n"]:
        """``sum_j a_j exp(-nu |k_j|^2 t) cos(k_j . x + phi_j)``."""
        out = jnp.zeros(x.shape[:-1], dtype=x.dtype)
        for a, kx, ky, ph in self.modes:
            decay = jnp.exp(-self.nu * (kx**2 + ky**2) * t)
            out = out + a * decay * jnp.cos(kx * x[..., 0] + ky * x[..., 1] + ph)
        return out

    def reference(self, times, **spectral) -> ReferenceSolution:
        """The exact solution at ``times``, in float64 NumPy (with ``spectral`` options: the
        ETDRK4 solver instead, used to check that solver against the exact decay)."""
        if spectral:
            return super().reference(times, **spectral)
        times = _check_times(times)
        return ReferenceSolution(times, lambda p, i: _fourier_modes_np(
            self.modes, p, decay=lambda k2: np.exp(-self.nu * k2 * times[i])))

    def _linear(self, k2):
        return -self.nu * k2

    def _nonlinear(self, u, kx, ky):
        return np.zeros(kx.shape, dtype=complex)


class AllenCahn2D(_SpectralProblem, _AllenCahn):
    """Periodic Allen-Cahn equation ``u_t = eps Lap u + u - u^3`` on ``[0, 2pi)^2``.

    ``eps = 0.005``; initial condition ``u0 = 0.02 sin x sin y + 0.01 cos(2x + y)``: the
    reaction term amplifies it about 40-fold by ``t = 4`` (max |u| about 0.7) and the cubic
    term starts to saturate it into smooth fronts. Reference: :meth:`reference`. Held-out
    initial condition: ``0.015 cos(x + 0.4) + 0.01 cos(y - 1.2) + 0.008 cos(x + 2y + 0.5)``.

    Args:
        eps: the diffusion coefficient, ``> 0``.

    Example:
        >>> AllenCahn2D().operator(lambda x: jnp.sin(x[0]), jnp.zeros(2)).shape
        ()
    """

    eps: float = 0.005
    modes: Modes = eqx.field(
        static=True,
        default=((0.01, 1, -1, 0.0), (-0.01, 1, 1, 0.0), (0.01, 2, 1, 0.0)),
    )
    held_out_modes: ClassVar[Modes] = ((0.015, 1, 0, 0.4), (0.01, 0, 1, -1.2), (0.008, 1, 2, 0.5))

    def __check_init__(self):
        _check_coefficient(self.eps, "eps")

    def _linear(self, k2):
        return 1.0 - self.eps * k2

    def _nonlinear(self, u, kx, ky):
        return -np.fft.rfft2(u**3)


class Burgers2D(_SpectralProblem):
    """Periodic viscous Burgers equation ``u_t = nu Lap u - u (u_x + u_y)`` on ``[0, 2pi)^2``.

    ``nu = 0.01``; initial condition ``u0 = 0.1 sin x + 0.06 cos y + 0.03 sin(x + 2y)``: the
    advection moves and steepens it (relative change about 0.4 by ``t = 4``) while it stays
    resolved on a 128^2 grid to 1e-8.
    Reference: :meth:`reference` (ETDRK4, pseudo-spectral, the advection in the
    conservative form ``-(1/2)(d_x + d_y) u^2``). Held-out initial condition:
    ``0.08 cos(y + 0.5) + 0.07 cos(x - 0.8) + 0.03 cos(2x + y + 1.1)``.

    Args:
        nu: the viscosity, ``> 0``.

    Example:
        >>> [op.max_order for op in Burgers2D().operators]
        [2, 1]
    """

    nu: float = 0.01
    modes: Modes = eqx.field(
        static=True,
        default=((0.1, 1, 0, -np.pi / 2), (0.06, 0, 1, 0.0), (0.03, 1, 2, -np.pi / 2)),
    )
    held_out_modes: ClassVar[Modes] = ((0.08, 0, 1, 0.5), (0.07, 1, 0, -0.8), (0.03, 2, 1, 1.1))

    def __check_init__(self):
        _check_coefficient(self.nu, "nu")

    @property
    def operators(self) -> tuple[taylor.DifferentialOperator, ...]:
        # Lap u and u_x + u_y
        return (taylor.laplacian(2), taylor.partial(2, {0: 1}) + taylor.partial(2, {1: 1}))

    def rhs(self, x, u, derivatives):
        """``nu Lap u - u (u_x + u_y)``."""
        lap, advection = derivatives
        return self.nu * lap - u * advection

    def _linear(self, k2):
        return -self.nu * k2

    def _nonlinear(self, u, kx, ky):
        return -0.5j * (kx + ky) * np.fft.rfft2(u * u)


PeriodicModes = tuple[tuple[float, tuple[int, ...], float], ...]


class PeriodicHeat(_Heat):
    """Periodic heat equation ``u_t = nu Lap u`` on ``[0, 2pi)^dim`` in any dimension.

    The initial condition is ``sum_j a_j cos(k_j . x + phi_j)`` for ``modes = ((a_j, k_j,
    phi_j), ...)`` (``k_j`` an integer vector of length ``dim``); each mode decays as
    ``exp(-nu |k_j|^2 t)`` (:meth:`exact`). The default modes are
    ``sin x_1 + 0.5 cos(2 x_dim) + 0.3 sin(x_1 + ... + x_dim)``; with ``dim=2`` the problem
    is :class:`Heat2D` (the same initial condition, operator and solution). The right-hand
    side is ``nu`` times ``jaxsci.taylor.laplacian(dim)``.

    Args:
        dim: the spatial dimension (>= 1).
        nu: the diffusivity, ``> 0``.
        modes: the Fourier modes of the initial condition (default above).

    Example:
        >>> p = PeriodicHeat(3); p.exact(jnp.zeros((4, 3)), 1.0).shape
        (4,)
    """

    space_dim: int = eqx.field(static=True)
    nu: float
    modes: PeriodicModes = eqx.field(static=True)

    def __init__(self, dim: int, nu: float = 0.1, modes: PeriodicModes | None = None):
        check_positive_int(dim, "dim")
        _check_coefficient(nu, "nu")
        self.space_dim = int(dim)
        self.nu = nu
        if modes is None:
            last = tuple(2 if i == dim - 1 else 0 for i in range(dim))
            first = tuple(1 if i == 0 else 0 for i in range(dim))
            modes = ((1.0, first, -np.pi / 2), (0.5, last, 0.0),
                     (0.3, (1,) * dim, -np.pi / 2))
        modes = tuple((float(a), tuple(int(k) for k in ks), float(ph)) for a, ks, ph in modes)
        if any(len(ks) != dim for _, ks, _ in modes):
            raise ValueError(f"every wavevector of `modes` must have length dim={dim}.")
        self.modes = modes

    def held_out(self) -> PeriodicHeat:
        """The same equation with other directions and phases on the default modes' shells
        and amplitudes: ``cos(x_dim + 0.6) + 0.5 cos(2 x_1 - 1) + 0.3 cos(x_1 - x_2 + x_3
        - ... + 0.3)``, for choosing settings on an initial condition that is not scored."""
        d = self.space_dim
        last = tuple(1 if i == d - 1 else 0 for i in range(d))
        first = tuple(2 if i == 0 else 0 for i in range(d))
        alternating = tuple(1 if i % 2 == 0 else -1 for i in range(d))
        return PeriodicHeat(d, self.nu, ((1.0, last, 0.6), (0.5, first, -1.0),
                                         (0.3, alternating, 0.3)))

    def initial(self, x: Float[Array, "n d"]) -> Float[Array, " n"]:
        """``u(x, 0)``."""
        return self.exact(x, 0.0)

    def exact(self, x: Float[Array, "n d"], t: float | Array) -> Float[Array, " n"]:
        """``sum_j a_j exp(-nu |k_j|^2 t) cos(k_j . x + phi_j)``."""
        return _decayed_modes(jnp, self.modes, self.nu, x, t)

    def reference(self, times, **options) -> ReferenceSolution:
        """The exact solution at ``times`` in float64 NumPy."""
        if options:
            raise TypeError(f"PeriodicHeat.reference takes no options, got {sorted(options)}.")
        times = _check_times(times)

        def fn(p, i):
            return _decayed_modes(np, self.modes, self.nu, p, times[i])

        return ReferenceSolution(times, fn, dim=self.space_dim)


def _decayed_modes(xp, modes: PeriodicModes, nu, x, t):
    """``sum_j a_j exp(-nu |k_j|^2 t) cos(k_j . x + phi_j)`` with the array module ``xp``
    (``jnp`` for the traceable exact solution, ``np`` for the float64 reference)."""
    out = xp.zeros(x.shape[:-1], dtype=x.dtype)
    for a, ks, ph in modes:
        k = xp.asarray(ks, dtype=x.dtype)
        out = out + a * xp.exp(-nu * float(np.dot(ks, ks)) * t) * xp.cos(x @ k + ph)
    return out


def periodic_grid(dim: int, n: int, dtype=None) -> Float[Array, "m dim"]:
    """Uniform ``n^dim`` grid on ``[0, 2pi)^dim`` as an ``(n**dim, dim)`` array.

    Example:
        >>> periodic_grid(3, 4).shape
        (64, 3)
    """
    check_positive_int(dim, "dim")
    check_positive_int(n, "n")
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a floating dtype, got {dtype}.")
    g = jnp.arange(n, dtype=dtype) * jnp.asarray(TWO_PI / n, dtype)
    axes = jnp.meshgrid(*([g] * dim), indexing="ij")
    return jnp.stack([a.ravel() for a in axes], axis=-1)


def grid_points(n: int, dtype=None) -> Float[Array, "n2 2"]:
    """Uniform ``n x n`` grid on ``[0, 2pi)^2`` as an ``(n*n, 2)`` array.

    Example:
        >>> grid_points(4).shape
        (16, 2)
    """
    return periodic_grid(2, n, dtype)


__all__ = [
    "AbstractBoxProblem",
    "AbstractEvolutionProblem",
    "AllenCahn2D",
    "BoxAllenCahn",
    "BoxHeat",
    "Burgers2D",
    "Heat2D",
    "PeriodicHeat",
    "ReferenceSolution",
    "box_boundary_points",
    "box_grid",
    "fourier_modes",
    "grid_points",
    "periodic_grid",
]
