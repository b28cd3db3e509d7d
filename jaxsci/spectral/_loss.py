"""The spectral residual loss of Neural Spectral Methods and the exact constraints.

Du, Chalapathi, Krishnapriyan (ICLR 2024), Sec. 3.2: the PDE residual of a series
``u = sum_k c_k phi_k`` is assembled in coefficient space (derivatives by the bases'
recurrences, products dealiased) and the loss is its squared norm by Parseval's
identity, ``||R||^2 = sum_{j,k} r_j G_jk r_k``, instead of a quadrature of the residual at
sampled points. Boundary and initial conditions are built into the series (mollifiers),
so no penalty terms are needed.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array

from ._chebyshev import Chebyshev
from ._fourier import Fourier
from ._tensor import NORM_WEIGHTS, TensorBasis, as_tensor_basis


def spectral_loss(residual: Array, basis, weight: str = "uniform") -> Array:
    """Mean over leading (batch) axes of ``||R||^2`` computed from coefficients ``R``.

    ``weight="uniform"`` is the exact ``int_Omega R^2 dx``; ``"coefficients"`` the plain
    sum of squares used by the reference implementation for Chebyshev axes.

    Example:
        >>> from jaxsci.spectral import Fourier, TensorBasis
        >>> basis = TensorBasis((Fourier(3), Fourier(3)))
        >>> u = jnp.zeros((2,) + basis.shape).at[:, 1, 0].set(1.0)   # cos(2 pi x), twice
        >>> f = 4 * jnp.pi**2 * u                                     # -Lap u
        >>> float(spectral_loss(poisson_residual(u, f, basis), basis)) < 1e-10
        True
    """
    basis = as_tensor_basis(basis)
    if weight not in NORM_WEIGHTS:
        raise ValueError(f"`weight` must be one of {NORM_WEIGHTS}, got {weight!r}.")
    if residual.ndim < basis.ndim or residual.shape[residual.ndim - basis.ndim :] != basis.shape:
        raise ValueError(
            f"`residual` must end with the coefficient shape {basis.shape} of the basis, "
            f"got shape {residual.shape}. Resize it with `basis.resize` or pass the basis "
            "returned by the residual function."
        )
    return jnp.mean(basis.norm2(residual, weight))


def zero_mean(coeffs: Array, basis) -> Array:
    """Periodic gauge: remove the constant mode, so ``int u = 0`` holds exactly.

    The mode-space form of the periodic mollifier (the reference code subtracts ``u(0)``;
    fixing the mean instead keeps the constraint linear and exact in coefficient space).

    Example:
        >>> from jaxsci.spectral import Fourier
        >>> zero_mean(jnp.ones(5), Fourier(3)).tolist()
        [0.0, 1.0, 1.0, 1.0, 1.0]
    """
    basis = as_tensor_basis(basis)
    index = (...,) + (0,) * basis.ndim
    return coeffs.at[index].set(0.0)


def dirichlet_mollifier(coeffs: Array, basis) -> tuple[Array, TensorBasis]:
    """``u = prod_i (x_i - lo_i)(hi_i - x_i) v`` on every Chebyshev axis, exactly.

    A polynomial mollifier (the paper multiplies by ``prod sin(pi x_i)``, which is not a
    finite Chebyshev series): it vanishes on the boundary and keeps ``u`` a polynomial.
    Returns the coefficients (two more modes per Chebyshev axis) and their basis.
    """
    basis = as_tensor_basis(basis)
    c = coeffs
    new = []
    for i, b in enumerate(basis.bases):
        axis = i - basis.ndim
        if isinstance(b, Chebyshev):
            lo, hi = b.interval
            xv = b.multiply_by_x(c, axis=axis)  # (x - lo) v
            b1 = b.with_modes(b.modes + 1)
            xxv = b1.multiply_by_x(xv, axis=axis)  # (x - lo)^2 v
            b2 = b.with_modes(b.modes + 2)
            c = (hi - lo) * b1.resize(xv, b.modes + 2, axis=axis) - xxv
            new.append(b2)
        else:
            new.append(b)
    return c, TensorBasis(tuple(new))


def initial_value_mollifier(
    initial: Array, coeffs: Array, basis, time_axis: int = 0
) -> tuple[Array, TensorBasis]:
    """``u(t, x) = u_0(x) + (t - t_0) v(t, x)``: the initial value holds exactly.

    ``initial``: coefficients of ``u_0`` in the spatial bases (the time axis removed);
    ``coeffs``: coefficients of ``v``. The time basis must be Chebyshev. Returns the
    coefficients of ``u`` (one more time mode) and their basis.
    """
    basis = as_tensor_basis(basis)
    tb = basis.bases[time_axis]
    if not isinstance(tb, Chebyshev):
        raise TypeError(
            f"the time axis {time_axis} must carry a Chebyshev basis for an initial value "
            f"problem, got {type(tb).__name__}."
        )
    axis = time_axis - basis.ndim
    tv = tb.multiply_by_x(coeffs, axis=axis)
    u0 = jnp.expand_dims(initial.astype(tv.dtype), axis)  # the constant T_0 in time
    pad = [(0, 0)] * u0.ndim
    pad[u0.ndim + axis] = (0, tb.modes)
    u0 = jnp.pad(u0, pad)
    bases = list(basis.bases)
    bases[time_axis] = tb.with_modes(tb.modes + 1)
    return u0 + tv, TensorBasis(tuple(bases))


def poisson_residual(u: Array, f: Array, basis) -> Array:
    """Coefficients of ``-Lap u - f`` (``u`` and ``f`` in the same basis)."""
    basis = as_tensor_basis(basis)
    lap = sum(basis.derivative(u, i, 2) for i in range(basis.ndim))
    return -lap - f


def reaction_diffusion_residual(
    u: Array, basis, nu: float, rho: float, time_axis: int = 0
) -> tuple[Array, TensorBasis]:
    """Coefficients of ``u_t - nu u_xx - rho u (1 - u)`` on a (t, x) basis.

    The quadratic term is the exact dealiased product; returns the residual in the
    product's basis (about twice the modes) together with that basis.
    """
    basis = as_tensor_basis(basis)
    space_axis = 1 - time_axis
    if not isinstance(basis.bases[space_axis], Fourier):
        raise TypeError("reaction-diffusion needs a Fourier basis in x (periodic).")
    uu, big = basis.product(u, u)
    linear = (
        basis.derivative(u, time_axis, 1) - nu * basis.derivative(u, space_axis, 2) - rho * u
    )
    return basis.resize(linear, big.modes) + rho * uu, big


def _fourier_wavenumbers(basis: Fourier, dtype):
    m = basis.modes
    return jnp.concatenate([jnp.arange(m, dtype=dtype), jnp.arange(1, m, dtype=dtype)])


def stream_function(w: Array, basis, space_axes=(1, 2)) -> Array:
    """Coefficients of ``psi`` with ``-Lap psi = w`` and zero mean, on two Fourier axes.

    In the real Fourier tensor basis every product of cosines/sines is an eigenfunction of
    the Laplacian with eigenvalue ``-(2 pi)^2 (k_x^2 + k_y^2)``, so this is a division.
    """
    basis = as_tensor_basis(basis)
    bx, by = (basis.bases[a] for a in space_axes)
    kx, ky = _fourier_wavenumbers(bx, w.dtype), _fourier_wavenumbers(by, w.dtype)
    k2 = (2 * jnp.pi) ** 2 * (kx[:, None] ** 2 + ky[None, :] ** 2)
    inv = jnp.where(k2 == 0, 0.0, 1.0 / jnp.where(k2 == 0, 1.0, k2)).astype(w.dtype)
    shape = [1] * w.ndim
    shape[space_axes[0] - basis.ndim], shape[space_axes[1] - basis.ndim] = inv.shape
    return w * inv.reshape(shape)


def navier_stokes_residual(
    w: Array, basis, nu: float, forcing: Array | None = None
) -> tuple[Array, TensorBasis]:
    """Coefficients of ``w_t + u w_x + v w_y - nu Lap w - f`` on a (t, x, y) basis.

    Vorticity form of 2D incompressible Navier-Stokes: ``(u, v) = (psi_y, -psi_x)``,
    ``-Lap psi = w`` (:func:`stream_function`); the advection term is the exact
    dealiased product. ``forcing``: coefficients of ``f`` in ``basis`` (or ``None``).
    Returns the residual in the product basis and that basis.
    """
    basis = as_tensor_basis(basis)
    if basis.ndim != 3 or not all(isinstance(b, Fourier) for b in basis.bases[1:]):
        raise TypeError("navier_stokes_residual needs a basis (time, Fourier x, Fourier y).")
    psi = stream_function(w, basis)
    u, v = basis.derivative(psi, 2), -basis.derivative(psi, 1)
    a, big = basis.product(u, basis.derivative(w, 1))
    b, _ = basis.product(v, basis.derivative(w, 2))
    linear = basis.derivative(w, 0) - nu * (basis.derivative(w, 1, 2) + basis.derivative(w, 2, 2))
    if forcing is not None:
        linear = linear - forcing
    return basis.resize(linear, big.modes) + a + b, big
