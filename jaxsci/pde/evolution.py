"""Periodic time-dependent problems on [0, 2pi)^2 (TENG benchmark problems).

Heat equation ``u_t = nu Laplacian u`` with a few-Fourier-mode initial condition and its
exact solution by Fourier decay ``exp(-nu |k|^2 t)`` (Chen et al., ICML 2024, Sec. 5).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

TWO_PI = 2.0 * jnp.pi

# (amplitude, kx, ky, phase): u0 = sum a cos(kx x + ky y + phase)
_HEAT_MODES = ((1.0, 1, 0, -jnp.pi / 2), (0.5, 0, 2, 0.0), (0.3, 1, 1, -jnp.pi / 2))


class Heat2D(eqx.Module):
    """Periodic heat equation ``u_t = nu (u_xx + u_yy)`` on ``[0, 2pi)^2``.

    Initial condition ``u0 = sin x + 0.5 cos 2y + 0.3 sin(x + y)``; each Fourier mode
    decays as ``exp(-nu |k|^2 t)``, which gives the exact solution.

    Example:
        >>> p = Heat2D(); p.exact(jnp.zeros((3, 2)), 1.0).shape
        (3,)
    """

    nu: float = 0.1

    def initial(self, x: Float[Array, "n 2"]) -> Float[Array, " n"]:
        return self.exact(x, 0.0)

    def exact(self, x: Float[Array, "n 2"], t: float | Array) -> Float[Array, " n"]:
        out = jnp.zeros(x.shape[:-1], dtype=x.dtype)
        for a, kx, ky, ph in _HEAT_MODES:
            decay = jnp.exp(-self.nu * (kx**2 + ky**2) * t)
            out = out + a * decay * jnp.cos(kx * x[..., 0] + ky * x[..., 1] + ph)
        return out

    def operator(self, u: Callable[[Array], Array], x: Float[Array, " 2"]) -> Float[Array, ""]:
        """``L[u](x) = nu * trace(Hessian u)(x)`` by nested automatic differentiation."""
        return self.nu * jnp.trace(jax.hessian(u)(x))


def grid_points(n: int, dtype=None) -> Float[Array, "n2 2"]:
    """Uniform ``n x n`` grid on ``[0, 2pi)^2`` as an ``(n*n, 2)`` array."""
    g = jnp.arange(n, dtype=dtype) * (TWO_PI / n)
    xx, yy = jnp.meshgrid(g, g, indexing="ij")
    return jnp.stack([xx.ravel(), yy.ravel()], axis=-1)
