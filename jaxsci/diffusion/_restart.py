"""Restart sampling (Xu, Deng, Tong, Tegmark, Jaakkola, Li, NeurIPS 2023, Algorithm 1).

Solve the probability-flow ODE from ``t_max`` down to ``t_lo``; then ``num_restarts`` times
jump back to ``t_hi > t_lo`` by the forward noising kernel

    x_hi = (alpha_hi / alpha_lo) x_lo + sqrt(sigma_hi^2 - (alpha_hi sigma_lo / alpha_lo)^2) z,

and solve the ODE from ``t_hi`` to ``t_lo`` again; finally solve to ``t_min``. The added noise
contracts the errors accumulated so far, while every segment stays a deterministic ODE
solve. NFE = ``main_steps + num_restarts * restart_steps`` (for one-NFE-per-step samplers).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ..internal import check_positive_int
from ._common import check_stochastic_key, gaussian_noise
from ._grid import time_grid
from ._samplers import dpm_solver_pp_2m


def restart(model: Callable, schedule, x_T, key, *, main_steps: int, t_lo: float, t_hi: float,
            num_restarts: int = 2, restart_steps: int = 4, sampler: Callable = dpm_solver_pp_2m,
            parametrization: str = "eps", main_steps_above: int | None = None):
    """Restart sampler around the ODE solver ``sampler`` (any jaxsci sampler signature).

    Args:
        main_steps: steps of the main ODE solve from ``t_max`` to ``t_min`` (at least 2).
        t_lo, t_hi: the restart interval, ``t_min < t_lo < t_hi <= t_max``. Either may be
            traced (``jit``, ``vmap`` or ``grad`` over them); the interval is then checked at
            run time (``equinox.error_if``) and ``main_steps_above`` must be given.
        num_restarts, restart_steps: restarts and ODE steps per restart (static integers).
        main_steps_above: how many of the ``main_steps`` lie in ``[t_lo, t_max]``. By default
            they are split between ``[t_lo, t_max]`` and ``[t_min, t_lo]`` in proportion to
            their log-SNR lengths (at least one each), which needs a concrete ``t_lo``: the
            number of steps fixes the shapes.

    Example:
        >>> x0 = restart(model, schedule, x_T, key, main_steps=10, t_lo=0.1, t_hi=0.3)
        >>> # traced interval (e.g. vmapped over t_lo): give the split of the main steps
        >>> jax.vmap(lambda lo: restart(model, schedule, x_T, key, main_steps=10, t_lo=lo, t_hi=0.3,
        ...                             main_steps_above=4))(jnp.array([0.05, 0.1]))
    """
    check_stochastic_key(key, True, "restart")
    check_positive_int(main_steps, "main_steps")
    check_positive_int(restart_steps, "restart_steps")
    if isinstance(num_restarts, bool) or not isinstance(num_restarts, int) or num_restarts < 0:
        raise ValueError(f"`num_restarts` must be a non-negative integer, got {num_restarts!r}.")
    if main_steps < 2:
        raise ValueError("restart needs main_steps >= 2 (one step on each side of t_lo).")
    traced = isinstance(t_lo, jax.core.Tracer) or isinstance(t_hi, jax.core.Tracer)
    if main_steps_above is not None:
        check_positive_int(main_steps_above, "main_steps_above")
        if main_steps_above >= main_steps:
            raise ValueError(f"`main_steps_above` must be below main_steps = {main_steps} (at least one step "
                             f"below t_lo), got {main_steps_above}.")
    if traced:
        if main_steps_above is None:
            raise TypeError(
                "restart got a traced `t_lo` or `t_hi` (under jit, vmap or grad): the default split of "
                "the main steps at t_lo needs its value. Pass `main_steps_above` (the number of main "
                "steps in [t_lo, t_max]), or make t_lo and t_hi concrete (Python floats closed over)."
            )
        t_lo, t_hi = jnp.asarray(t_lo), jnp.asarray(t_hi)
        bad = ~((schedule.t_min < t_lo) & (t_lo < t_hi) & (t_hi <= schedule.t_max))
        t_lo = eqx.error_if(t_lo, bad, "restart needs t_min < t_lo < t_hi <= t_max.")
    elif not (schedule.t_min < t_lo < t_hi <= schedule.t_max):
        raise ValueError(
            f"restart needs t_min < t_lo < t_hi <= t_max = [{schedule.t_min}, {schedule.t_max}], "
            f"got t_lo={t_lo}, t_hi={t_hi}."
        )
    if main_steps_above is None:
        with jax.ensure_compile_time_eval():  # the split is static, also under jit
            lam_T, lam_lo, lam_end = (float(schedule.lambda_(v)) for v in (schedule.t_max, t_lo, schedule.t_min))
        before = min(main_steps - 1, max(1, round(main_steps * (lam_lo - lam_T) / (lam_end - lam_T))))
    else:
        before = main_steps_above
    solve = lambda x, a, b, n: sampler(model, schedule, x, time_grid(schedule, n, t_start=a, t_end=b),
                                       parametrization=parametrization)
    x = solve(x_T, schedule.t_max, t_lo, before)
    ratio = schedule.alpha(t_hi) / schedule.alpha(t_lo)
    noise_scale = jnp.sqrt(schedule.sigma(t_hi) ** 2 - (ratio * schedule.sigma(t_lo)) ** 2)
    for k in jax.random.split(key, num_restarts) if num_restarts else []:
        x = ratio * x + noise_scale * gaussian_noise(k, x)
        x = solve(x, t_hi, t_lo, restart_steps)
    return solve(x, t_lo, schedule.t_min, main_steps - before)
