"""Classical spectral reference solvers in float64 NumPy (host code, not training code).

* periodic Poisson ``-Lap u = f`` on the unit torus: exact division in Fourier space;
* Dirichlet Poisson on ``[0, 1]^2``: Chebyshev collocation (Trefethen, *Spectral Methods
  in MATLAB*, SIAM 2000, Ch. 6-7, the ``cheb`` differentiation matrix);
* 1D reaction-diffusion ``u_t = nu u_xx + rho u (1 - u)``, periodic in x: ETDRK4
  (Cox & Matthews 2002; Kassam & Trefethen 2005);
* 2D Navier-Stokes in vorticity form ``w_t + u . grad w = nu Lap w + f``, periodic:
  pseudo-spectral with the 2/3 dealiasing rule (Orszag, J. Atmos. Sci. 1971) and the
  integrating-factor RK4 scheme (exact diffusion, classical RK4 for the rest).
"""

from __future__ import annotations

import numpy as np

from ._etdrk4 import etdrk4_solve


def wavenumbers(n: int) -> np.ndarray:
    """Integer wavenumbers of an n-point FFT on [0, 1): ``0, 1, ..., -1``."""
    return np.fft.fftfreq(n, 1.0 / n)


def resample_periodic(values: np.ndarray, n: int, axes=(-1,)) -> np.ndarray:
    """Band-limited resampling of periodic grid values to ``n`` points along ``axes``.

    Exact when the function has wavenumbers below ``min(m, n) / 2`` (``m`` the input size).
    """
    v = np.asarray(values, dtype=np.float64)
    for axis in axes:
        m = v.shape[axis]
        if m == n:
            continue
        top = (min(m, n) - 1) // 2
        ks = np.arange(-top, top + 1)
        spec = np.moveaxis(np.fft.fft(v, axis=axis), axis, 0)
        out = np.zeros((n,) + spec.shape[1:], dtype=complex)
        out[ks % n] = spec[ks % m]
        v = np.moveaxis(np.fft.ifft(out, axis=0).real * (n / m), 0, axis)
    return v


def periodic_poisson(f: np.ndarray, n_out: int | None = None) -> np.ndarray:
    """Zero-mean solution of ``-Lap u = f`` on ``[0, 1)^2`` from grid values of ``f``.

    ``f`` must have zero mean (the solvability condition). Exact for band-limited ``f``.
    """
    f = np.asarray(f, dtype=np.float64)
    n = f.shape[-1]
    k = wavenumbers(n)
    k2 = (2 * np.pi) ** 2 * (k[:, None] ** 2 + k[None, :] ** 2)
    k2[0, 0] = 1.0
    u_hat = np.fft.fft2(f) / k2
    u_hat[..., 0, 0] = 0.0
    u = np.fft.ifft2(u_hat).real
    return u if n_out is None else resample_periodic(u, n_out, axes=(-2, -1))


