"""Losses and predictions of NSM and the FNO + grid-PINN baseline on the paper's problems.

Inputs are the problems' grid values from :mod:`jaxsci.pde.parametric` (band-limited fields
on their exact uniform grids), batched on axis 0.

* periodic Poisson ``-Lap u = f``: NSM on ``Fourier x Fourier``, ``u`` of zero mean;
  the FNO+PINN loss is the mean squared 5-point finite-difference residual on an
  ``n x n`` grid (the same zero-mean gauge).
* reaction-diffusion ``u_t - nu u_xx = rho u (1 - u)``: NSM on ``Chebyshev(t) x Fourier(x)``
  with ``u = u_0 + t v``; the FNO+PINN loss uses second-order differences in t (one-sided
  at the ends) and the periodic 3-point stencil in x on ``n`` times x ``n`` points.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._chebyshev import Chebyshev
from ._fourier import Fourier
from ._loss import (
    initial_value_mollifier,
    navier_stokes_residual,
    poisson_residual,
    reaction_diffusion_residual,
    spectral_loss,
    zero_mean,
)
from ._tensor import TensorBasis


def periodic_resample(values: Array, n: int, axes=(-1,)) -> Array:
    """Band-limited periodic grid values (odd size ``2 m - 1``) on a uniform grid of ``n``."""
    v = values
    for axis in axes:
        m = (v.shape[axis] + 1) // 2
        f = Fourier(m)
        v = f.to_grid(f.transform(v, axis=axis), n, axis=axis)
    return v


# ---------------------------------------------------------------- periodic Poisson
def poisson_basis(modes: int = 16) -> TensorBasis:
    return TensorBasis((Fourier(modes), Fourier(modes)))


def nsm_poisson_solution(model, f: Array, basis: TensorBasis) -> Array:
    """Coefficients ``(B, *basis.shape)`` of the NSM solution for sources ``f`` ``(B, n, n)``."""
    fc = basis.transform(f)
    return jax.vmap(lambda c: zero_mean(model(c[None])[0], basis))(fc)


def nsm_poisson_loss(model, f: Array, basis: TensorBasis) -> Array:
    fc = basis.transform(f)
    u = nsm_poisson_solution(model, f, basis)
    return spectral_loss(poisson_residual(u, fc, basis), basis)


def fno_poisson_solution(model, f: Array, n: int) -> Array:
    """FNO values ``(B, n, n)`` (zero mean) for sources given on their exact grid."""
    fn = periodic_resample(f, n, axes=(-2, -1))
    u = jax.vmap(lambda a: model(a[None])[0])(fn)
    return u - jnp.mean(u, axis=(-2, -1), keepdims=True)


def fno_poisson_pinn_loss(model, f: Array, n: int) -> Array:
    """Mean squared finite-difference residual ``-Lap_h u - f`` on the ``n x n`` grid."""
    u = fno_poisson_solution(model, f, n)
    fn = periodic_resample(f, n, axes=(-2, -1))
    lap = sum(jnp.roll(u, s, axis=a) for s in (1, -1) for a in (-2, -1)) - 4 * u
    return jnp.mean((-lap * n**2 - fn) ** 2)


def fno_poisson_data_loss(model, f: Array, u: Array, n: int) -> Array:
    """Supervised FNO loss: mean squared relative L2 error against solutions ``u`` ``(B, n, n)``.

    The FNO trained on solution data, the second baseline of Neural Spectral Methods
    (Du, Chalapathi, Krishnapriyan, ICLR 2024, Sec. 5: "FNO" beside "FNO + PINN"); the
    relative L2 loss is the FNO paper's (Li et al., ICLR 2021, Sec. 5).
    """
    return _squared_relative_error(fno_poisson_solution(model, f, n), u)


def _squared_relative_error(pred: Array, ref: Array) -> Array:
    axes = tuple(range(1, pred.ndim))
    return jnp.mean(jnp.sum((pred - ref) ** 2, axes) / jnp.sum(ref**2, axes))


# ---------------------------------------------------------------- reaction-diffusion
def reaction_diffusion_basis(time_modes: int = 16, space_modes: int = 16, T: float = 1.0):
    return TensorBasis((Chebyshev(time_modes, (0.0, T)), Fourier(space_modes)))


def nsm_rd_solution(model, u0: Array, basis: TensorBasis):
    """Coefficients of ``u = u_0 + t v`` for initial values ``u0`` ``(B, n)``; and their basis."""
    fx = basis.bases[1]
    c0 = fx.transform(u0)  # (B, Sx)
    a = jnp.zeros((u0.shape[0], 1) + basis.shape, c0.dtype).at[:, 0, 0].set(c0)
    v = jax.vmap(model)(a)[:, 0]
    return initial_value_mollifier(c0, v, basis, time_axis=0)


def nsm_rd_loss(model, u0: Array, basis: TensorBasis, nu: float, rho: float, weight="uniform"):
    u, ubasis = nsm_rd_solution(model, u0, basis)
    r, rbasis = reaction_diffusion_residual(u, ubasis, nu, rho)
    return spectral_loss(r, rbasis, weight)


def nsm_rd_values(model, u0: Array, basis: TensorBasis, t: Array, n_x: int) -> Array:
    """NSM solution at times ``t`` on the uniform ``n_x`` grid: ``(B, len(t), n_x)``."""
    u, ubasis = nsm_rd_solution(model, u0, basis)
    v = ubasis.bases[0].evaluate(u, t, axis=-2)
    return ubasis.bases[1].to_grid(v, n_x, axis=-1)


def _rd_grid_input(u0, n):
    u0n = periodic_resample(u0, n)  # (B, n)
    t = jnp.linspace(0.0, 1.0, n, dtype=u0n.dtype)
    return u0n, t


def fno_rd_values(model, u0: Array, n: int, T: float = 1.0) -> Array:
    """FNO solution ``u = u_0 + t v`` on ``n`` uniform times x ``n`` points: ``(B, n, n)``."""
    u0n, t = _rd_grid_input(u0, n)
    a = jnp.broadcast_to(u0n[:, None, None, :], (u0n.shape[0], 1, n, n))
    v = jax.vmap(model)(a)[:, 0]
    return u0n[:, None, :] + T * t[None, :, None] * v


def fno_rd_pinn_loss(model, u0: Array, n: int, nu: float, rho: float, T: float = 1.0):
    """Mean squared finite-difference residual of ``u_t - nu u_xx - rho u (1 - u)``."""
    u = fno_rd_values(model, u0, n, T)
    dt, dx = T / (n - 1), 1.0 / n
    ut_mid = (u[:, 2:] - u[:, :-2]) / (2 * dt)
    ut_0 = (-3 * u[:, :1] + 4 * u[:, 1:2] - u[:, 2:3]) / (2 * dt)
    ut_1 = (3 * u[:, -1:] - 4 * u[:, -2:-1] + u[:, -3:-2]) / (2 * dt)
    ut = jnp.concatenate([ut_0, ut_mid, ut_1], axis=1)
    uxx = (jnp.roll(u, 1, -1) + jnp.roll(u, -1, -1) - 2 * u) / dx**2
    return jnp.mean((ut - nu * uxx - rho * u * (1 - u)) ** 2)


def fno_rd_data_loss(model, u0: Array, u: Array, n: int, T: float = 1.0) -> Array:
    """Supervised FNO loss for reaction-diffusion against solutions ``u`` ``(B, n, n)`` on
    ``n`` uniform times x ``n`` points (see :func:`fno_poisson_data_loss`)."""
    return _squared_relative_error(fno_rd_values(model, u0, n, T), u)


def relative_l2(pred: Array, ref: Array) -> Array:
    """Relative L2 error per instance (over all but the batch axis), averaged."""
    axes = tuple(range(1, pred.ndim))
    err = jnp.sqrt(jnp.sum((pred - ref) ** 2, axes) / jnp.sum(ref**2, axes))
    return jnp.mean(err)


# ---------------------------------------------------------------- Navier-Stokes (vorticity)
def navier_stokes_basis(time_modes: int = 8, space_modes: int = 8, T: float = 3.0):
    return TensorBasis((Chebyshev(time_modes, (0.0, T)), Fourier(space_modes), Fourier(space_modes)))


def nsm_ns_solution(model, w0: Array, basis: TensorBasis):
    """Coefficients of ``w = w_0 + t v`` for initial vorticities ``w0`` ``(B, n, n)``."""
    space = TensorBasis(basis.bases[1:])
    c0 = space.transform(w0)
    a = jnp.zeros((w0.shape[0], 1) + basis.shape, c0.dtype).at[:, 0, 0].set(c0)
    v = jax.vmap(model)(a)[:, 0]
    w, wb = initial_value_mollifier(c0, v, basis, time_axis=0)
    return zero_mean_in_space(w), wb


def zero_mean_in_space(w: Array) -> Array:
    """Vorticity on the torus has zero mean at every time: drop the (k_x, k_y) = 0 modes."""
    return w.at[..., 0, 0].set(0.0)


def nsm_ns_loss(model, w0: Array, basis: TensorBasis, nu: float, forcing=None, weight="uniform"):
    w, wb = nsm_ns_solution(model, w0, basis)
    f = None if forcing is None else wb.resize(forcing, wb.modes)
    r, rb = navier_stokes_residual(w, wb, nu, f)
    return spectral_loss(r, rb, weight)


def nsm_ns_values(model, w0: Array, basis: TensorBasis, t: Array, n: int) -> Array:
    """NSM vorticity at times ``t`` on the uniform ``n x n`` grid: ``(B, len(t), n, n)``."""
    w, wb = nsm_ns_solution(model, w0, basis)
    v = wb.bases[0].evaluate(w, t, axis=-3)
    v = wb.bases[1].to_grid(v, n, axis=-2)
    return wb.bases[2].to_grid(v, n, axis=-1)
