"""Error metrics used by every family's tests, examples and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def relative_l2(
    prediction: ArrayLike,
    reference: ArrayLike,
    *,
    axis: int | Sequence[int] | None = None,
) -> Float[Array, ...]:
    """Relative L2 error ``||prediction - reference||_2 / ||reference||_2``.

    The norms are taken over ``axis`` (all axes by default; e.g. ``axis=(1, 2)`` for one
    error per instance of a batch of 2D fields). For a function ``u`` and points, pass
    ``jax.vmap(u)(points)``. A zero reference gives ``inf`` (or NaN for a zero error), so
    use an absolute error when the reference vanishes.

    Example:
        >>> float(relative_l2(jnp.array([1.0, 2.0]), jnp.array([1.0, 1.0])))  # doctest: +ELLIPSIS
        0.707...
    """
    prediction = jnp.asarray(prediction)
    reference = jnp.asarray(reference)
    if prediction.shape != reference.shape:
        raise ValueError(
            f"`prediction` and `reference` must have the same shape, got {prediction.shape} "
            f"and {reference.shape}; evaluate both on the same points."
        )
    if isinstance(axis, Sequence):
        axis = tuple(axis)
    diff = jnp.sqrt(jnp.sum((prediction - reference) ** 2, axis=axis))
    return diff / jnp.sqrt(jnp.sum(reference**2, axis=axis))
