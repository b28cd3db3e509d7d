"""Local solver-heuristic regularization: one extra solver step at a random time.

Pal, Edelman & Rackauckas, "Locally Regularized Neural Differential Equations: Some
Black Boxes Were Meant to Remain Closed!", ICML 2023, Sec. 3: draw t*, take y(t*) from
the solve, take one solver step from it and penalize the step's scaled error estimate
times its size. Only one step is differentiated besides the solve itself, so it works
under BacksolveAdjoint too (tested), and under DirectAdjoint with ``sampling="unbiased"``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from ..internal import check_key, check_one_of
from ._node import NeuralODE, ODESolution, check_local_solver, check_ts, one_step_error
from ._solver import controller_tolerances


class LocalPenalty(eqx.Module):
    """The local regularizer's output.

    Attributes:
        value: E(t*, y(t*), dt*) * dt*, the penalty to add to the loss.
        t: the drawn time t*.
        dt: the size dt* of the extra step.
        nfe: vector-field evaluations of the extra step (and of its step-size choice).
    """

    value: Float[Array, ""]
    t: Float[Array, ""]
    dt: Float[Array, ""]
    nfe: Int[Array, ""]


def _insert_time(ts: Float[Array, " n"], t_star: Float[Array, ""]):
    """ts with t_star inserted in order, and the index it landed at."""
    n = ts.shape[0]
    pos = jnp.sum(ts < t_star)
    idx = jnp.arange(n + 1)
    before = ts[jnp.clip(idx, 0, n - 1)]
    after = ts[jnp.clip(idx - 1, 0, n - 1)]
    return jnp.where(idx < pos, before, jnp.where(idx == pos, t_star, after)), pos


def local_regularization(
    node: NeuralODE,
    y0: PyTree[Array],
    ts: Float[Array, " n"],
    *,
    key: PRNGKeyArray,
    sampling: str = "unbiased",
    dt0: float | None = None,
    throw: bool = True,
) -> tuple[ODESolution, LocalPenalty]:
    """Solve and return the local error-estimate penalty at a random time.

    Args:
        node: the ``NeuralODE`` (adaptive solver with a PID controller).
        y0: initial state, as for ``node(y0, ts)``.
        ts: save times, as for ``node(y0, ts)``.
        key: PRNG key for the draw of t*.
        sampling: ``"unbiased"``: t* ~ U(ts[0], ts[-1]), y(t*) saved by the solve (so its
            gradient flows through the adjoint), dt* by Hairer's initial step-size
            algorithm at (t*, y(t*)) (Pal et al. 2023, Sec. 3.1). ``"biased"``: t* one of
            the accepted step times, drawn uniformly during the solve, dt* that step's
            size, y(t*) treated as a constant (Sec. 3.2).
        dt0: first step of the solve (None: Hairer's algorithm).
        throw: as for ``node(y0, ts, throw=...)``; the penalty of a failed solve is
            meaningless, check ``sol.result`` with False.

    Returns:
        (the solution at ts, ``LocalPenalty``).

    Example:
        >>> node = NeuralODE(lambda t, y: -2.0 * y, max_steps=64)
        >>> sol, pen = local_regularization(node, jnp.ones(2), jnp.array([0.0, 1.0]),
        ...                                 key=jax.random.key(0))
        >>> bool(pen.value >= 0), int(pen.nfe)
        (True, 9)
    """
    if not isinstance(node, NeuralODE):
        raise TypeError(f"`node` must be a NeuralODE, got {type(node).__name__}.")
    key = check_key(key)
    check_one_of(sampling, ("unbiased", "biased"), "sampling")
    controller_tolerances(node.stepsize_controller)
    check_local_solver(node)
    ts = check_ts(ts)
    if sampling == "biased":
        sol = node(y0, ts, dt0, key=key, throw=throw)
        record = jax.lax.stop_gradient(sol.heuristics)
        t_star, y_star, dt_star, choose_evals = record.sample_t, record.sample_y, record.sample_dt, 0
    else:
        t_star = jax.random.uniform(key, (), ts.dtype, ts[0], ts[-1])
        ts_aug, pos = _insert_time(ts, t_star)
        sol = node(y0, ts_aug, dt0, throw=throw)
        rows = jnp.arange(ts.shape[0])
        rows = rows + (rows >= pos).astype(rows.dtype)
        y_star = jax.tree_util.tree_map(lambda y: y[pos], sol.ys)
        sol = eqx.tree_at(lambda s: s.ys, sol, jax.tree_util.tree_map(lambda y: y[rows], sol.ys))
        dt_star, choose_evals = node.initial_step(t_star, y_star)
    value, step_evals = one_step_error(node, t_star, y_star, dt_star)
    penalty = LocalPenalty(
        value=value, t=t_star, dt=dt_star, nfe=jnp.asarray(step_evals + choose_evals)
    )
    return sol, penalty
