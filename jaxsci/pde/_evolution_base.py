"""The base of the time-dependent problems (:class:`AbstractEvolutionProblem`), their
reference solutions, and the float64 ETDRK4 reference shared by the periodic and the
bounded problems. Public names are re-exported by :mod:`jaxsci.pde.evolution`."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float

from .. import taylor
from ..internal import check_positive, check_positive_int
from ._spectral2d import dealias_mask, etdrk4_2d, evaluate, grid, wavenumbers


class ReferenceSolution:
    """A solution known at ``times``: ``sol(points, t)`` evaluates it at ``(m, 2)`` points.

    For the spectral references the trigonometric interpolant of the Fourier coefficients
    is evaluated exactly at the points (no grid interpolation). The points are taken as
    float64 and the values are a float64 NumPy array, whatever the x64 setting (pass the
    points in float64 when x64 is on: float32 points would cost ~1e-7 in the values).
    """

    def __init__(self, times: Sequence[float], fn: Callable[[np.ndarray, int], np.ndarray],
                 dim: int = 2):
        self.times = tuple(float(t) for t in times)
        self._fn = fn
        self.dim = dim

    def __call__(self, points, t: float) -> np.ndarray:
        matches = [i for i, s in enumerate(self.times) if abs(s - float(t)) < 1e-9]
        if not matches:
            raise ValueError(
                f"the reference is stored at times {self.times}, not at t={t}; "
                "pass t to problem.reference(times=...)."
            )
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != self.dim:
            raise ValueError(f"`points` must have shape (m, {self.dim}), got {pts.shape}.")
        return np.asarray(self._fn(pts, matches[0]), dtype=np.float64)


def _check_times(times) -> tuple[float, ...]:
    times = tuple(float(t) for t in np.atleast_1d(times))
    if not times or not all(np.isfinite(times)) or any(t < 0 for t in times) or list(times) != sorted(times):
        raise ValueError(f"`times` must be non-negative and increasing, got {times}.")
    return times


class AbstractEvolutionProblem(eqx.Module):
    """A time-dependent problem ``u_t = F(x, u, (L_1[u](x), ..., L_k[u](x)))``.

    The pointwise convention of :class:`jaxsci.pde.PDEProblem`: a subclass lists the linear
    differential operators ``L_j`` it needs (``operators``, built with :mod:`jaxsci.taylor`)
    and writes the right-hand side from ``u(x)`` and their values (:meth:`rhs`), so any
    :mod:`jaxsci.taylor` backend evaluates the derivatives and the nonlinear part stays exact.
    Subclasses also give the initial condition and a reference solution.

    Subclasses define the properties ``dim`` (the spatial dimension) and ``operators`` (the
    ``L_j``, a tuple of :class:`jaxsci.taylor.DifferentialOperator` on ``R^dim``).
    """

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """The spatial dimension."""

    @property
    @abc.abstractmethod
    def operators(self) -> tuple[taylor.DifferentialOperator, ...]:
        """The linear operators ``L_j`` whose values :meth:`rhs` takes."""

    @abc.abstractmethod
    def rhs(self, x: Float[Array, " d"], u: Float[Array, ""], derivatives: tuple) -> Float[Array, ""]:
        """``F(x, u(x), (L_1[u](x), ..., L_k[u](x)))``, the value of ``u_t`` at one point."""

    @abc.abstractmethod
    def initial(self, x: Float[Array, "n d"]) -> Float[Array, " n"]:
        """``u(x, 0)`` at a batch of points."""

    @abc.abstractmethod
    def reference(self, times, **options) -> ReferenceSolution:
        """A reference solution at ``times`` (float64 NumPy whatever the x64 setting)."""

    @property
    def periodic(self) -> bool:
        """``True`` for a periodic box ``[0, 2pi)^dim`` (every problem here but the bounded
        ones of :class:`AbstractBoxProblem`, on ``[0, 1]^dim``)."""
        return True

    def operator(
        self,
        u: Callable[[Array], Array],
        x: Float[Array, " d"],
        *,
        backend: taylor.AbstractBackend | None = None,
        key: Array | None = None,
    ) -> Float[Array, ""]:
        """``L[u](x) = F(x, u(x), (L_j[u](x))_j)`` at one point ``x``.

        The ``L_j`` are evaluated by ``backend``: by default ``jaxsci.taylor.Exact(mode="jet")``
        (exact Taylor-mode jets; equal to nested ``jax.jacfwd`` to rounding); a stochastic
        backend (STDE) needs ``key``.
        """
        backend = taylor.Exact(mode="jet") if backend is None else backend
        value, derivatives = None, []
        for op in self.operators:
            value, d = backend(op, u, x, key=key)
            derivatives.append(d)
        if value is None:
            value = u(x)
        return self.rhs(x, value, tuple(derivatives))


def spectral_reference(initial, linear, nonlinear, times, *, n: int, dt: float,
                       to_periodic=None) -> ReferenceSolution:
    """Float64 ETDRK4 pseudo-spectral solution of ``u_t = L u + N(u)`` on ``[0, 2pi)^2``.

    ``initial(points)`` gives ``u(x, 0)`` at ``(m, 2)`` grid points, ``linear(k2)`` the
    Fourier symbol of ``L`` at ``|k|^2``, ``nonlinear(u, kx, ky)`` the ``rfft2``
    coefficients of ``N(u)`` from grid values (dealiased here by the 2/3 rule).
    ``to_periodic`` maps the caller's points to ``[0, 2pi)^2`` before the trigonometric
    interpolant is evaluated (the bounded problems solve an odd or even extension).
    """
    times = _check_times(times)
    check_positive_int(n, "n")
    check_positive(dt, "dt")
    steps = [round(t / dt) for t in times]
    if any(abs(s * dt - t) > 1e-9 * max(1.0, t) for s, t in zip(steps, times)):
        raise ValueError(f"every time in {times} must be a multiple of dt={dt}.")
    kx, ky = wavenumbers(n)
    mask = dealias_mask(n)
    x, y = grid(n)
    pts = np.stack([x.ravel(), y.ravel()], axis=-1)
    v0 = np.fft.rfft2(np.asarray(initial(pts)).reshape(n, n)) * mask

    def dealiased(v):
        return nonlinear(np.fft.irfft2(v, s=(n, n)), kx, ky) * mask

    coefs = etdrk4_2d(v0, linear(kx**2 + ky**2), dealiased, dt, steps)
    if to_periodic is None:
        return ReferenceSolution(times, lambda p, i: evaluate(coefs[i], n, p))
    return ReferenceSolution(times, lambda p, i: evaluate(coefs[i], n, to_periodic(p)))


def _check_coefficient(value, name: str) -> None:
    check_positive(value, name)
    if not np.isfinite(np.asarray(value)):
        raise ValueError(f"`{name}` must be finite, got {value!r}.")


class _Heat(AbstractEvolutionProblem):
    """``u_t = nu Lap u`` in ``space_dim`` dimensions (the periodic and the bounded heat
    problems)."""

    space_dim: eqx.AbstractVar[int]
    nu: eqx.AbstractVar[float]

    @property
    def dim(self) -> int:
        return self.space_dim

    @property
    def operators(self) -> tuple[taylor.DifferentialOperator, ...]:
        return (taylor.laplacian(self.space_dim),)

    def rhs(self, x, u, derivatives):
        """``nu Lap u``."""
        (lap,) = derivatives
        return self.nu * lap


class _AllenCahn(AbstractEvolutionProblem):
    """``u_t = eps Lap u + u - u^3`` in 2D (the periodic and the bounded Allen-Cahn
    problems)."""

    eps: eqx.AbstractVar[float]

    @property
    def operators(self) -> tuple[taylor.DifferentialOperator, ...]:
        return (taylor.laplacian(2),)

    def rhs(self, x, u, derivatives):
        """``eps Lap u + u - u^3``."""
        (lap,) = derivatives
        return self.eps * lap + u - u**3
