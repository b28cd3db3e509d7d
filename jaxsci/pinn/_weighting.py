"""Loss weighting: fixed, gradient-norm balancing and causal weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from ..internal import check_positive_int


def weighted_sum(losses: Sequence[Float[Array, ""]], weights: Sequence[float] | Float[Array, " k"]):
    """``sum_i w_i L_i`` (fixed weights)."""
    if len(losses) != len(weights):
        raise ValueError(f"got {len(losses)} losses but {len(weights)} weights.")
    return sum(w * loss for w, loss in zip(weights, losses))


def grad_norm_weights(
    loss_fns: Sequence[Callable], params, previous: Float[Array, " k"] | None = None, momentum: float = 0.9
) -> Float[Array, " k"]:
    """Gradient-norm balancing (Wang, Teng, Perdikaris, SIAM J. Sci. Comput. 2021; in the
    form of Wang et al., "An expert's guide to training PINNs", 2023, Sec. 5.1):

        w_i = (sum_j |grad L_j|) / |grad L_i|,    w <- momentum w + (1 - momentum) w_new,

    so every term contributes a gradient of the same norm. Returns the weights with their
    gradient stopped; call it every few hundred steps and keep the result.
    """
    norms = jnp.stack([optax.tree.norm(jax.grad(f)(params)) for f in loss_fns])
    new = jnp.sum(norms) / jnp.maximum(norms, jnp.finfo(norms.dtype).tiny)
    if previous is not None:
        new = momentum * previous + (1.0 - momentum) * new
    return jax.lax.stop_gradient(new)


def causal_weights(slice_losses: Float[Array, " m"], epsilon: float = 1.0) -> Float[Array, " m"]:
    """Causal weights for time-dependent PINNs (Wang, Sankaran, Perdikaris, "Respecting
    causality for training physics-informed neural networks", CMAME 2024, Eq. 12):

        w_k = exp(-epsilon * sum_{j<k} L_j),

    for residual losses ``L_k`` on time slices sorted by time: a slice gets weight only once
    the earlier ones are resolved. Gradients through the weights are stopped.
    """
    if slice_losses.ndim != 1:
        raise ValueError(f"`slice_losses` must be a vector (one loss per time slice), got shape {slice_losses.shape}.")
    cumulative = jnp.concatenate([jnp.zeros(1, slice_losses.dtype), jnp.cumsum(slice_losses)[:-1]])
    return jax.lax.stop_gradient(jnp.exp(-epsilon * cumulative))


def causal_residual_loss(
    residuals: Float[Array, " n"], times: Float[Array, " n"], num_slices: int, t0: float, t1: float, epsilon: float = 1.0
) -> Float[Array, ""]:
    """``mean_k w_k L_k`` with ``L_k`` the mean squared residual of the points whose time
    falls in slice ``k`` of ``[t0, t1]`` and ``w_k`` the :func:`causal_weights`."""
    if residuals.shape != times.shape:
        raise ValueError(f"residuals {residuals.shape} and times {times.shape} must have the same shape.")
    check_positive_int(num_slices, "num_slices")
    if not isinstance(t1 - t0, jax.core.Tracer) and not float(t1) > float(t0):
        raise ValueError(f"causal_residual_loss needs t1 > t0 (the time interval), got t0={t0}, t1={t1}.")
    slice_index = jnp.clip(((times - t0) / (t1 - t0) * num_slices).astype(jnp.int32), 0, num_slices - 1)
    sums = jnp.zeros(num_slices, residuals.dtype).at[slice_index].add(residuals**2)
    counts = jnp.zeros(num_slices, residuals.dtype).at[slice_index].add(1.0)
    slice_losses = sums / jnp.maximum(counts, 1.0)
    return jnp.mean(causal_weights(slice_losses, epsilon) * slice_losses)
