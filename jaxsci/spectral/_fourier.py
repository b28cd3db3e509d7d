"""Fourier series on the periodic unit interval [0, 1) in real storage.

A real function with wavenumbers ``0 .. modes-1`` is stored as ``2 modes - 1`` real
coefficients, cosines first and then sines::

    u(x) = a_0 + sum_{k=1}^{modes-1} a_k cos(2 pi k x) + b_k sin(2 pi k x),
    coefficients = [a_0, a_1, ..., a_{modes-1}, b_1, ..., b_{modes-1}].

The transforms go through ``jnp.fft.rfft``/``irfft``; derivatives multiply by
``2 pi i k``; Parseval's identity gives ``int_0^1 u^2 = a_0^2 + sum (a_k^2 + b_k^2)/2``.
This is the Fourier basis of Neural Spectral Methods (Du, Chalapathi, Krishnapriyan,
ICLR 2024, Sec. 3), stored real so that networks act on real arrays.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._axis import apply_matrix, normalize_axis, resize_last


class Fourier(eqx.Module):
    """Real Fourier basis on ``[0, 1)`` with wavenumbers ``0 .. modes - 1``.

    Example:
        >>> basis = Fourier(8)
        >>> x = basis.grid(15)
        >>> c = basis.transform(jnp.sin(2 * jnp.pi * 3 * x))   # b_3 = 1
        >>> du = basis.to_grid(basis.derivative(c), 64)         # 6 pi cos(6 pi x)
    """

    modes: int = eqx.field(static=True)

    def __check_init__(self):
        if isinstance(self.modes, bool) or not isinstance(self.modes, (int, np.integer)) or self.modes < 1:
            raise ValueError(
                f"`modes` of a Fourier basis must be a positive integer (the number of "
                f"wavenumbers 0..modes-1), got {self.modes!r}."
            )

    @property
    def size(self) -> int:
        """Number of real coefficients, ``2 modes - 1``."""
        return 2 * self.modes - 1

    @property
    def interval(self) -> tuple[float, float]:
        return (0.0, 1.0)

    def exact_grid_size(self) -> int:
        """Smallest uniform grid that holds every coefficient exactly (odd, no Nyquist)."""
        return self.size

    def grid(self, n: int) -> Float[Array, " n"]:
        """The uniform grid ``x_j = j / n``, ``j = 0 .. n-1``."""
        return jnp.arange(n) / n

    def transform(self, values: Array, axis: int = -1) -> Array:
        """Coefficients of the trigonometric interpolant of ``values`` on the uniform grid.

        The number of grid points ``n`` along ``axis`` may be anything: wavenumbers above
        ``modes - 1`` are dropped, missing ones are zero. With ``n >= 2 modes - 1`` a
        function with these modes is recovered exactly.
        """
        axis = normalize_axis(axis, values.ndim)
        v = jnp.moveaxis(values, axis, -1)
        n = v.shape[-1]
        spec = jnp.fft.rfft(v, axis=-1) / n
        a = 2 * spec.real
        b = -2 * spec.imag
        a = a.at[..., 0].multiply(0.5)
        if n % 2 == 0:  # the Nyquist cosine is counted once
            a = a.at[..., -1].multiply(0.5)
            b = b.at[..., -1].set(0.0)
        a = resize_last(a, self.modes)
        b = resize_last(b[..., 1:], self.modes - 1)
        return jnp.moveaxis(jnp.concatenate([a, b], axis=-1), -1, axis)

    def _complex(self, c):
        """``z_k = a_k - i b_k`` for ``k = 0 .. modes-1`` (with ``b_0 = 0``)."""
        m = self.modes
        a, b = c[..., :m], c[..., m:]
        b = jnp.concatenate([jnp.zeros_like(a[..., :1]), b], axis=-1)
        return a - 1j * b

    def _real(self, z):
        return jnp.concatenate([z.real, -z.imag[..., 1:]], axis=-1)

    def to_grid(self, coeffs: Array, n: int, axis: int = -1) -> Array:
        """Values of the series at the uniform grid of ``n`` points (any ``n >= 1``)."""
        axis = normalize_axis(axis, coeffs.ndim)
        m = self.modes
        if m - 1 > n // 2:  # the grid is too coarse for an FFT of these modes: sum directly
            return self.evaluate(coeffs, self.grid(n).astype(coeffs.dtype), axis)
        c = jnp.moveaxis(coeffs, axis, -1)
        z = self._complex(c)
        half = jnp.concatenate([z[..., :1], z[..., 1:] / 2], axis=-1)
        half = resize_last(half, n // 2 + 1)
        if n % 2 == 0 and m - 1 == n // 2:  # the top mode sits at Nyquist: cosine part only
            half = half.at[..., -1].set(c[..., m - 1].astype(half.dtype))
        values = jnp.fft.irfft(half * n, n=n, axis=-1).astype(coeffs.dtype)
        return jnp.moveaxis(values, -1, axis)

    def basis_matrix(self, x: Array) -> Array:
        """``[cos(2 pi k x), sin(2 pi k x)]`` at points ``x``: shape ``(len(x), size)``."""
        k = jnp.arange(self.modes, dtype=x.dtype)
        phase = 2 * jnp.pi * x[:, None] * k[None, :]
        return jnp.concatenate([jnp.cos(phase), jnp.sin(phase[:, 1:])], axis=-1)

    def evaluate(self, coeffs: Array, x: Array, axis: int = -1) -> Array:
        """Values at arbitrary points ``x`` (1D): ``axis`` is replaced by ``len(x)``."""
        x = jnp.asarray(x, dtype=coeffs.dtype)
        return apply_matrix(self.basis_matrix(x), coeffs, axis)

    def derivative(self, coeffs: Array, order: int = 1, axis: int = -1) -> Array:
        """Coefficients of ``d^order u / dx^order`` (multiplication by ``(2 pi i k)^order``)."""
        axis = normalize_axis(axis, coeffs.ndim)
        c = jnp.moveaxis(coeffs, axis, -1)
        k = jnp.arange(self.modes)
        factor = (2j * jnp.pi * k) ** order
        out = self._real(self._complex(c) * factor).astype(coeffs.dtype)
        return jnp.moveaxis(out, -1, axis)

    def resize(self, coeffs: Array, modes: int, axis: int = -1) -> Array:
        """The same series stored with ``modes`` wavenumbers (truncated or zero-padded)."""
        axis = normalize_axis(axis, coeffs.ndim)
        c = jnp.moveaxis(coeffs, axis, -1)
        m = self.modes
        if c.shape[-1] != self.size:
            raise ValueError(
                f"coefficients along axis {axis} have {c.shape[-1]} entries, but this "
                f"Fourier basis with {m} modes stores {self.size}; resize with the basis "
                "the coefficients belong to."
            )
        a = resize_last(c[..., :m], modes)
        b = resize_last(c[..., m:], modes - 1)
        return jnp.moveaxis(jnp.concatenate([a, b], axis=-1), -1, axis)

    def with_modes(self, modes: int) -> Fourier:
        return Fourier(modes)

    def product_modes(self, other_modes: int) -> int:
        """Modes of the exact product of a ``modes`` and an ``other_modes`` series."""
        return self.modes + other_modes - 1

    def gram(self, weight: str = "uniform") -> np.ndarray:
        """``int_0^1 phi_i phi_j dx``: diagonal ``[1, 1/2, ..., 1/2]`` (Parseval).

        ``weight="coefficients"`` gives the identity (the plain sum of squares).
        """
        if weight == "coefficients":
            return np.eye(self.size)
        w = np.full(self.size, 0.5)
        w[0] = 1.0
        return np.diag(w)

    def apply_gram(self, coeffs: Array, axis: int, weight: str = "uniform") -> Array:
        return apply_matrix(self.gram(weight), coeffs, axis)
