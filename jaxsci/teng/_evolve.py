"""Many time steps of any stepper in one compiled loop."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
from jaxtyping import Array, Float

from ..internal import check_key, check_positive_int
from ._checks import check_step_inputs


def evolve(
    stepper: Callable,
    model,
    problem,
    points: Float[Array, "n 2"],
    dt: float,
    num_steps: int,
    *,
    t0: float | Array = 0.0,
    key: Array | None = None,
    **kwargs,
):
    """Apply ``stepper(model, t, problem, points, dt, **kwargs)`` ``num_steps`` times.

    The steps run in one ``jax.lax.fori_loop`` (one compilation for any ``num_steps``);
    with ``key`` each step gets ``key=jax.random.fold_in(key, step)`` (for ``num_columns``).

    Returns:
        The model at ``t0 + num_steps * dt``.

    Example:
        >>> net = evolve(teng_heun, net, Heat2D(), grid_points(16), 0.01, 50, rcond=1e-8)
    """
    points = check_step_inputs(model, points, dt, problem)
    check_positive_int(num_steps, "num_steps")
    if key is not None:
        check_key(key)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def body(i, p):
        extra = {} if key is None else {"key": jax.random.fold_in(key, i)}
        new = stepper(eqx.combine(p, static), t0 + i * dt, problem, points, dt, **kwargs, **extra)
        return eqx.filter(new, eqx.is_inexact_array)

    return eqx.combine(jax.lax.fori_loop(0, num_steps, body, params), static)
