"""A small training loop for operator learning with fresh PDE parameters every step."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from ..internal import check_key, check_positive


def _conjugate_complex(grads):
    """The steepest-ascent direction of a real loss for every leaf.

    For a real loss ``L`` of a complex leaf ``z = x + i y``, ``jax.grad`` returns
    ``dL/dx - i dL/dy``, the conjugate of the ascent direction (JAX's convention); real
    leaves are unchanged. Optax optimizers expect the ascent direction.
    """
    return jax.tree_util.tree_map(lambda g: jnp.conj(g) if jnp.iscomplexobj(g) else g, grads)


class OperatorTrainResult(NamedTuple):
    model: eqx.Module
    losses: jnp.ndarray
    steps: int
    seconds: float


def train_operator(
    model: eqx.Module,
    loss: Callable,
    sample: Callable,
    optimizer: optax.GradientTransformation,
    *,
    key,
    seconds: float | None = None,
    steps: int | None = None,
    chunk: int = 20,
    compile_first: bool = False,
) -> OperatorTrainResult:
    """Minimize ``loss(model, batch)`` with a fresh ``batch = sample(key_i)`` at every step.

    Stops after ``steps`` steps or, if ``seconds`` is given, at the first chunk boundary
    after that wall time; ``chunk`` steps run in one ``lax.scan``. The clock includes
    compilation unless ``compile_first`` (then one chunk is run and discarded first, and
    ``seconds`` counts training only).
    This is the paper's data-free training: no solution is ever used.
    """
    check_key(key)
    if seconds is None and steps is None:
        raise ValueError("give `seconds` (a wall-time budget) or `steps` (or both).")
    if seconds is not None:
        check_positive(seconds, "seconds")
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = optimizer.init(params)

    @eqx.filter_jit
    def run_chunk(params, opt_state, key):
        def step(carry, k):
            params, opt_state = carry
            batch = sample(k)
            value, grads = jax.value_and_grad(
                lambda p: loss(eqx.combine(p, static), batch)
            )(params)
            updates, opt_state = optimizer.update(_conjugate_complex(grads), opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), value

        (params, opt_state), values = jax.lax.scan(
            step, (params, opt_state), jax.random.split(key, chunk)
        )
        return params, opt_state, values

    if compile_first:
        jax.block_until_ready(run_chunk(params, opt_state, key))
    start = time.perf_counter()
    losses, done = [], 0
    while True:
        key, sub = jax.random.split(key)
        params, opt_state, values = run_chunk(params, opt_state, sub)
        values.block_until_ready()
        losses.append(values)
        done += chunk
        if steps is not None and done >= steps:
            break
        if seconds is not None and time.perf_counter() - start >= seconds:
            break
    losses = jnp.concatenate(losses)
    bad = ~jnp.all(jnp.isfinite(losses))
    if bool(bad):
        raise FloatingPointError(
            "the training loss became NaN/inf; lower the learning rate or check the inputs."
        )
    return OperatorTrainResult(eqx.combine(params, static), losses, done, time.perf_counter() - start)
