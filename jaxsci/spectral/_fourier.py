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
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..internal import check_positive_int
from ._axis import (
    apply_matrix,
    check_grid_size,
    check_order,
    check_size,
    normalize_axis,
    resize_last,
)


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
        """The period ``(0, 1)``."""
        return (0.0, 1.0)

    def exact_grid_size(self) -> int:
        """Smallest uniform grid that holds every coefficient exactly (odd, no Nyquist)."""
        return self.size

    def grid(self, n: int, dtype=None) -> Float[Array, " n"]:
        """The uniform grid ``x_j = j / n``, ``j = 0 .. n-1``."""
        check_grid_size(n, 1)
        return jnp.arange(n, dtype=dtype or jnp.zeros(()).dtype) / n

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
        return jax.lax.complex(a, -b)

    def _real(self, z):
        return jnp.concatenate([z.real, -z.imag[..., 1:]], axis=-1)

    def to_grid(self, coeffs: Array, n: int, axis: int = -1) -> Array:
        """Values of the series at the uniform grid of ``n`` points (any ``n >= 1``)."""
        axis = check_size(self, coeffs, axis)
        check_grid_size(n, 1)
        m = self.modes
        if m - 1 > n // 2:  # the grid is too coarse for an FFT of these modes: sum directly
            return self._evaluate(coeffs, self.grid(n, coeffs.dtype), axis)
        c = jnp.moveaxis(coeffs, axis, -1)
        z = self._complex(c)
        half = jnp.concatenate([z[..., :1], z[..., 1:] / 2], axis=-1)
        half = resize_last(half, n // 2 + 1)
        if n % 2 == 0 and m - 1 == n // 2:  # the top mode sits at Nyquist: cosine part only
            half = half.at[..., -1].set(c[..., m - 1].astype(half.dtype))
        values = jnp.fft.irfft(half * n, n=n, axis=-1).astype(coeffs.dtype)
        return jnp.moveaxis(values, -1, axis)

    def basis_matrix(self, x: Array) -> Array:
        """``[cos(2 pi k x), sin(2 pi k x)]`` at points ``x``: shape ``(len(x), size)``.

        Any real ``x`` is allowed (the series is periodic).
        """
        x = jnp.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"`x` must be a 1D array of points, got shape {x.shape}.")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.zeros(()).dtype)
        k = jnp.arange(self.modes, dtype=x.dtype)
        phase = 2 * jnp.pi * x[:, None] * k[None, :]
        return jnp.concatenate([jnp.cos(phase), jnp.sin(phase[:, 1:])], axis=-1)

    def evaluate(self, coeffs: Array, x: Array, axis: int = -1) -> Array:
        """Values at arbitrary points ``x`` (1D): ``axis`` is replaced by ``len(x)``.

        Example:
            >>> basis = Fourier(4)
            >>> c = basis.transform(jnp.cos(2 * jnp.pi * basis.grid(7)))
            >>> basis.evaluate(c, jnp.array([0.0, 0.5])).round(4)
            Array([ 1., -1.], dtype=float32)
        """
        axis = check_size(self, coeffs, axis)
        return self._evaluate(coeffs, jnp.asarray(x, dtype=coeffs.dtype), axis)

    def _evaluate(self, coeffs, x, axis):
        return apply_matrix(self.basis_matrix(x), coeffs, axis)

    def derivative(self, coeffs: Array, order: int = 1, axis: int = -1) -> Array:
        """Coefficients of ``d^order u / dx^order`` (multiplication by ``(2 pi i k)^order``).

        ``order`` is an integer >= 0 (antiderivatives of a periodic series need a zero
        mean; they are not provided).

        Example:
            >>> basis = Fourier(4)
            >>> c = basis.transform(jnp.sin(2 * jnp.pi * basis.grid(7)))
            >>> float(basis.derivative(c)[1])  # 2 pi cos(2 pi x): a_1 = 2 pi  # doctest: +ELLIPSIS
            6.283...
        """
        check_order(order)
        axis = check_size(self, coeffs, axis)
        c = jnp.moveaxis(coeffs, axis, -1)
        z = self._complex(c)
        k = jnp.arange(self.modes, dtype=z.real.dtype)
        factor = jax.lax.complex(jnp.zeros_like(k), 2 * jnp.pi * k) ** order
        factor = factor.astype(z.dtype).reshape((1,) * (z.ndim - 1) + (-1,))
        out = self._real(z * factor).astype(coeffs.dtype)
        return jnp.moveaxis(out, -1, axis)

    def resize(self, coeffs: Array, modes: int, axis: int = -1) -> Array:
        """The same series stored with ``modes`` wavenumbers (truncated or zero-padded)."""
        axis = check_size(self, coeffs, axis, "resize with the basis the coefficients belong to")
        check_positive_int(modes, "modes")
        c = jnp.moveaxis(coeffs, axis, -1)
        m = self.modes
        a = resize_last(c[..., :m], modes)
        b = resize_last(c[..., m:], modes - 1)
        return jnp.moveaxis(jnp.concatenate([a, b], axis=-1), -1, axis)

    def with_modes(self, modes: int) -> Fourier:
        """The same kind of basis with ``modes`` wavenumbers."""
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
        """``G c`` along ``axis`` with the Gram matrix :meth:`gram`."""
        return apply_matrix(self.gram(weight), coeffs, axis)
