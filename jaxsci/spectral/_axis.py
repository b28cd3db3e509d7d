"""Small helpers to apply a one-dimensional operation along one axis of an array."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"`axis` {axis} is out of range for an array with {ndim} dimensions; pass an "
            f"axis between {-ndim} and {ndim - 1}."
        )
    return axis % ndim


def resize_last(c, size: int):
    """Truncate or zero-pad the last axis to ``size`` entries."""
    have = c.shape[-1]
    if have >= size:
        return c[..., :size]
    pad = [(0, 0)] * (c.ndim - 1) + [(0, size - have)]
    return jnp.pad(c, pad)


def apply_matrix(matrix: np.ndarray, c, axis: int):
    """``matrix @ c`` along ``axis`` (``matrix`` of shape (new, old))."""
    axis = normalize_axis(axis, c.ndim)
    m = jnp.asarray(matrix, dtype=c.dtype)
    out = jnp.tensordot(m, jnp.moveaxis(c, axis, 0), axes=(1, 0))
    return jnp.moveaxis(out, 0, axis)


def check_size(basis, coeffs, axis: int, hint: str | None = None) -> int:
    """The normalized ``axis``, after checking that it holds ``basis.size`` coefficients."""
    ndim = getattr(coeffs, "ndim", None)
    if ndim is None:
        raise TypeError(f"`coeffs` must be an array, got {type(coeffs).__name__}.")
    if ndim == 0:
        raise ValueError("`coeffs` must have at least one axis (the coefficient axis), got a scalar.")
    axis = normalize_axis(axis, ndim)
    if coeffs.shape[axis] != basis.size:
        raise ValueError(
            f"`coeffs` has {coeffs.shape[axis]} entries along axis {axis}, but this "
            f"{type(basis).__name__} basis with {basis.modes} modes stores {basis.size}; "
            + (hint or "pass coefficients of this basis (`basis.transform(values)`), or "
               "`resize` them with the basis they belong to.")
        )
    return axis


def check_order(order) -> None:
    """A derivative order is an integer >= 0."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(
            f"`order` must be an integer >= 0 (the number of derivatives), got {order!r}."
        )


def check_grid_size(n, minimum: int) -> None:
    """A grid size is an integer >= ``minimum``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"a grid needs an integer number of points >= {minimum}, got {n!r}.")
