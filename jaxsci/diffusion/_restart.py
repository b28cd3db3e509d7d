"""Restart sampling (Xu, Deng, Tong, Tegmark, Jaakkola, Li, NeurIPS 2023, Algorithm 1).

Solve the probability-flow ODE on the main grid from ``grid[0]`` down to ``t_lo``; then
``num_restarts`` times jump back to ``t_hi > t_lo`` by the forward noising kernel

    x_hi = (alpha_hi / alpha_lo) x_lo + sqrt(sigma_hi^2 - (alpha_hi sigma_lo / alpha_lo)^2) z,

and solve the ODE from ``t_hi`` to ``t_lo`` again (``restart_steps`` steps, uniform in
log-SNR); finally solve on the rest of the main grid. The added noise contracts the errors
accumulated so far, while every segment stays a deterministic ODE solve. The main grid is
split at the node nearest to ``t_lo`` in log-SNR, and that node is moved to ``t_lo`` (as the
paper's implementation restarts from a grid node). NFE = the inner sampler's NFE on the
main grid plus ``num_restarts`` times its NFE on ``restart_steps`` steps.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float, PRNGKeyArray

from ..core import RESULTS
from ..internal import check_key, check_positive_int
from ._common import finish, gaussian_noise, initial_status
from ._grid import time_grid, validate_grid
from ._inputs import float_input
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule


def _concrete(v) -> bool:
    return not isinstance(v, jax.core.Tracer)


class Restart(AbstractSampler):
    """Restart sampling around the ODE sampler ``inner`` (Xu et al., NeurIPS 2023). Draws
    noise: needs ``key``.

    Attributes:
        inner: any sampler (e.g. ``DPMSolverPP()``); it runs every ODE segment.
        t_lo, t_hi: the restart interval, ``t_min < t_lo < t_hi <= t_max``. Either may be
            traced (``vmap`` over ``t_lo``, ``grad``); then the interval is checked at run
            time (``equinox.error_if``) and ``main_steps_above`` must be given.
        num_restarts: restarts (a static integer ``>= 0``).
        restart_steps: steps of each restart's ODE solve from ``t_hi`` to ``t_lo``.
        main_steps_above: how many main-grid steps lie above ``t_lo`` (``1 .. len(grid) - 2``):
            the main grid's node ``main_steps_above`` is moved to ``t_lo``. By default the node
            nearest to ``t_lo`` in log-SNR, which needs concrete ``t_lo`` and grid (the split
            fixes the shapes).
        throw: raise on NaN/inf (inside jit too), naming the segment; with ``False`` return
            ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> sampler = D.Restart(D.DPMSolverPP(), t_lo=0.1, t_hi=0.3)
        >>> out = sampler(model, s, jnp.ones(2), D.time_grid(s, 10), key=jax.random.key(0))
        >>> int(out.nfe)                            # 10 main steps + 2 restarts x 4 steps
        18
    """

    inner: AbstractSampler
    t_lo: float
    t_hi: float
    num_restarts: int = eqx.field(default=2, static=True)
    restart_steps: int = eqx.field(default=4, static=True)
    main_steps_above: int | None = eqx.field(default=None, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        if not isinstance(self.inner, AbstractSampler):
            raise TypeError(f"Restart: `inner` must be a sampler such as DPMSolverPP(), got {type(self.inner).__name__}.")
        if isinstance(self.num_restarts, bool) or not isinstance(self.num_restarts, int) or self.num_restarts < 0:
            raise ValueError(f"Restart: `num_restarts` must be a non-negative integer, got {self.num_restarts!r}.")
        check_positive_int(self.restart_steps, "restart_steps")
        if self.main_steps_above is not None:
            check_positive_int(self.main_steps_above, "main_steps_above")
        if not isinstance(self.throw, bool):
            raise TypeError(f"Restart: `throw` must be True or False, got {self.throw!r}.")
        lo, hi = self.t_lo, self.t_hi
        for name, v in (("t_lo", lo), ("t_hi", hi)):
            if _concrete(v) and not (np.ndim(v) == 0 and math.isfinite(float(v))):
                raise ValueError(f"Restart: `{name}` must be a finite time, got {v!r}.")
        if _concrete(lo) and _concrete(hi) and not float(lo) < float(hi):
            raise ValueError(f"Restart needs t_lo < t_hi, got t_lo={lo}, t_hi={hi}.")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` down to ``grid[-1]``; ``key`` is required."""
        if key is None:
            raise TypeError("Restart draws Gaussian noise, so it needs a PRNG `key`: pass key=jax.random.key(seed) "
                            "(one key per sample: jax.random.split(key, batch) and vmap over it).")
        key = check_key(key)
        x_T = float_input(x_T, "x_T")
        grid = validate_grid(schedule, grid).astype(x_T.dtype)
        n = grid.shape[0] - 1
        if n < 2:
            raise ValueError(f"Restart needs a main grid of at least 2 steps (one on each side of t_lo), "
                             f"got {n}.")
        t_lo, t_hi = self.t_lo, self.t_hi
        traced = not (_concrete(t_lo) and _concrete(t_hi) and _concrete(grid))
        k = self.main_steps_above
        if k is not None and k >= n:
            raise ValueError(f"Restart: `main_steps_above` must be below the main grid's {n} steps (at least one "
                             f"step below t_lo), got {k}.")
        if _concrete(t_lo) and _concrete(t_hi) and not (schedule.t_min < float(t_lo) < float(t_hi) <= schedule.t_max):
            raise ValueError(f"Restart needs t_min < t_lo < t_hi <= t_max = [{schedule.t_min}, {schedule.t_max}], "
                             f"got t_lo={t_lo}, t_hi={t_hi}.")
        if k is None:
            if traced:
                raise TypeError(
                    "Restart got a traced `t_lo`, `t_hi` or grid (under jit, vmap or grad): the default split of "
                    "the main grid at t_lo needs their values. Pass `main_steps_above` (the number of main "
                    "steps above t_lo), or make t_lo, t_hi and the grid concrete (closed over)."
                )
            with jax.ensure_compile_time_eval():
                lam = np.asarray(schedule.lambda_(grid), np.float64)
                lam_lo = float(schedule.lambda_(jnp.asarray(t_lo, grid.dtype)))
            k = int(np.clip(np.argmin(np.abs(lam[1:-1] - lam_lo)) + 1, 1, n - 1))
        if not traced:
            g = np.asarray(grid, np.float64)
            if not g[k - 1] > float(t_lo) > g[k + 1]:
                raise ValueError(f"Restart: t_lo = {float(t_lo)} must lie between the main grid's times "
                                 f"grid[{k - 1}] = {g[k - 1]} and grid[{k + 1}] = {g[k + 1]} "
                                 f"(main_steps_above = {k}).")
        t_lo = jnp.asarray(t_lo, grid.dtype)
        t_hi = jnp.asarray(t_hi, grid.dtype)
        if traced:
            bad = ~((schedule.t_min < t_lo) & (t_lo < t_hi) & (t_hi <= schedule.t_max)
                    & (grid[k - 1] > t_lo) & (t_lo > grid[k + 1]))
            t_lo = eqx.error_if(t_lo, bad, "Restart needs t_min < t_lo < t_hi <= t_max, with t_lo between the "
                                           "main grid's times around node `main_steps_above`.")
        inner = dataclasses.replace(self.inner, throw=False)
        above, below = grid[: k + 1].at[k].set(t_lo), grid[k:].at[0].set(t_lo)
        restart_grid = time_grid(schedule, self.restart_steps, t_start=t_hi, t_end=t_lo)
        keys = jax.random.split(key, 2 * self.num_restarts + 2)
        status = initial_status(x_T)
        nfe = steps = jnp.int32(0)

        def run(x, g, seg_key, segment, status, nfe, steps):
            out = inner(model, schedule, x, g, key=seg_key)
            failed = (status < 0) & (out.result != RESULTS.successful)
            return out.x, jnp.where(failed, jnp.int32(segment), status), nfe + out.nfe, steps + out.num_steps

        x, status, nfe, steps = run(x_T, above, keys[0], 1, status, nfe, steps)
        ratio = schedule.alpha(t_hi) / schedule.alpha(t_lo)
        noise_scale = jnp.sqrt(schedule.sigma(t_hi) ** 2 - (ratio * schedule.sigma(t_lo)) ** 2)
        for r in range(self.num_restarts):
            x = ratio * x + noise_scale * gaussian_noise(keys[2 + 2 * r], x)
            x, status, nfe, steps = run(x, restart_grid, keys[3 + 2 * r], 2 + r, status, nfe, steps)
        x, status, nfe, steps = run(x, below, keys[1], 2 + self.num_restarts, status, nfe, steps)
        hint = " Pass throw=False to get result = RESULTS.nonfinite_values in the returned Sample instead."
        msgs = ["Restart: x_T contains NaN/inf (the starting noise must be finite)." + hint,
                "Restart: NaN/inf in the main solve from grid[0] down to t_lo (the model returned NaN/inf, "
                "or the inner sampler's step did)." + hint]
        msgs += [f"Restart: NaN/inf in restart {r + 1} of {self.num_restarts} (the ODE solve from t_hi back "
                 "to t_lo)." + hint for r in range(self.num_restarts)]
        msgs += ["Restart: NaN/inf in the final solve from t_lo down to grid[-1]." + hint]
        return finish(self, x, status, msgs, nfe=nfe, num_steps=steps)
