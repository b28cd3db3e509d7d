"""ETDRK4 for periodic semilinear problems ``u_t = L u + N(u)`` in Fourier space.

Cox & Matthews, J. Comput. Phys. 2002 (the scheme); Kassam & Trefethen, SIAM J. Sci.
Comput. 2005 (its coefficients by contour integrals, stable for small ``h L``). Runs on
the host in float64 NumPy: it produces reference solutions, not training code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def etdrk4_coefficients(linear: np.ndarray, h: float, contour_points: int = 64):
    """``E, E2, Q, f1, f2, f3`` of Kassam & Trefethen (2005), Eq. 2.5 and Sec. 5."""
    lh = h * linear
    roots = np.exp(1j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    lr = lh[:, None] + roots[None, :]
    E, E2 = np.exp(lh), np.exp(lh / 2)
    Q = h * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=1))
    f1 = h * np.real(np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=1))
    f2 = h * np.real(np.mean((2 + lr + np.exp(lr) * (-2 + lr)) / lr**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=1))
    return E, E2, Q, f1, f2, f3


def etdrk4_solve(
    u0: np.ndarray,
    linear: np.ndarray,
    nonlinear: Callable[[np.ndarray], np.ndarray],
    h: float,
    num_steps: int,
    save_every: int,
) -> np.ndarray:
    """Integrate ``v_t = linear * v + nonlinear(v)`` for rfft coefficients ``v``.

    Returns the coefficients at steps ``0, save_every, 2 save_every, ...``.
    """
    E, E2, Q, f1, f2, f3 = etdrk4_coefficients(linear, h)
    v = np.fft.rfft(u0)
    saved = [v.copy()]
    for step in range(1, num_steps + 1):
        Nv = nonlinear(v)
        a = E2 * v + Q * Nv
        Na = nonlinear(a)
        b = E2 * v + Q * Na
        Nb = nonlinear(b)
        c = E2 * a + Q * (2 * Nb - Nv)
        Nc = nonlinear(c)
        v = E * v + Nv * f1 + 2 * (Na + Nb) * f2 + Nc * f3
        if step % save_every == 0:
            saved.append(v.copy())
    return np.stack(saved)
