"""Shared pieces of the samplers: argument checks, the model in the needed
parametrization, and the per-step order schedule of multistep methods."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..internal import check_key, check_one_of
from ._grid import check_grid
from ._model import PARAMETRIZATIONS, to_data, to_noise


def prepare(model, schedule, x_T, grid, parametrization):
    """Validate and return ``(grid, lambdas, data_model, noise_model)``."""
    if not callable(model):
        raise TypeError(f"`model` must be a callable model(x, t), got {type(model).__name__}.")
    check_one_of(parametrization, PARAMETRIZATIONS, "parametrization")
    x_T = jnp.asarray(x_T)
    if not jnp.issubdtype(x_T.dtype, jnp.floating):
        raise TypeError(f"`x_T` must be a floating array, got dtype {x_T.dtype}.")
    grid = check_grid(schedule, grid).astype(x_T.dtype)
    return grid, schedule.lambda_(grid), to_data(model, schedule, parametrization), to_noise(model, schedule, parametrization)


def check_order(order: int, allowed: tuple[int, ...], name: str) -> None:
    if isinstance(order, bool) or order not in allowed:
        raise ValueError(f"{name} supports order in {allowed}, got {order!r}.")


def check_stochastic_key(key, needed: bool, name: str) -> None:
    if needed:
        if key is None:
            raise TypeError(f"{name} with noise (eta > 0 or an SDE solver) needs a PRNG `key`.")
        check_key(key)


def step_orders(num_steps: int, order: int, lower_order_final: bool, always_lower_final: bool = False):
    """Effective order of each of ``num_steps`` multistep steps: warm-up
    ``min(order, i + 1)`` and, with ``lower_order_final``, ``min(., num_steps - i)`` at the
    end (for fewer than 15 steps, or always if ``always_lower_final``), which keeps very
    short runs stable (DPM-Solver++, Sec. 5)."""
    orders = []
    for i in range(num_steps):
        k = min(order, i + 1)
        if lower_order_final and (always_lower_final or num_steps < 15):
            k = min(k, num_steps - i)
        orders.append(k)
    return jnp.asarray(orders, dtype=jnp.int32)


def final_denoise(x, data_model, t_end, denoise_to_zero: bool):
    """With ``denoise_to_zero``, return the data prediction at the last time (one more NFE):
    the step to ``sigma = 0`` of a first-order exponential integrator."""
    return data_model(x, t_end) if denoise_to_zero else x


def gaussian_noise(key, like):
    """Standard normal noise shaped and typed like ``like``, drawn in float32 and cast: the same
    key gives the same noise (to rounding) in float32 and float64, so a stochastic sampler's
    float32 and float64 runs follow the same path."""
    return jax.random.normal(key, like.shape, jnp.float32).astype(like.dtype)


def split_keys(key, n):
    return jax.random.split(key, n) if key is not None else jnp.zeros((n,), jnp.uint32)
