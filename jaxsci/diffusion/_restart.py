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

import jax
import jax.numpy as jnp

from jaxsci.core import check_positive_int

from ._common import check_stochastic_key
from ._grid import time_grid
from ._samplers import dpm_solver_pp_2m


def restart(model: Callable, schedule, x_T, key, *, main_steps: int, t_lo: float, t_hi: float,
            num_restarts: int = 2, restart_steps: int = 4, sampler: Callable = dpm_solver_pp_2m,
            parametrization: str = "eps"):
    """Restart sampler around the ODE solver ``sampler`` (any jaxsci sampler signature).

    The ``main_steps`` ODE steps are split between ``[t_lo, t_max]`` and ``[t_min, t_lo]`` in
    proportion to their log-SNR lengths (at least one each).

    Example:
        >>> x0 = restart(model, schedule, x_T, key, main_steps=10, t_lo=0.1, t_hi=0.3)
    """
    check_stochastic_key(key, True, "restart")
    check_positive_int(main_steps, "main_steps")
    check_positive_int(restart_steps, "restart_steps")
    if isinstance(num_restarts, bool) or not isinstance(num_restarts, int) or num_restarts < 0:
        raise ValueError(f"`num_restarts` must be a non-negative integer, got {num_restarts!r}.")
    if main_steps < 2:
        raise ValueError("restart needs main_steps >= 2 (one step on each side of t_lo).")
    if not (schedule.t_min < t_lo < t_hi <= schedule.t_max):
        raise ValueError(
            f"restart needs t_min < t_lo < t_hi <= t_max = [{schedule.t_min}, {schedule.t_max}], "
            f"got t_lo={t_lo}, t_hi={t_hi}."
        )
    with jax.ensure_compile_time_eval():  # the split is static, also under jit
        lam_T, lam_lo, lam_end = (float(schedule.lambda_(v)) for v in (schedule.t_max, t_lo, schedule.t_min))
    before = min(main_steps - 1, max(1, round(main_steps * (lam_lo - lam_T) / (lam_end - lam_T))))
    solve = lambda x, a, b, n: sampler(model, schedule, x, time_grid(schedule, n, t_start=a, t_end=b),  # noqa: E731
                                       parametrization=parametrization)
    x = solve(x_T, schedule.t_max, t_lo, before)
    ratio = schedule.alpha(t_hi) / schedule.alpha(t_lo)
    noise_scale = jnp.sqrt(schedule.sigma(t_hi) ** 2 - (ratio * schedule.sigma(t_lo)) ** 2)
    for k in jax.random.split(key, num_restarts) if num_restarts else []:
        x = ratio * x + noise_scale * jax.random.normal(k, x.shape, x.dtype)
        x = solve(x, t_hi, t_lo, restart_steps)
    return solve(x, t_lo, schedule.t_min, main_steps - before)
