"""Exponential-integrator samplers for the probability-flow ODE (eps-prediction model).

DDIM (Song, Meng, Ermon, ICLR 2021, eq. 12 with eta=0), identical to DPM-Solver-1;
DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095, Algorithm 2).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def _check_grid(grid):
    grid = jnp.asarray(grid)
    if grid.ndim != 1 or grid.shape[0] < 2:
        raise ValueError(
            f"`grid` must be a 1-D array of at least 2 decreasing times, got shape {grid.shape}; "
            "build one with jaxsci.diffusion.time_grid(schedule, num_steps)."
        )
    grid = eqx.error_if(grid, jnp.any(jnp.diff(grid) >= 0), "`grid` must be strictly decreasing.")
    return grid


def _x0(model, schedule, x, t):
    return (x - schedule.sigma(t) * model(x, t)) / schedule.alpha(t)


def ddim(model: Callable, schedule, x_T: Float[Array, " d"], grid) -> Float[Array, " d"]:
    """Deterministic DDIM: x_s = alpha_s x0_hat + sigma_s eps_hat. NFE = len(grid) - 1.

    Example:
        >>> s = VPLinear(); x = ddim(GaussianEps(s, jnp.ones(3)), s, jnp.zeros(3), time_grid(s, 10))
    """
    grid = _check_grid(grid)

    def step(x, ts):
        t, s = ts
        eps = model(x, t)
        x0 = (x - schedule.sigma(t) * eps) / schedule.alpha(t)
        return schedule.alpha(s) * x0 + schedule.sigma(s) * eps, None

    x, _ = jax.lax.scan(step, x_T, (grid[:-1], grid[1:]))
    return x


def dpm_solver_pp_2m(model: Callable, schedule, x_T: Float[Array, " d"], grid) -> Float[Array, " d"]:
    """DPM-Solver++(2M), data prediction, first step first order. NFE = len(grid) - 1."""
    grid = _check_grid(grid)
    lam = schedule.lambda_(grid)
    x = x_T
    x0_prev = _x0(model, schedule, x, grid[0])
    # first step: DDIM in data form
    h = lam[1] - lam[0]
    x = schedule.sigma(grid[1]) / schedule.sigma(grid[0]) * x - schedule.alpha(grid[1]) * jnp.expm1(-h) * x0_prev

    def step(carry, i):
        x, x0_prev = carry
        t_prev, t, s = grid[i - 1], grid[i], grid[i + 1]
        h = lam[i + 1] - lam[i]
        r = (lam[i] - lam[i - 1]) / h
        x0 = _x0(model, schedule, x, t)
        d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * x0_prev
        x_new = schedule.sigma(s) / schedule.sigma(t) * x - schedule.alpha(s) * jnp.expm1(-h) * d
        return (x_new, x0), None

    n = grid.shape[0] - 1
    (x, _), _ = jax.lax.scan(step, (x, x0_prev), jnp.arange(1, n))
    return x
