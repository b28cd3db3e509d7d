"""Losses and predictions of NSM and the FNO + grid-PINN baseline on the paper's problems.

Inputs are the problems' grid values from :mod:`jaxsci.pde.parametric` (band-limited fields
on their exact uniform grids), batched on axis 0.

* periodic Poisson ``-Lap u = f``: NSM on ``Fourier x Fourier``, ``u`` of zero mean;
  the FNO+PINN loss is the mean squared 5-point finite-difference residual on an
  ``n x n`` grid (the same zero-mean gauge).
* reaction-diffusion ``u_t - nu u_xx = rho u (1 - u)``: NSM on ``Chebyshev(t) x Fourier(x)``
  with ``u = u_0 + t v``; the FNO+PINN loss uses second-order differences in t (one-sided
  at the ends) and the periodic 3-point stencil in x on ``n`` times x ``n`` points.
* 2D Navier-Stokes in vorticity form: NSM on ``Chebyshev(t) x Fourier(x) x Fourier(y)``
  with ``w = w_0 + t v`` and zero spatial mean.

Every function checks its instances: a batch axis and the problem's grid shape at trace
time, NaN/inf at run time (``eqx.error_if``, under ``jit`` too), and a
``PrecisionWarning`` for float64 NumPy instances while JAX's x64 mode is off (they would
be truncated to float32). A model whose output is NaN gives a NaN loss, which
:func:`train_operator` / ``core.fit`` report (``FloatingPointError``, or
``RESULTS.nonfinite_values`` with ``throw=False``). Errors against references:
``jnp.mean(jaxsci.core.relative_l2(pred, ref, axis=(1, 2)))`` (one error per instance).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..internal import check_positive, check_positive_int, warn_if_truncated
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


def _instances(x, name: str, ndim: int, shape: tuple[int, ...] | None = None) -> Array:
    """A batch of instances: ``ndim`` axes (batch first), the grid ``shape``, finite values."""
    warn_if_truncated(x, name)
    if not eqx.is_array_like(x) or isinstance(x, (bool, int, float, complex)):
        raise TypeError(f"`{name}` must be an array of instances, got {type(x).__name__}.")
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.zeros(()).dtype)
    if x.ndim != ndim:
        raise ValueError(
            f"`{name}` must be a batch of shape (B, {', '.join('n' * (ndim - 1))}) (instances on "
            f"axis 0, e.g. `problem.sample(B, key=key)`), got shape {x.shape}; add a batch axis "
            "with `x[None]` for one instance."
        )
    if shape is not None and x.shape[1:] != tuple(shape):
        raise ValueError(
            f"`{name}` must have instances of shape {tuple(shape)} (the exact grid of the "
            f"basis), got {x.shape[1:]}; build the basis with the problem's `modes`."
        )
    return eqx.error_if(
        x, ~jnp.all(jnp.isfinite(x)),
        f"`{name}` contains NaN or inf: check the PDE instances (the `sample` function).",
    )


def _spatial_shape(basis: TensorBasis, first: int) -> tuple[int, ...]:
    return tuple(b.exact_grid_size() for b in basis.bases[first:])


def _check_basis(basis, kinds: tuple, name: str) -> TensorBasis:
    if not isinstance(basis, TensorBasis) or tuple(type(b) for b in basis.bases) != kinds:
        raise TypeError(
            f"`basis` must be a TensorBasis of ({', '.join(k.__name__ for k in kinds)}) as "
            f"returned by `{name}`, got {basis!r}."
        )
    return basis


def periodic_resample(values: Array, n: int, axes=(-1,)) -> Array:
    """Band-limited periodic grid values (odd size ``2 m - 1``) on a uniform grid of ``n``.

    Example:
        >>> x = jnp.arange(5) / 5
        >>> (periodic_resample(jnp.cos(2 * jnp.pi * x), 4).round(4) + 0.0).tolist()
        [1.0, 0.0, -1.0, 0.0]
    """
    check_positive_int(n, "n")
    v = values
    for axis in axes:
        if v.shape[axis] % 2 == 0:
            raise ValueError(
                f"`values` must have an odd number of points (2 m - 1) along axis {axis}, got "
                f"{v.shape[axis]}."
            )
        m = (v.shape[axis] + 1) // 2
        f = Fourier(m)
        v = f.to_grid(f.transform(v, axis=axis), n, axis=axis)
    return v


# ---------------------------------------------------------------- periodic Poisson
def poisson_basis(modes: int = 16) -> TensorBasis:
    """``Fourier(modes) x Fourier(modes)``: the NSM basis of the periodic Poisson problem.

    Use the problem's ``modes`` (``PeriodicPoisson(modes=m)``) so that its sources, on the
    ``(2 m - 1)^2`` grid, are represented exactly.

    Example:
        >>> poisson_basis(4).shape
        (7, 7)
    """
    return TensorBasis((Fourier(modes), Fourier(modes)))


def nsm_poisson_solution(model, f: Array, basis: TensorBasis) -> Array:
    """Coefficients ``(B, *basis.shape)`` of the NSM solution for sources ``f`` ``(B, n, n)``."""
    _check_basis(basis, (Fourier, Fourier), "poisson_basis")
    f = _instances(f, "f", 3, basis.exact_grid_shape())
    fc = basis.transform(f)
    return jax.vmap(lambda c: zero_mean(model(c[None])[0], basis))(fc)


def nsm_poisson_loss(model, f: Array, basis: TensorBasis) -> Array:
    """The NSM training loss of periodic Poisson: ``mean_b ||-Lap u_b - f_b||^2``.

    ``u_b`` is the model's zero-mean solution for the source ``f_b`` (a batch ``(B, n, n)``
    on the exact grid of ``basis``); the norm is the exact integral over the torus by
    Parseval's identity (Du, Chalapathi, Krishnapriyan, ICLR 2024, Sec. 3.2). No solution
    data is used.

    Example:
        >>> from jaxsci.pde.parametric import PeriodicPoisson
        >>> problem, basis = PeriodicPoisson(modes=4), poisson_basis(4)
        >>> from jaxsci.spectral import NSM
        >>> model = NSM(basis, 1, 1, width=8, depth=1, key=jax.random.key(0))
        >>> loss = nsm_poisson_loss(model, problem.sample(2, key=jax.random.key(1)), basis)
        >>> loss.shape
        ()
    """
    _check_basis(basis, (Fourier, Fourier), "poisson_basis")
    f = _instances(f, "f", 3, basis.exact_grid_shape())
    fc = basis.transform(f)
    u = nsm_poisson_solution(model, f, basis)
    return spectral_loss(poisson_residual(u, fc, basis), basis)


def fno_poisson_solution(model, f: Array, n: int) -> Array:
    """FNO values ``(B, n, n)`` (zero mean) for sources given on their exact grid."""
    f = _instances(f, "f", 3)
    fn = periodic_resample(f, n, axes=(-2, -1))
    u = jax.vmap(lambda a: model(a[None])[0])(fn)
    return u - jnp.mean(u, axis=(-2, -1), keepdims=True)


def fno_poisson_pinn_loss(model, f: Array, n: int) -> Array:
    """Mean squared finite-difference residual ``-Lap_h u - f`` on the ``n x n`` grid.

    The FNO + PINN baseline of Neural Spectral Methods (Du, Chalapathi, Krishnapriyan,
    ICLR 2024, Sec. 5): the 5-point Laplacian, second order.
    """
    f = _instances(f, "f", 3)
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
    return _squared_relative_error(fno_poisson_solution(model, f, n), _instances(u, "u", 3, (n, n)))


def _squared_relative_error(pred: Array, ref: Array) -> Array:
    axes = tuple(range(1, pred.ndim))
    return jnp.mean(jnp.sum((pred - ref) ** 2, axes) / jnp.sum(ref**2, axes))


# ---------------------------------------------------------------- reaction-diffusion
def reaction_diffusion_basis(time_modes: int = 16, space_modes: int = 16, T: float = 1.0):
    """``Chebyshev(time_modes, (0, T)) x Fourier(space_modes)``: the (t, x) basis of
    reaction-diffusion (use the problem's ``modes`` as ``space_modes``).

    Example:
        >>> reaction_diffusion_basis(5, 4).shape
        (5, 7)
    """
    check_positive(T, "T")
    return TensorBasis((Chebyshev(time_modes, (0.0, float(T))), Fourier(space_modes)))


def nsm_rd_solution(model, u0: Array, basis: TensorBasis):
    """Coefficients of ``u = u_0 + t v`` for initial values ``u0`` ``(B, n)``; and their basis."""
    _check_basis(basis, (Chebyshev, Fourier), "reaction_diffusion_basis")
    u0 = _instances(u0, "u0", 2, _spatial_shape(basis, 1))
    fx = basis.bases[1]
    c0 = fx.transform(u0)  # (B, Sx)
    a = jnp.zeros((u0.shape[0], 1) + basis.shape, c0.dtype).at[:, 0, 0].set(c0)
    v = jax.vmap(model)(a)[:, 0]
    return initial_value_mollifier(c0, v, basis, time_axis=0)


def nsm_rd_loss(model, u0: Array, basis: TensorBasis, nu: float, rho: float, weight="uniform"):
    """The NSM training loss of reaction-diffusion: ``mean_b ||u_t - nu u_xx - rho u (1 - u)||^2``.

    ``u = u_0 + t v`` (:func:`nsm_rd_solution`) holds the initial value exactly, the
    quadratic term is the exact dealiased product, and the norm over ``[0, T] x [0, 1)``
    is computed from the coefficients (``weight`` as in :func:`spectral_loss`; Du,
    Chalapathi, Krishnapriyan, ICLR 2024, Sec. 3.2). ``u0``: ``(B, 2 m - 1)`` initial values.

    Example:
        >>> basis = reaction_diffusion_basis(4, 3)
        >>> from jaxsci.spectral import NSM
        >>> model = NSM(basis, 1, 1, width=4, depth=1, key=jax.random.key(0))
        >>> float(nsm_rd_loss(model, jnp.ones((2, 5)), basis, 0.01, 5.0)) >= 0
        True
    """
    check_positive(nu, "nu")
    check_positive(rho, "rho")
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
    u0 = _instances(u0, "u0", 2)
    u0n, t = _rd_grid_input(u0, n)
    a = jnp.broadcast_to(u0n[:, None, None, :], (u0n.shape[0], 1, n, n))
    v = jax.vmap(model)(a)[:, 0]
    return u0n[:, None, :] + T * t[None, :, None] * v


def fno_rd_pinn_loss(model, u0: Array, n: int, nu: float, rho: float, T: float = 1.0):
    """Mean squared finite-difference residual of ``u_t - nu u_xx - rho u (1 - u)``.

    Second-order differences in t (one-sided at both ends) and the periodic 3-point
    stencil in x on the ``n x n`` (t, x) grid: the FNO + PINN baseline.
    """
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
    return _squared_relative_error(fno_rd_values(model, u0, n, T), _instances(u, "u", 3, (n, n)))


# ---------------------------------------------------------------- Navier-Stokes (vorticity)
def navier_stokes_basis(time_modes: int = 8, space_modes: int = 8, T: float = 3.0):
    """``Chebyshev(time_modes, (0, T)) x Fourier(space_modes)^2``: the (t, x, y) basis of the
    vorticity (use the problem's ``modes`` as ``space_modes``).

    Example:
        >>> navier_stokes_basis(3, 3, 1.0).shape
        (3, 5, 5)
    """
    check_positive(T, "T")
    return TensorBasis((Chebyshev(time_modes, (0.0, float(T))), Fourier(space_modes), Fourier(space_modes)))


def nsm_ns_solution(model, w0: Array, basis: TensorBasis):
    """Coefficients of ``w = w_0 + t v`` for initial vorticities ``w0`` ``(B, n, n)``."""
    _check_basis(basis, (Chebyshev, Fourier, Fourier), "navier_stokes_basis")
    w0 = _instances(w0, "w0", 3, _spatial_shape(basis, 1))
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
    """The NSM training loss of 2D Navier-Stokes: ``mean_b ||w_t + u . grad w - nu Lap w - f||^2``.

    ``w = w_0 + t v`` with zero spatial mean (:func:`nsm_ns_solution`); velocity from the
    stream function, advection as the exact dealiased product
    (:func:`navier_stokes_residual`; Du, Chalapathi, Krishnapriyan, ICLR 2024, Sec. 5).
    ``w0``: ``(B, n, n)`` initial vorticities; ``forcing``: coefficients of ``f`` in
    ``basis`` (or ``None``).

    Example:
        >>> basis = navier_stokes_basis(3, 3, 1.0)
        >>> from jaxsci.spectral import NSM
        >>> model = NSM(basis, 1, 1, width=4, depth=1, key=jax.random.key(0))
        >>> w0 = jnp.zeros((1, 5, 5)).at[0, 1, 2].set(1.0)
        >>> float(nsm_ns_loss(model, w0, basis, 1e-2)) >= 0
        True
    """
    check_positive(nu, "nu")
    w, wb = nsm_ns_solution(model, w0, basis)
    f = None if forcing is None else basis.resize(forcing, wb.modes)
    r, rb = navier_stokes_residual(w, wb, nu, f)
    return spectral_loss(r, rb, weight)


def nsm_ns_values(model, w0: Array, basis: TensorBasis, t: Array, n: int) -> Array:
    """NSM vorticity at times ``t`` on the uniform ``n x n`` grid: ``(B, len(t), n, n)``."""
    w, wb = nsm_ns_solution(model, w0, basis)
    v = wb.bases[0].evaluate(w, t, axis=-3)
    v = wb.bases[1].to_grid(v, n, axis=-2)
    return wb.bases[2].to_grid(v, n, axis=-1)
