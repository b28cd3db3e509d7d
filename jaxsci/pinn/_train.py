"""Training loops: jitted optax steps, run in ``lax.scan`` chunks with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..core import ProgressBar
from ..internal import check_key, check_positive_int


class TrainResult(eqx.Module):
    """The trained model and its history (one entry per evaluation)."""

    model: Any
    steps: np.ndarray
    loss: np.ndarray  # mean training loss over the steps since the previous evaluation
    error: np.ndarray  # the value of `evaluate` (NaN where none was given)
    wall_time: np.ndarray  # seconds since the start of training, compile time included


def make_step(loss_fn: Callable, optimizer: optax.GradientTransformation, static) -> Callable:
    """One optimizer step ``(params, opt_state, points, key) -> (params, opt_state, loss)``.

    ``loss_fn(model, points, key)`` sees the model rebuilt from ``params`` (the floating
    arrays) and ``static`` (everything else). Optimizers that need the objective (optax's
    L-BFGS line search) get it through ``value_fn``.
    """

    def step(params, opt_state, points, key):
        def objective(p):
            return loss_fn(eqx.combine(p, static), points, key)

        loss, grads = jax.value_and_grad(objective)(params)
        updates, opt_state = optimizer.update(
            grads, opt_state, params, value=loss, grad=grads, value_fn=objective
        )
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def train(
    model,
    loss_fn: Callable,
    optimizer: optax.GradientTransformation,
    num_steps: int,
    *,
    key: jax.Array,
    sample_points: Callable[[jax.Array], jax.Array],
    evaluate: Callable | None = None,
    eval_every: int = 500,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Train ``model`` for ``num_steps`` optimizer steps.

    Each step draws fresh collocation points ``sample_points(key)`` and minimises
    ``loss_fn(model, points, key)``. The steps run in jitted ``lax.scan`` chunks of
    ``eval_every`` steps; after each chunk ``evaluate(model)`` (e.g. the relative L2 error
    on a test set) is recorded. Works in float32 and float64 (the model's dtype).

    Example:
        >>> result = train(net, loss, optax.adam(1e-3), 2000, key=jax.random.key(0),
        ...                sample_points=lambda k: domain.sample(k, 100),
        ...                evaluate=lambda m: relative_l2(m, exact, test_points))
    """
    check_positive_int(num_steps, "num_steps")
    check_positive_int(eval_every, "eval_every")
    check_key(key)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    step = make_step(loss_fn, optimizer, static)
    opt_state = optimizer.init(params)
    bar = ProgressBar(num_steps, desc=desc, enabled=progress)

    @eqx.filter_jit
    def run_chunk(params, opt_state, key, first_step, length):
        def body(carry, i):
            params, opt_state, key = carry
            key, k_points, k_loss = jax.random.split(key, 3)
            points = sample_points(k_points)
            params, opt_state, loss = step(params, opt_state, points, k_loss)
            bar.tick(first_step + i, loss=loss)
            return (params, opt_state, key), loss

        (params, opt_state, key), losses = jax.lax.scan(
            body, (params, opt_state, key), jnp.arange(length)
        )
        return params, opt_state, key, jnp.mean(losses)

    eval_fn = eqx.filter_jit(evaluate) if evaluate is not None else None
    steps, losses, errors, walls = [], [], [], []
    start = time.perf_counter()
    done = 0
    while done < num_steps:
        length = min(eval_every, num_steps - done)
        # the step counter is traced (a Python int would be static and recompile every chunk)
        params, opt_state, key, loss = run_chunk(params, opt_state, key, jnp.asarray(done), length)
        done += length
        model_now = eqx.combine(params, static)
        error = float(eval_fn(model_now)) if eval_fn is not None else float("nan")
        loss = float(loss)
        if not np.isfinite(loss):
            bar.close()
            raise FloatingPointError(
                f"the training loss became {loss} by step {done}; lower the learning rate, check "
                "the problem's scaling, or use float64."
            )
        steps.append(done)
        losses.append(loss)
        errors.append(error)
        walls.append(time.perf_counter() - start)
    jax.effects_barrier()
    bar.close()
    return TrainResult(
        eqx.combine(params, static), np.asarray(steps), np.asarray(losses), np.asarray(errors), np.asarray(walls)
    )
