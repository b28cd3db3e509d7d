"""Loss weighting: fixed, gradient-norm balancing and causal weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from ..internal import check_positive_int


def _check_epsilon(epsilon):
    """``epsilon >= 0`` (a negative one weights later slices more: anti-causal)."""
    if isinstance(epsilon, jax.core.Tracer):
        return eqx.error_if(
            epsilon, ~(epsilon >= 0), "`epsilon` must be a non-negative number (causality strength)."
        )
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.number, np.ndarray, jax.Array)) \
            or np.ndim(epsilon) != 0:
        raise TypeError(f"`epsilon` must be a non-negative number, got {epsilon!r}.")
    if not float(epsilon) >= 0.0 or not np.isfinite(float(epsilon)):
        raise ValueError(
            f"`epsilon` must be a non-negative finite number (causality strength), got {epsilon!r}; "
            "a negative epsilon would weight later time slices more (anti-causal)."
        )
    return epsilon


def weighted_sum(losses: Sequence[Float[Array, ""]], weights: Sequence[float] | Float[Array, " k"]):
    """``sum_i w_i L_i`` (fixed weights).

    Example:
        >>> float(weighted_sum([jnp.array(1.0), jnp.array(2.0)], [1.0, 0.5]))
        2.0
    """
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

    Example:
        >>> fns = [lambda p: jnp.sum(p**2), lambda p: 10.0 * p[0]]
        >>> grad_norm_weights(fns, jnp.array([1.0, 2.0])).shape
        (2,)
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"`momentum` must be in [0, 1), got {momentum!r}.")
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
    the earlier ones are resolved. ``epsilon >= 0`` (0 gives equal weights). Gradients
    through the weights are stopped.

    Example:
        >>> causal_weights(jnp.array([1.0, 2.0]), epsilon=0.5)
        Array([1.        , 0.60653067], dtype=float32)
    """
    epsilon = _check_epsilon(epsilon)
    if not hasattr(slice_losses, "ndim") or slice_losses.ndim != 1:
        raise ValueError(f"`slice_losses` must be a vector (one loss per time slice), got shape {slice_losses.shape}.")
    cumulative = jnp.concatenate([jnp.zeros(1, slice_losses.dtype), jnp.cumsum(slice_losses)[:-1]])
    strength = jnp.asarray(epsilon, cumulative.dtype)
    return jax.lax.stop_gradient(jnp.exp(-strength * cumulative))


def causal_residual_loss(
    residuals: Float[Array, " n"], times: Float[Array, " n"], num_slices: int, t0: float, t1: float, epsilon: float = 1.0
) -> Float[Array, ""]:
    """``mean_k w_k L_k`` with ``L_k`` the mean squared residual of the points whose time
    falls in slice ``k`` of ``[t0, t1]`` and ``w_k`` the :func:`causal_weights`
    (Wang, Sankaran, Perdikaris, CMAME 2024, Eq. 13). ``t1 > t0`` is checked also when
    traced (``equinox.error_if``).

    Example:
        >>> causal_residual_loss(jnp.ones(4), jnp.linspace(0.0, 1.0, 4), 2, 0.0, 1.0).shape
        ()
    """
    if residuals.shape != times.shape:
        raise ValueError(f"residuals {residuals.shape} and times {times.shape} must have the same shape.")
    check_positive_int(num_slices, "num_slices")
    message = "causal_residual_loss needs t1 > t0 (the time interval)"
    span = t1 - t0
    if isinstance(span, jax.core.Tracer):
        span = eqx.error_if(span, ~(span > 0), message + ".")
    elif not float(t1) > float(t0):
        raise ValueError(f"{message}, got t0={t0}, t1={t1}.")
    start = jnp.asarray(t0, times.dtype)
    span = jnp.asarray(span, times.dtype)
    scaled = (times - start) / span * jnp.asarray(num_slices, times.dtype)
    slice_index = jnp.clip(scaled.astype(jnp.int32), 0, num_slices - 1)
    sums = jnp.zeros(num_slices, residuals.dtype).at[slice_index].add(residuals**2)
    counts = jnp.zeros(num_slices, residuals.dtype).at[slice_index].add(jnp.ones_like(residuals))
    slice_losses = sums / jnp.maximum(counts, jnp.ones_like(counts))
    return jnp.mean(causal_weights(slice_losses, epsilon) * slice_losses)
