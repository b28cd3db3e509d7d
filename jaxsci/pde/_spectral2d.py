"""Float64 pseudo-spectral reference solver for periodic problems on ``[0, 2pi)^2``.

``u_t = L u + N(u)`` with ``L`` diagonal in Fourier space, integrated by ETDRK4 (Cox &
Matthews, J. Comput. Phys. 2002) with the contour-integral coefficients of Kassam &
Trefethen (SIAM J. Sci. Comput. 2005), on ``rfft2`` coefficients with the 2/3 rule for the
nonlinear term (Orszag, J. Atmos. Sci. 1971). Runs on the host in NumPy: it produces
reference solutions, not training code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._etdrk4 import etdrk4_coefficients


def wavenumbers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer wavenumbers ``(kx, ky)`` of an ``rfft2`` of an ``n x n`` grid, shape ``(n, n//2+1)``."""
    kx = np.fft.fftfreq(n, 1.0 / n)
    ky = np.fft.rfftfreq(n, 1.0 / n)
    return np.meshgrid(kx, ky, indexing="ij")


def dealias_mask(n: int) -> np.ndarray:
    """Keep ``|k_x|, |k_y| < n/3`` (the 2/3 rule)."""
    kx, ky = wavenumbers(n)
    return (np.abs(kx) < n / 3) & (np.abs(ky) < n / 3)


def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``x[i, j] = 2pi i/n``, ``y[i, j] = 2pi j/n``."""
    g = 2 * np.pi * np.arange(n) / n
    return np.meshgrid(g, g, indexing="ij")


def etdrk4_2d(
    v0: np.ndarray,
    linear: np.ndarray,
    nonlinear: Callable[[np.ndarray], np.ndarray],
    dt: float,
    save_steps: list[int],
) -> list[np.ndarray]:
    """Integrate ``v_t = linear * v + nonlinear(v)`` for ``rfft2`` coefficients ``v``.

    Returns the coefficients after each number of steps in ``save_steps`` (increasing).
    """
    coeffs = etdrk4_coefficients(linear.ravel(), dt)
    E, E2, Q, f1, f2, f3 = (c.reshape(linear.shape) for c in coeffs)
    v, out, step = v0.copy(), [], 0
    for target in save_steps:
        while step < target:
            nv = nonlinear(v)
            a = E2 * v + Q * nv
            na = nonlinear(a)
            b = E2 * v + Q * na
            nb = nonlinear(b)
            c = E2 * a + Q * (2 * nb - nv)
            nc = nonlinear(c)
            v = E * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
            step += 1
        out.append(v.copy())
    return out


def evaluate(coef: np.ndarray, n: int, points: np.ndarray) -> np.ndarray:
    """The trigonometric interpolant of ``rfft2`` coefficients ``coef`` (grid ``n x n``) at
    arbitrary ``points`` of shape ``(m, 2)``, exactly (no grid interpolation)."""
    kx = np.fft.fftfreq(n, 1.0 / n)
    ky = np.fft.rfftfreq(n, 1.0 / n)
    weight = np.full(ky.shape, 2.0)  # rfft keeps half of the ky spectrum
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    ex = np.exp(1j * points[:, :1] * kx[None, :])  # (m, n)
    ey = np.exp(1j * points[:, 1:] * ky[None, :])  # (m, n//2+1)
    return np.real(np.einsum("mk,kl,ml->m", ex, coef * weight, ey)) / n**2
