"""Tensor products of one-dimensional bases (e.g. Chebyshev in t x Fourier in x, y).

Coefficients of a function of ``d`` variables are an array whose last ``d`` axes are the
coefficient axes of the factor bases, in order; leading axes (channels, batch) are free.
"""

from __future__ import annotations

import string

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ._axis import apply_matrix
from ._chebyshev import Chebyshev
from ._fourier import Fourier

NORM_WEIGHTS = ("uniform", "chebyshev", "coefficients")


class TensorBasis(eqx.Module):
    """Product basis ``phi_{k_1}(x_1) ... phi_{k_d}(x_d)`` of 1D ``Fourier``/``Chebyshev`` bases.

    Coefficient arrays end with :attr:`shape` (checked by every method that takes them).

    Example:
        >>> basis = TensorBasis((Chebyshev(16), Fourier(32)))   # (t, x)
        >>> t, x = basis.grids()
        >>> c = basis.transform(jnp.exp(t)[:, None] * jnp.sin(2 * jnp.pi * x)[None, :])
        >>> u_xx = basis.derivative(c, axis=1, order=2)
        >>> basis.to_grid(c, (64, 256)).shape
        (64, 256)
    """

    bases: tuple = eqx.field(static=True)

    def __check_init__(self):
        if not isinstance(self.bases, tuple) or not self.bases:
            raise TypeError(
                "`bases` must be a non-empty tuple of Fourier/Chebyshev bases, e.g. "
                f"`TensorBasis((Chebyshev(16), Fourier(32)))`, got {self.bases!r}."
            )
        for b in self.bases:
            if not isinstance(b, (Fourier, Chebyshev)):
                raise TypeError(
                    f"every factor of a TensorBasis must be a Fourier or Chebyshev basis, "
                    f"got {type(b).__name__}."
                )

    @property
    def ndim(self) -> int:
        """Number of variables."""
        return len(self.bases)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the coefficient axes."""
        return tuple(b.size for b in self.bases)

    @property
    def modes(self) -> tuple[int, ...]:
        """Modes of every factor."""
        return tuple(b.modes for b in self.bases)

    def exact_grid_shape(self) -> tuple[int, ...]:
        """Smallest collocation grid that represents the coefficients exactly."""
        return tuple(b.exact_grid_size() for b in self.bases)

    def _axis(self, i: int) -> int:
        if not -self.ndim <= i < self.ndim:
            raise ValueError(
                f"`axis` must name one of the {self.ndim} variables (0..{self.ndim - 1}), got {i}."
            )
        return i % self.ndim - self.ndim

    def _check_coeffs(self, coeffs, name: str = "coeffs"):
        shape = getattr(coeffs, "shape", None)
        if shape is None:
            raise TypeError(f"`{name}` must be an array of coefficients, got {type(coeffs).__name__}.")
        if len(shape) < self.ndim or tuple(shape[len(shape) - self.ndim :]) != self.shape:
            raise ValueError(
                f"`{name}` must end with the coefficient shape {self.shape} of this basis, got "
                f"shape {tuple(shape)}. Use `basis.transform(values)` for values, or "
                "`basis.resize` for coefficients of another basis."
            )
        return coeffs

    def _sizes(self, shape) -> tuple[int, ...]:
        if isinstance(shape, (int, np.integer)):
            shape = (int(shape),) * self.ndim
        shape = tuple(shape)
        if len(shape) != self.ndim:
            raise ValueError(
                f"a grid for a {self.ndim}-variable basis needs {self.ndim} sizes, got {shape}."
            )
        return shape

    def grids(self, shape=None) -> tuple[Array, ...]:
        """The 1D collocation grids (default: :meth:`exact_grid_shape`)."""
        shape = self.exact_grid_shape() if shape is None else self._sizes(shape)
        return tuple(b.grid(n) for b, n in zip(self.bases, shape))

    def transform(self, values: Array) -> Array:
        """Coefficients from values on the tensor grid ``grids(values.shape[-d:])``."""
        c = values
        for i, b in enumerate(self.bases):
            c = b.transform(c, axis=self._axis(i))
        return c

    def to_grid(self, coeffs: Array, shape=None) -> Array:
        """Values on the tensor grid of ``shape`` (an int for every axis, or one per axis)."""
        self._check_coeffs(coeffs)
        shape = self.exact_grid_shape() if shape is None else self._sizes(shape)
        v = coeffs
        for i, (b, n) in enumerate(zip(self.bases, shape)):
            v = b.to_grid(v, n, axis=self._axis(i))
        return v

    def evaluate(self, coeffs: Array, points: Array) -> Array:
        """Values at scattered ``points`` of shape ``(P, d)``: result ``(..., P)``.

        Chebyshev coordinates must lie in their intervals (see ``Chebyshev.basis_matrix``).
        """
        self._check_coeffs(coeffs)
        points = jnp.asarray(points, dtype=coeffs.dtype)
        if points.ndim != 2 or points.shape[1] != self.ndim:
            raise ValueError(
                f"`points` must have shape (P, {self.ndim}) for a {self.ndim}-variable basis, "
                f"got {points.shape}."
            )
        mats = [b.basis_matrix(points[:, i]) for i, b in enumerate(self.bases)]
        letters = string.ascii_lowercase[: self.ndim]
        spec = "..." + letters + "," + ",".join(f"z{a}" for a in letters) + "->...z"
        return jnp.einsum(spec, coeffs, *mats)

    def derivative(self, coeffs: Array, axis: int, order: int = 1) -> Array:
        """Coefficients of the ``order``-th partial derivative in variable ``axis``."""
        self._check_coeffs(coeffs)
        a = self._axis(axis)
        return self.bases[a].derivative(coeffs, order, axis=a)

    def resize(self, coeffs: Array, modes) -> Array:
        """Store the same function with ``modes`` (one per axis) modes."""
        self._check_coeffs(coeffs)
        modes = self._sizes(modes)
        c = coeffs
        for i, (b, m) in enumerate(zip(self.bases, modes)):
            c = b.resize(c, m, axis=self._axis(i))
        return c

    def with_modes(self, modes) -> TensorBasis:
        """The same factors with ``modes`` (one per axis, or one int for all)."""
        modes = self._sizes(modes)
        return TensorBasis(tuple(b.with_modes(m) for b, m in zip(self.bases, modes)))

    def product(self, a: Array, b: Array, b_basis: TensorBasis | None = None):
        """The exact product of two series, dealiased.

        Each factor is padded to the sum of the mode counts, taken to the collocation grid
        that resolves the product exactly, multiplied pointwise and transformed back.
        Returns ``(coefficients, basis)`` with ``basis`` the product's (larger) basis.
        """
        b_basis = self if b_basis is None else b_basis
        self._check_coeffs(a, "a")
        b_basis._check_coeffs(b, "b")
        out = self.with_modes(
            tuple(x.product_modes(y.modes) for x, y in zip(self.bases, b_basis.bases))
        )
        grid = out.exact_grid_shape()
        va = self.to_grid(a, grid)
        vb = b_basis.to_grid(b, grid)
        return out.transform(va * vb), out

    def norm2(self, coeffs: Array, weight: str = "uniform") -> Array:
        """Squared norm by Parseval's identity: ``sum c G c`` with each factor's Gram matrix.

        ``weight="uniform"`` is ``int u^2 dx`` over the domain (exact); ``"chebyshev"``
        uses the Chebyshev weight on the Chebyshev factors; ``"coefficients"`` the plain
        sum of squared coefficients. Leading axes are kept.
        """
        if weight not in NORM_WEIGHTS:
            raise ValueError(f"`weight` must be one of {NORM_WEIGHTS}, got {weight!r}.")
        self._check_coeffs(coeffs)
        gc = coeffs
        for i, b in enumerate(self.bases):
            gc = b.apply_gram(gc, self._axis(i), weight)
        axes = tuple(range(coeffs.ndim - self.ndim, coeffs.ndim))
        return jnp.sum(coeffs * gc, axis=axes)


def as_tensor_basis(basis) -> TensorBasis:
    """``basis`` as a :class:`TensorBasis` (a 1D basis becomes a one-factor product)."""
    if isinstance(basis, TensorBasis):
        return basis
    if isinstance(basis, (Fourier, Chebyshev)):
        return TensorBasis((basis,))
    raise TypeError(
        f"expected a Fourier, Chebyshev or TensorBasis, got {type(basis).__name__}."
    )


__all__ = ["TensorBasis", "apply_matrix"]
