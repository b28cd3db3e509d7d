"""Chebyshev series on an interval ``[lo, hi]``.

``u(x) = sum_{k=0}^{modes-1} c_k T_k(s)`` with ``s = (2 x - lo - hi) / (hi - lo)``.
Collocation points are the Chebyshev-Gauss-Lobatto points
``x_j = (lo + hi)/2 + (hi - lo)/2 cos(pi j / (n - 1))`` (``j = 0`` is ``hi``), so the
transform is a type-I discrete cosine transform, computed here by an FFT of the even
extension. Derivatives and antiderivatives use the recurrences
``c'_{k-1} = c'_{k+1} + 2 k c_k`` and ``int T_k = T_{k+1}/(2(k+1)) - T_{k-1}/(2(k-1))``
(Mason & Handscomb, *Chebyshev Polynomials*, 2003, Sec. 2.4). This is the Chebyshev
basis of Neural Spectral Methods (Du, Chalapathi, Krishnapriyan, ICLR 2024).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..internal import check_positive_int
from ._axis import apply_matrix, check_order, check_size, normalize_axis, resize_last


def _derivative_matrix(m: int) -> np.ndarray:
    """``D`` with ``D @ c`` the coefficients of ``du/ds`` (same length ``m``)."""
    d = np.zeros((m, m))
    for k in range(m):
        for j in range(k + 1, m, 2):
            d[k, j] = 2.0 * j
    d[0] *= 0.5
    return d


def _integral_matrix(m: int) -> np.ndarray:
    """``S`` (``(m+1, m)``): coefficients of ``int_{-1}^s u``, which is zero at ``s = -1``."""
    s = np.zeros((m + 1, m))
    for k in range(m):
        if k == 0:
            s[1, 0] = 1.0
        elif k == 1:
            s[2, 1] = 0.25
            s[0, 1] = -0.25  # T_2/4 - T_0/4 = (T_2 - T_0)/4; the constant is fixed below
        else:
            s[k + 1, k] += 1.0 / (2 * (k + 1))
            s[k - 1, k] -= 1.0 / (2 * (k - 1))
    # choose the constant so that the value at s = -1 (T_k(-1) = (-1)^k) is zero
    signs = (-1.0) ** np.arange(m + 1)
    s[0] -= signs @ s
    return s


def _multiply_by_s_matrix(m: int) -> np.ndarray:
    """``(m+1, m)``: coefficients of ``s u(s)`` (``s T_k = (T_{k+1} + T_{|k-1|})/2``)."""
    p = np.zeros((m + 1, m))
    for k in range(m):
        if k == 0:
            p[1, 0] = 1.0
        else:
            p[k + 1, k] += 0.5
            p[k - 1, k] += 0.5
    return p


def _gram_matrix(m: int) -> np.ndarray:
    """``int_{-1}^1 T_i T_j ds``: ``1/(1-(i+j)^2) + 1/(1-(i-j)^2)`` for ``i + j`` even."""
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    even = (i + j) % 2 == 0
    with np.errstate(divide="ignore"):
        g = 1.0 / (1.0 - (i + j) ** 2.0) + 1.0 / (1.0 - (i - j) ** 2.0)
    return np.where(even, g, 0.0)


def _check_points(n) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"a Chebyshev grid needs an integer n >= 2 points, got {n!r}.")


class Chebyshev(eqx.Module):
    """Chebyshev basis ``T_0 .. T_{modes-1}`` on ``interval = (lo, hi)``.

    Example:
        >>> basis = Chebyshev(16, (0.0, 1.0))
        >>> t = basis.grid(16)
        >>> c = basis.transform(jnp.exp(t))
        >>> basis.evaluate(basis.derivative(c), jnp.array([0.5])).round(4)  # exp(0.5)
        Array([1.6487], dtype=float32)
    """

    modes: int = eqx.field(static=True)
    interval: tuple[float, float] = eqx.field(static=True, default=(0.0, 1.0))

    def __check_init__(self):
        if isinstance(self.modes, bool) or not isinstance(self.modes, (int, np.integer)) or self.modes < 2:
            raise ValueError(
                f"`modes` of a Chebyshev basis must be an integer >= 2 (the number of "
                f"polynomials T_0..T_(modes-1)), got {self.modes!r}."
            )
        lo, hi = self.interval
        if not hi > lo:
            raise ValueError(
                f"`interval` must be (lo, hi) with hi > lo, got {self.interval!r}."
            )

    @property
    def size(self) -> int:
        """Number of coefficients, ``modes``."""
        return self.modes

    @property
    def _half(self) -> float:
        return (self.interval[1] - self.interval[0]) / 2

    def exact_grid_size(self) -> int:
        """Smallest Gauss-Lobatto grid that holds every coefficient exactly: ``modes``."""
        return self.modes

    def grid(self, n: int, dtype=None) -> Float[Array, " n"]:
        """Chebyshev-Gauss-Lobatto points, from ``hi`` (``j = 0``) down to ``lo``."""
        _check_points(n)
        lo, hi = self.interval
        j = jnp.arange(n, dtype=dtype or jnp.zeros(()).dtype)
        return (lo + hi) / 2 + self._half * jnp.cos(jnp.pi * j / (n - 1))

    def transform(self, values: Array, axis: int = -1) -> Array:
        """Coefficients of the polynomial interpolant of ``values`` at ``grid(n)`` (DCT-I)."""
        axis = normalize_axis(axis, values.ndim)
        v = jnp.moveaxis(values, axis, -1)
        n = v.shape[-1]
        if n < 2:
            raise ValueError(f"a Chebyshev transform needs n >= 2 grid values, got {n}.")
        if not jnp.issubdtype(v.dtype, jnp.inexact):
            v = v.astype(jnp.zeros(()).dtype)
        ext = jnp.concatenate([v, v[..., -2:0:-1]], axis=-1)
        c = jnp.fft.rfft(ext, axis=-1).real.astype(v.dtype) / (n - 1)
        c = c.at[..., 0].multiply(0.5).at[..., n - 1].multiply(0.5)
        return jnp.moveaxis(resize_last(c, self.modes), -1, axis)

    def to_grid(self, coeffs: Array, n: int, axis: int = -1) -> Array:
        """Values at the ``n`` Gauss-Lobatto points (any ``n >= 2``)."""
        axis = check_size(self, coeffs, axis)
        _check_points(n)
        if self.modes > n:  # more coefficients than points: sum directly
            return self._evaluate(coeffs, self.grid(n, coeffs.dtype), axis)
        c = resize_last(jnp.moveaxis(coeffs, axis, -1), n)
        ext = jnp.concatenate([c, c[..., -2:0:-1]], axis=-1)
        f = jnp.fft.rfft(ext, axis=-1).real.astype(coeffs.dtype)
        sign = jnp.where(jnp.arange(n) % 2 == 0, 1, -1).astype(c.dtype)
        sign = sign.reshape((1,) * (c.ndim - 1) + (n,))
        values = (f + c[..., :1] + c[..., -1:] * sign) / 2
        return jnp.moveaxis(values, -1, axis)

    def basis_matrix(self, x: Array) -> Array:
        """``T_k(s(x))`` at points ``x`` of the interval: shape ``(len(x), modes)``.

        Points outside the interval are refused: concrete ones at once (``ValueError``),
        traced ones (under ``jit``) by an ``eqx.error_if`` check at run time. (A Chebyshev
        series extrapolates badly; rounding of up to ``1e-6`` of the interval length is
        clipped.)
        """
        x = jnp.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"`x` must be a 1D array of points, got shape {x.shape}.")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.zeros(()).dtype)
        lo, hi = self.interval
        s = (2 * x - (lo + hi)) / (hi - lo)
        outside = jnp.abs(s) > 1 + 2e-6
        message = (
            f"points outside the interval {self.interval} of the Chebyshev basis; a Chebyshev "
            "series is only valid on its interval (map the points into it, or build the basis "
            "on the interval you need)."
        )
        if isinstance(outside, jax.core.Tracer):
            s = eqx.error_if(s, jnp.any(outside), message)
        elif bool(jnp.any(outside)):
            bad = np.asarray(x)[np.asarray(outside)]
            raise ValueError(f"{len(bad)} " + message + f" First: {bad[0]!r}.")
        s = jnp.clip(s, -1.0, 1.0)
        k = jnp.arange(self.modes, dtype=x.dtype)
        return jnp.cos(k[None, :] * jnp.arccos(s)[:, None])

    def evaluate(self, coeffs: Array, x: Array, axis: int = -1) -> Array:
        """Values at arbitrary points ``x`` in the interval (1D); see :meth:`basis_matrix`."""
        axis = check_size(self, coeffs, axis)
        return self._evaluate(coeffs, jnp.asarray(x, dtype=coeffs.dtype), axis)

    def _evaluate(self, coeffs, x, axis):
        return apply_matrix(self.basis_matrix(x), coeffs, axis)

    def derivative(self, coeffs: Array, order: int = 1, axis: int = -1) -> Array:
        """Coefficients of ``d^order u / dx^order`` (same number of modes; ``order >= 0``).

        Example:
            >>> basis = Chebyshev(3, (0.0, 2.0))
            >>> basis.derivative(jnp.array([0.0, 0.0, 1.0]))  # T_2(s) = 2 s^2 - 1, s = x - 1
            Array([0., 4., 0.], dtype=float32)
        """
        check_order(order)
        axis = check_size(self, coeffs, axis)
        d = np.linalg.matrix_power(_derivative_matrix(self.modes) / self._half, order)
        return apply_matrix(d, coeffs, axis)

    def integral(self, coeffs: Array, axis: int = -1) -> Array:
        """Coefficients (``modes + 1``) of ``int_lo^x u``, which vanishes at ``x = lo``."""
        axis = check_size(self, coeffs, axis)
        return apply_matrix(_integral_matrix(self.modes) * self._half, coeffs, axis)

    def multiply_by_x(self, coeffs: Array, axis: int = -1) -> Array:
        """Coefficients (``modes + 1``) of ``(x - lo) u(x)``, zero at ``x = lo``.

        The exact mollifier for an initial value at ``x = lo``: ``u = u_0 + (x - lo) v``.
        """
        axis = check_size(self, coeffs, axis)
        m = self.modes
        shift = np.zeros((m + 1, m))
        shift[:m] = np.eye(m)
        # (x - lo) = half * (s + 1)
        return apply_matrix(self._half * (_multiply_by_s_matrix(m) + shift), coeffs, axis)

    def resize(self, coeffs: Array, modes: int, axis: int = -1) -> Array:
        """The same series with ``modes`` coefficients (truncated or zero-padded)."""
        axis = check_size(self, coeffs, axis, "resize with the basis the coefficients belong to")
        check_positive_int(modes, "modes")
        return jnp.moveaxis(resize_last(jnp.moveaxis(coeffs, axis, -1), modes), -1, axis)

    def with_modes(self, modes: int) -> Chebyshev:
        """The same interval with ``modes`` polynomials."""
        return Chebyshev(modes, self.interval)

    def product_modes(self, other_modes: int) -> int:
        """Modes of the exact product of a ``modes`` and an ``other_modes`` series."""
        return self.modes + other_modes - 1

    def gram(self, weight: str = "uniform") -> np.ndarray:
        """Matrix of the squared norm in coefficient space.

        ``"uniform"``: ``int_lo^hi T_i T_j dx`` (the plain L2 norm, exact);
        ``"chebyshev"``: the Chebyshev-weighted norm ``int T_i T_j / sqrt(1 - s^2) ds``
        ``= diag(pi, pi/2, ...)``; ``"coefficients"``: the plain sum of squares, as in the
        reference implementation of NSM.
        """
        if weight == "coefficients":
            return np.eye(self.modes)
        if weight == "chebyshev":
            w = np.full(self.modes, np.pi / 2)
            w[0] = np.pi
            return np.diag(w)
        return _gram_matrix(self.modes) * self._half

    def apply_gram(self, coeffs: Array, axis: int, weight: str = "uniform") -> Array:
        """``G c`` along ``axis`` with the Gram matrix :meth:`gram`."""
        return apply_matrix(self.gram(weight), coeffs, axis)
