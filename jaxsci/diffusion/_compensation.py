"""DC-Solver's compensation ratios, fitted on a handful of trajectories.

DC-Solver (Zhao, Wang, Zhou, Lu, ECCV 2024, Sec. 3.2-3.3) makes the predictor-corrector
sampler UniPC reuse a compensated model output (:class:`UniPC`'s ``compensation``) and
searches one ratio ``rho_i`` per step on a few start-noises against a many-step reference:

* ``objective="trajectory"`` (the paper's Algorithm 1): step by step, ``rho_i`` minimizes
  the mean squared distance of the sample after step ``i`` to the reference trajectory at
  ``grid[i + 1]``, with the earlier ratios fixed (Adam, the paper's 40 iterations at learning
  rate 0.1);
* ``objective="endpoint"``: all ratios at once minimize the endpoint MSE (the samplers are
  differentiable in ``compensation``), as :func:`fit_grid` does for the grid.

The reference is the same model's probability-flow ODE solved to tight tolerance with diffrax
(:func:`probability_flow_reference`), so the ratios target the exact solution of the
sampler's ODE, not the data.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float

from ..core import RESULTS, fit
from ..internal import check_one_of, check_positive, check_positive_int
from ._grid import validate_grid
from ._inputs import float_input
from ._learned_grid import endpoint_mse
from ._quality import probability_flow_reference
from ._schedule import AbstractSchedule
from ._unipc import UniPC


class CompensationFit(eqx.Module):
    """What :func:`fit_compensation` returns.

    Attributes:
        sampler: the given UniPC with the fitted ``compensation``.
        ratios: the fitted ratios, one per grid step (the warm-up ones stay at their start).
        training_mse: endpoint MSE on the training start-noises with the fitted ratios.
        initial_training_mse: the same with the ratios the fit started from.
        losses: the objective after each Adam iteration, ``(num_fitted_steps, steps)`` for
            ``"trajectory"`` (one row per fitted ratio) and ``(1, steps)`` for ``"endpoint"``.
        result: ``RESULTS.successful``, or ``RESULTS.nonfinite_values`` if an objective value
            was NaN/inf (the ratios are then the last finite ones).
    """

    sampler: UniPC
    ratios: Float[Array, " n"]
    training_mse: Float[Array, ""]
    initial_training_mse: Float[Array, ""]
    losses: Float[Array, "rows steps"]
    result: RESULTS


def _grid_references(model, schedule, x_T, grid, parametrization):
    """The tight probability-flow solution at every grid time, ``(batch, n + 1, ...)``."""
    def one(x):
        later = jax.vmap(lambda t: probability_flow_reference(
            model, schedule, x, parametrization=parametrization, t_from=grid[0], t_to=t))(grid[1:])
        return jnp.concatenate([x[None], later])

    return jax.jit(jax.vmap(one))(x_T)


def _search(loss, start, steps, learning_rate, desc):
    """Adam on ``loss`` through :func:`jaxsci.core.fit`, scored after every step; the best
    iterate (the start included, so never worse than it) and the losses."""
    out = fit(lambda params, _batch, key: loss(params), start, optax.adam(learning_rate), steps=steps,
              key=jax.random.key(0), chunk=1, evaluate=loss, keep_best=True, progress=False, desc=desc,
              throw=False)
    start_value = float(loss(start))
    found = out.best_model is not None and float(np.asarray(out.best_error)) < start_value
    return (out.best_model if found else start), jnp.asarray(out.losses)


def fit_compensation(sampler: UniPC, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, "batch ..."],
                     grid: Float[ArrayLike, " n+1"], *, objective: str = "trajectory",
                     reference: Float[ArrayLike, ...] | None = None, steps: int = 40,
                     learning_rate: float = 0.1, initial_ratio: float = 1.0) -> CompensationFit:
    """Fit DC-Solver's compensation ratios (Zhao et al., ECCV 2024, Algorithm 1) for ``sampler``
    on the grid ``grid`` from the training start-noises ``x_T`` (a batch; the paper uses 10).

    Args:
        sampler: a :class:`UniPC` (its ``compensation`` is replaced; ``compensation_order``
            is kept).
        model, schedule: as for the sampler.
        x_T: training start-noises, ``(batch, *sample_shape)``.
        grid: the sampler's grid (``n`` steps; the fitted ratios belong to this grid).
        objective: ``"trajectory"`` (the paper's per-step fit) or ``"endpoint"`` (module
            docstring).
        reference: optional precomputed tight-tolerance solutions: ``(batch, n + 1, ...)``
            at every grid time for ``"trajectory"`` (as returned by a diffrax solve saved
            at ``grid``), ``(batch, ...)`` endpoints for ``"endpoint"``; computed with
            :func:`probability_flow_reference` when ``None``.
        steps: Adam iterations per ratio (``"trajectory"``) or in all (``"endpoint"``).
        learning_rate: Adam's learning rate.
        initial_ratio: where every ratio starts (1 is plain UniPC).

    Each fitted ratio is the best iterate of its Adam run, so the fit never ends worse on its
    own objective than where it started.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> grid = D.time_grid(s, 3)              # one ratio after the two warm-up steps
        >>> x_T = jax.random.normal(jax.random.key(0), (10, 2))
        >>> fitted = D.fit_compensation(D.UniPC(order=2), model, s, x_T, grid, steps=10)
        >>> fitted.ratios.shape
        (3,)
    """
    if not isinstance(sampler, UniPC):
        raise TypeError(f"fit_compensation fits the ratios of a UniPC sampler (DC-Solver compensates a "
                        f"predictor-corrector), got {type(sampler).__name__}.")
    check_one_of(objective, ("trajectory", "endpoint"), "objective")
    check_positive_int(steps, "steps")
    check_positive(learning_rate, "learning_rate")
    x_T = float_input(x_T, "x_T")
    if x_T.ndim < 2:
        raise ValueError(f"x_T must be a batch of start-noises, (batch, *sample_shape), got shape {x_T.shape}; "
                         f"for one start-noise use x_T[None].")
    grid = validate_grid(schedule, grid).astype(x_T.dtype)
    n = grid.shape[0] - 1
    order = sampler.compensation_order
    if n <= order:
        raise ValueError(f"fit_compensation: the grid has {n} steps but the compensation of order {order} "
                         f"starts after {order} warm-up steps; use a grid of more than {order} steps or a "
                         f"lower compensation_order.")
    want = (x_T.shape[0], n + 1) + x_T.shape[1:] if objective == "trajectory" else x_T.shape
    if reference is None:
        path = _grid_references(model, schedule, x_T, grid, sampler.parametrization)
        reference = path if objective == "trajectory" else path[:, -1]
    reference = jnp.asarray(reference, x_T.dtype)
    if reference.shape != want:
        raise ValueError(f"`reference` for objective={objective!r} must have shape {want}, got {reference.shape}.")
    if not isinstance(reference, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(reference))):
        raise ValueError("`reference` holds NaN/inf: pass the tight-tolerance probability-flow solutions of "
                         "these start-noises (or reference=None to compute them).")
    endpoints = reference[:, -1] if objective == "trajectory" else reference

    def with_ratios(ratios):
        return eqx.tree_at(lambda s: s.compensation, sampler, ratios, is_leaf=lambda x: x is None)

    def path_of(ratios):
        return jax.vmap(lambda x: with_ratios(ratios).trajectory(model, schedule, x, grid))(x_T)

    training_mse = jax.jit(lambda ratios: endpoint_mse(with_ratios(ratios), model, schedule, x_T, endpoints, grid))

    start = jnp.full((n,), initial_ratio, x_T.dtype)
    if objective == "endpoint":
        ratios, values = _search(training_mse, start, steps, learning_rate, "fit_compensation")
        losses = values[None]
    else:
        ratios, rows = start, []
        for i in range(order, n):
            @jax.jit
            def step_mse(r, ratios=ratios, i=i):
                return jnp.mean((path_of(ratios.at[i].set(r))[:, i + 1] - reference[:, i + 1]) ** 2)

            r, values = _search(step_mse, ratios[i], steps, learning_rate, f"fit_compensation step {i + 1}")
            ratios = ratios.at[i].set(r)
            rows.append(values)
        losses = jnp.stack(rows)
    finite = jnp.all(jnp.isfinite(losses))
    fitted = with_ratios(ratios)
    return CompensationFit(sampler=fitted, ratios=ratios, training_mse=training_mse(ratios),
                           initial_training_mse=training_mse(start), losses=losses,
                           result=RESULTS.where(finite, RESULTS.successful, RESULTS.nonfinite_values))
