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
