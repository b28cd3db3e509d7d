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

    Example:
        >>> basis = TensorBasis((Chebyshev(16), Fourier(32)))   # (t, x)
        >>> c = basis.transform(values)                         # values on basis.grids()
        >>> u_xx = basis.derivative(c, axis=1, order=2)
        >>> u_on_fine_grid = basis.to_grid(c, (64, 256))
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
        return len(self.bases)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the coefficient axes."""
        return tuple(b.size for b in self.bases)

    @property
    def modes(self) -> tuple[int, ...]:
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
        shape = self.exact_grid_shape() if shape is None else self._sizes(shape)
        v = coeffs
        for i, (b, n) in enumerate(zip(self.bases, shape)):
            v = b.to_grid(v, n, axis=self._axis(i))
        return v

    def evaluate(self, coeffs: Array, points: Array) -> Array:
        """Values at scattered ``points`` of shape ``(P, d)``: result ``(..., P)``."""
        points = jnp.asarray(points, dtype=coeffs.dtype)
        mats = [b.basis_matrix(points[:, i]) for i, b in enumerate(self.bases)]
        letters = string.ascii_lowercase[: self.ndim]
        spec = "..." + letters + "," + ",".join(f"z{a}" for a in letters) + "->...z"
        return jnp.einsum(spec, coeffs, *mats)

    def derivative(self, coeffs: Array, axis: int, order: int = 1) -> Array:
        """Coefficients of the ``order``-th partial derivative in variable ``axis``."""
        a = self._axis(axis)
        return self.bases[a].derivative(coeffs, order, axis=a)

    def resize(self, coeffs: Array, modes) -> Array:
        """Store the same function with ``modes`` (one per axis) modes."""
        modes = self._sizes(modes)
        c = coeffs
        for i, (b, m) in enumerate(zip(self.bases, modes)):
            c = b.resize(c, m, axis=self._axis(i))
        return c

    def with_modes(self, modes) -> TensorBasis:
        modes = self._sizes(modes)
        return TensorBasis(tuple(b.with_modes(m) for b, m in zip(self.bases, modes)))

    def product(self, a: Array, b: Array, b_basis: TensorBasis | None = None):
        """The exact product of two series, dealiased.

        Each factor is padded to the sum of the mode counts, taken to the collocation grid
        that resolves the product exactly, multiplied pointwise and transformed back.
        Returns ``(coefficients, basis)`` with ``basis`` the product's (larger) basis.
        """
        b_basis = self if b_basis is None else b_basis
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
        gc = coeffs
        for i, b in enumerate(self.bases):
            gc = b.apply_gram(gc, self._axis(i), weight)
        axes = tuple(range(coeffs.ndim - self.ndim, coeffs.ndim))
        return jnp.sum(coeffs * gc, axis=axes)


def as_tensor_basis(basis) -> TensorBasis:
    if isinstance(basis, TensorBasis):
        return basis
    if isinstance(basis, (Fourier, Chebyshev)):
        return TensorBasis((basis,))
    raise TypeError(
        f"expected a Fourier, Chebyshev or TensorBasis, got {type(basis).__name__}."
    )


__all__ = ["TensorBasis", "apply_matrix"]