def cheb(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev differentiation matrix on ``n`` Gauss-Lobatto points of [-1, 1] (Trefethen)."""
    N = n - 1
    x = np.cos(np.pi * np.arange(n) / N)
    c = np.ones(n)
    c[0] = c[-1] = 2.0
    c *= (-1.0) ** np.arange(n)
    dx = x[:, None] - x[None, :]
    D = np.outer(c, 1.0 / c) / (dx + np.eye(n))
    D -= np.diag(D.sum(axis=1))
    return D, x


def dirichlet_poisson(source, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``-Lap u = f`` on ``[0, 1]^2`` with ``u = 0`` on the boundary by collocation.

    ``source(x, y)`` evaluates ``f`` on NumPy arrays. Returns ``(x, u)``: the ``n``
    Gauss-Lobatto points ``x_j = (1 + cos(pi j/(n-1)))/2`` and ``u`` at ``(x_i, y_j)``.
    """
    D, s = cheb(n)
    D2 = 4.0 * (D @ D)  # d/dx = 2 d/ds on [0, 1]
    x = (1.0 + s) / 2
    inner = slice(1, n - 1)
    L = np.kron(D2[inner, inner], np.eye(n - 2)) + np.kron(np.eye(n - 2), D2[inner, inner])
    X, Y = np.meshgrid(x[inner], x[inner], indexing="ij")
    rhs = -np.asarray(source(X, Y), dtype=np.float64).reshape(-1)
    u = np.zeros((n, n))
    u[inner, inner] = np.linalg.solve(L, rhs).reshape(n - 2, n - 2)
    return x, u


def reaction_diffusion(
    u0: np.ndarray, nu: float, rho: float, n_x: int, n_steps: int, n_times: int, T: float = 1.0
) -> np.ndarray:
    """ETDRK4 solution of ``u_t = nu u_xx + rho u(1 - u)`` on ``[0,1) x [0, T]``.

    ``u0``: periodic grid values (resampled to ``n_x`` points, band-limited).
    Returns ``u`` at ``n_times`` uniform times ``t_i = i T/(n_times - 1)`` on the
    ``n_x``-point grid, shape ``(n_times, n_x)``; ``n_steps`` must be a multiple of
    ``n_times - 1``.
    """
    if n_steps % (n_times - 1):
        raise ValueError(
            f"`n_steps` ({n_steps}) must be a multiple of `n_times - 1` ({n_times - 1}) so "
            "that the saved times fall on steps."
        )
    u0 = resample_periodic(u0, n_x)
    k = np.arange(n_x // 2 + 1)
    linear = -nu * (2 * np.pi * k) ** 2
    dealias = k < n_x / 3

    def nonlinear(v):
        u = np.fft.irfft(v, n=n_x)
        return dealias * np.fft.rfft(rho * u * (1.0 - u))

    v = etdrk4_solve(u0, linear, nonlinear, T / n_steps, n_steps, n_steps // (n_times - 1))
    return np.fft.irfft(v, n=n_x, axis=-1)


def navier_stokes(
    w0: np.ndarray,
    nu: float,
    T: float,
    n: int,
    n_steps: int,
    n_times: int,
    forcing: np.ndarray | None = None,
) -> np.ndarray:
    """Vorticity ``w(t, x, y)`` of 2D incompressible flow on the unit torus.

    ``w_t + u w_x + v w_y = nu Lap w + f``, ``(u, v) = (psi_y, -psi_x)``,
    ``-Lap psi = w``. Pseudo-spectral on ``n x n`` points with the 2/3 rule, integrating
    factor RK4 with ``n_steps`` steps. ``w0`` (and ``forcing``) are periodic grid values,
    resampled to ``n``. Returns ``w`` at ``n_times`` uniform times, ``(n_times, n, n)``.
    """
    if n_steps % (n_times - 1):
        raise ValueError(
            f"`n_steps` ({n_steps}) must be a multiple of `n_times - 1` ({n_times - 1})."
        )
    k = wavenumbers(n)
    kx, ky = 2j * np.pi * k[:, None], 2j * np.pi * k[None, :]
    lap = (kx**2 + ky**2).real
    inv_lap = np.where(lap == 0, 0.0, -1.0 / np.where(lap == 0, 1.0, lap))  # psi = w / |k|^2
    mask = (np.abs(k[:, None]) < n / 3) & (np.abs(k[None, :]) < n / 3)
    f_hat = 0.0 if forcing is None else np.fft.fft2(resample_periodic(forcing, n, axes=(-2, -1)))
    h = T / n_steps

    def rhs(w_hat):
        psi = w_hat * inv_lap
        u = np.fft.ifft2(ky * psi).real
        v = np.fft.ifft2(-kx * psi).real
        wx = np.fft.ifft2(kx * w_hat).real
        wy = np.fft.ifft2(ky * w_hat).real
        return mask * (-np.fft.fft2(u * wx + v * wy)) + f_hat

    E = np.exp(nu * lap * h / 2)
    E2 = E * E
    w = np.fft.fft2(resample_periodic(w0, n, axes=(-2, -1)))
    saved = [w]
    every = n_steps // (n_times - 1)
    for step in range(1, n_steps + 1):
        a = rhs(w)
        b = rhs(E * (w + h / 2 * a))
        c = rhs(E * w + h / 2 * b)
        d = rhs(E2 * w + h * E * c)
        w = E2 * w + h / 6 * (E2 * a + 2 * E * (b + c) + d)
        if step % every == 0:
            saved.append(w)
    return np.fft.ifft2(np.stack(saved)).real
