"""Independent references for the TENG tests."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxsci.pde.evolution import grid_points


def heat_exact_of(fn, nu, t, points, n=64):
    """Exact heat solution from the initial state ``fn`` (any smooth periodic scalar
    function): FFT of ``fn`` on an ``n x n`` grid, each mode damped by ``exp(-nu |k|^2 t)``,
    the trigonometric sum evaluated at ``points``. Written with NumPy only."""
    g = np.asarray(grid_points(n))
    u = np.asarray(jax.vmap(fn)(jnp.asarray(g))).reshape(n, n)
    c = np.fft.fft2(u)
    k = np.fft.fftfreq(n, 1.0 / n)
    kx, ky = np.meshgrid(k, k, indexing="ij")
    c = c * np.exp(-nu * (kx**2 + ky**2) * t)
    pts = np.asarray(points)
    ex, ey = np.exp(1j * np.outer(pts[:, 0], k)), np.exp(1j * np.outer(pts[:, 1], k))
    return np.real(np.einsum("mk,kl,ml->m", ex, c, ey)) / n**2


def off_grid(n=23):
    return (grid_points(n) + 0.37) % (2 * jnp.pi)
