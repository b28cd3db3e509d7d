"""Singlestep DPM-Solver-1/2/3 (noise prediction) and DPM-Solver++(2S) (data prediction).

Each grid interval ``[t, s]`` is one step that evaluates the model at ``order``
intermediate log-SNRs ``lambda_t + r h`` (Lu et al., DPM-Solver, NeurIPS 2022, Algorithms
1 and 2 with ``r1 = 1/2`` for order 2 and ``r1 = 1/3, r2 = 2/3`` for order 3; Lu et al. 2022b,
Algorithm 1 for DPM-Solver++(2S)). NFE = ``order`` per interval.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from ._common import check_order, final_denoise, prepare


def _noise_step(order, noise, schedule, x, t, s, lam_t, lam_s):
    h = lam_s - lam_t
    a, sig = schedule.alpha, schedule.sigma
    eps_t = noise(x, t)
    first = a(s) / a(t) * x - sig(s) * jnp.expm1(h) * eps_t
    if order == 1:
        return first
    if order == 2:
        r1 = 0.5
        s1 = schedule.inverse_lambda(lam_t + r1 * h)
        u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(r1 * h) * eps_t
        return first - sig(s) / (2.0 * r1) * jnp.expm1(h) * (noise(u1, s1) - eps_t)
    r1, r2 = 1.0 / 3.0, 2.0 / 3.0
    s1 = schedule.inverse_lambda(lam_t + r1 * h)
    s2 = schedule.inverse_lambda(lam_t + r2 * h)
    u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(r1 * h) * eps_t
    d1 = noise(u1, s1) - eps_t
    u2 = (a(s2) / a(t) * x - sig(s2) * jnp.expm1(r2 * h) * eps_t
          - sig(s2) * r2 / r1 * (jnp.expm1(r2 * h) / (r2 * h) - 1.0) * d1)
    d2 = noise(u2, s2) - eps_t
    return first - sig(s) / r2 * (jnp.expm1(h) / h - 1.0) * d2


def dpm_solver_singlestep(model: Callable, schedule, x_T, grid, *, order: int = 2,
                          parametrization: str = "eps", denoise_to_zero: bool = False):
    """Singlestep DPM-Solver-``order`` (1, 2 or 3) over every interval of ``grid``.
    NFE = ``order * (len(grid) - 1)``."""
    check_order(order, (1, 2, 3), "dpm_solver_singlestep")
    grid, lam, data, noise = prepare(model, schedule, x_T, grid, parametrization)

    def step(x, i):
        return _noise_step(order, noise, schedule, x, grid[i], grid[i + 1], lam[i], lam[i + 1]), None

    x, _ = jax.lax.scan(step, x_T, jnp.arange(grid.shape[0] - 1))
    return final_denoise(x, data, grid[-1], denoise_to_zero)


def dpm_solver_pp_2s(model: Callable, schedule, x_T, grid, *, parametrization: str = "eps",
                     denoise_to_zero: bool = False):
    """DPM-Solver++(2S), data prediction, ``r1 = 1/2``. NFE = ``2 * (len(grid) - 1)``."""
    grid, lam, data, _ = prepare(model, schedule, x_T, grid, parametrization)
    a, sig = schedule.alpha, schedule.sigma

    def step(x, i):
        t, s = grid[i], grid[i + 1]
        h = lam[i + 1] - lam[i]
        r1 = 0.5
        s1 = schedule.inverse_lambda(lam[i] + r1 * h)
        x0_t = data(x, t)
        u1 = sig(s1) / sig(t) * x - a(s1) * jnp.expm1(-r1 * h) * x0_t
        d = (1.0 - 1.0 / (2.0 * r1)) * x0_t + 1.0 / (2.0 * r1) * data(u1, s1)
        return sig(s) / sig(t) * x - a(s) * jnp.expm1(-h) * d, None

    x, _ = jax.lax.scan(step, x_T, jnp.arange(grid.shape[0] - 1))
    return final_denoise(x, data, grid[-1], denoise_to_zero)
