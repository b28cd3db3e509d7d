"""Many time steps of any stepper in one compiled loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..core import RESULTS
from ..internal import check_key, check_positive_int, run_progress
from ._checks import check_problem, check_step_inputs, is_traced
from ._step import AbstractStepper, as_time


class Evolution(eqx.Module):
    """What :func:`evolve` returns.

    Attributes:
        model: the network at the last time (the last successful step's, if one failed).
        times: ``t0 + (i + 1) dt`` for every step ``i``, shape ``(num_steps,)``.
        residuals: every step's relative fit residual (:class:`StepSolution`).
        errors: ``evaluate(model, t)`` after every step (NaN without ``evaluate``).
        wall_time: seconds of the call, compilation included the first time a shape is
            seen (NaN when ``evolve`` is traced inside an outer ``jit``).
        result: a :class:`jaxsci.core.RESULTS` code: the first failure, or ``successful``.
    """

    model: Any
    times: Float[Array, " num_steps"]
    residuals: Float[Array, " num_steps"]
    errors: Float[Array, " num_steps"]
    wall_time: float
    result: RESULTS


@eqx.filter_jit
def _loop(stepper, problem, model, points, dt, t0, key, num_steps, evaluate, throw, progress):
    tick = run_progress(num_steps, f"evolve {type(stepper).__name__}") if progress else None
    params, static = eqx.partition(model, eqx.is_inexact_array)
    dtype = points.dtype
    dt = as_time(dt, dtype)
    t0 = as_time(t0, dtype)

    def body(carry, i):
        params, result = carry
        t = t0 + i.astype(dtype) * dt
        step_key = None if key is None else jax.random.fold_in(key, i)
        sol = stepper.step(problem, eqx.combine(params, static), points, t, dt, key=step_key)
        new = eqx.filter(sol.model, eqx.is_inexact_array)
        good = (result == RESULTS.successful) & (sol.result == RESULTS.successful)
        params = jax.tree_util.tree_map(lambda a, b: jnp.where(good, a, b), new, params)
        result = RESULTS.where(result == RESULTS.successful, sol.result, result)
        t_next = t0 + (i + 1).astype(dtype) * dt
        if evaluate is None:
            err = jnp.full((), jnp.nan, dtype)
        else:
            err = jnp.asarray(evaluate(eqx.combine(params, static), t_next)).astype(dtype)
        if tick is not None:
            tick(i, t=t_next, residual=sol.residual, error=err)
        return (params, result), (t_next, sol.residual.astype(dtype), err)

    (params, result), (times, residuals, errors) = jax.lax.scan(
        body, (params, RESULTS.successful), jnp.arange(num_steps))
    if throw:
        params = eqx.error_if(params, result != RESULTS.successful,
                              stepper.failure_message(dtype))
    return eqx.combine(params, static), times, residuals, errors, result


def evolve(
    stepper: AbstractStepper,
    problem,
    model,
    dt: float | Array,
    num_steps: int,
    *,
    points: Float[Array, "n 2"],
    key: Array | None = None,
    t0: float | Array = 0.0,
    evaluate: Callable[[Any, Array], Array] | None = None,
    throw: bool = True,
    progress: bool = False,
) -> Evolution:
    """Take ``num_steps`` steps of ``stepper`` from ``t0`` in one compiled loop.

    The steps run in one ``jax.lax.scan`` (compiled once per shape; ``evolve`` can itself be
    called inside ``jit``). With ``key`` step ``i`` gets ``jax.random.fold_in(key, i)``
    (needed by ``GaussNewton(num_columns=...)``). A failed step (NaN/inf or a failed solve)
    stops the evolution at the last good network and sets ``result``; with ``throw`` it
    raises with a message that names the setting.

    Args:
        stepper: a :class:`TENG`, :class:`TDVP` or :class:`OBTI` (any ``AbstractStepper``).
        problem: a problem of :mod:`jaxsci.pde.evolution`, e.g. ``Heat2D()``.
        model: the network at ``t0`` (periodic, e.g. :class:`PeriodicMLP`; on a bounded
            problem e.g. :class:`BoxMLP`).
        dt: the time step, ``> 0`` (checked when concrete, at run time when traced).
        num_steps: number of steps (a Python int).
        points: ``(n, dim)`` floating sample points in ``[0, 2pi)^dim``, e.g.
            ``grid_points(16)`` (bounded problems: in ``[0, 1]^dim``, e.g. ``box_grid(2, 16)``).
        key: PRNG key for random strategies.
        t0: the starting time.
        evaluate: ``(model, t) -> scalar`` recorded after every step (e.g. an error
            against an exact solution); traceable.
        throw: raise on failure; with ``False`` the failure is in ``result``.
        progress: print a progress line (step, time, residual, error) to stderr about 20
            times per run, from inside the compiled loop.

    Returns:
        An :class:`Evolution`.

    Example:
        >>> from jaxsci.pde.evolution import Heat2D, grid_points
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> out = evolve(jaxsci.teng.TDVP(), Heat2D(), net, 0.01, 3, points=grid_points(4))
        >>> out.times.shape, bool(out.result == jaxsci.core.RESULTS.successful)
        ((3,), True)
    """
    if not isinstance(stepper, AbstractStepper):
        raise TypeError(
            "`stepper` must be a jaxsci.teng stepper (TENG(...), TDVP(...), OBTI(...)), got "
            f"{type(stepper).__name__}; the order is evolve(stepper, problem, model, dt, "
            "num_steps, points=...)."
        )
    check_problem(problem)
    check_positive_int(num_steps, "num_steps")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"`evaluate` must be a callable (model, t) -> scalar, got "
                        f"{type(evaluate).__name__}.")
    points, dt = check_step_inputs(problem, model, points, dt)
    stepper.check_setup(problem, model, key)
    if key is not None:
        key = check_key(key)
    traced = is_traced((model, points, dt, t0, key))
    if not traced:
        dt = jnp.asarray(dt)
        t0 = jnp.asarray(t0)
    start = time.perf_counter()
    out = _loop(stepper, problem, model, points, dt, t0, key, num_steps, evaluate, throw,
                bool(progress))
    if traced:
        wall = float("nan")
    else:
        out = jax.block_until_ready(out)
        wall = time.perf_counter() - start
    model, times, residuals, errors, result = out
    return Evolution(model, times, residuals, errors, float(wall), result)
