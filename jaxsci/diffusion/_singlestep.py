"""Singlestep DPM-Solver-1/2/3 (noise prediction) and DPM-Solver++(2S) (data prediction).

Each grid interval ``[t, s]`` is one step that evaluates the model at ``order``
intermediate log-SNRs ``lambda_t + r h`` (Lu et al., DPM-Solver, NeurIPS 2022, Algorithms
1 and 2 with ``r1 = 1/2`` for order 2 and ``r1 = 1/3, r2 = 2/3`` for order 3; Lu et al. 2022b,
Algorithm 1 for DPM-Solver++(2S)). NFE = ``order`` per interval.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike, Float, PRNGKeyArray

from ._common import (
    check_options,
    final_denoise,
    finish,
    initial_status,
    messages,
    prepare,
    update_status,
)
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule


def _noise_step(order, noise, schedule, x, t, s, lam_t, lam_s):
    """One DPM-Solver-``order`` step; returns ``(x_s, model outputs)``."""
    h = lam_s - lam_t
    a, sig = schedule.alpha, schedule.sigma
    eps_t = noise(x, t)
    first = a(s) / a(t) * x - sig(s) * jnp.expm1(h) * eps_t
    if order == 1:
        return first, (eps_t,)
    if order == 2:
        r1 = 0.5
        s1 = schedule.inverse_lambda(lam_t + r1 * h)
        u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(r1 * h) * eps_t
        eps_1 = noise(u1, s1)
        return first - sig(s) / (2.0 * r1) * jnp.expm1(h) * (eps_1 - eps_t), (eps_t, eps_1)
    r1, r2 = 1.0 / 3.0, 2.0 / 3.0
    s1 = schedule.inverse_lambda(lam_t + r1 * h)
    s2 = schedule.inverse_lambda(lam_t + r2 * h)
    u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(r1 * h) * eps_t
    eps_1 = noise(u1, s1)
    d1 = eps_1 - eps_t
    u2 = (a(s2) / a(t) * x - sig(s2) * jnp.expm1(r2 * h) * eps_t
          - sig(s2) * r2 / r1 * (jnp.expm1(r2 * h) / (r2 * h) - 1.0) * d1)
    eps_2 = noise(u2, s2)
    return first - sig(s) / r2 * (jnp.expm1(h) / h - 1.0) * (eps_2 - eps_t), (eps_t, eps_1, eps_2)


class DPMSolverSinglestep(AbstractSampler):
    """Singlestep DPM-Solver-``order`` (1, 2 or 3; Lu et al., NeurIPS 2022, Algorithms 1-2)
    over every interval of ``grid``, noise prediction. NFE = ``order * (len(grid) - 1)``
    (+1 with ``denoise_to_zero``). The multistep variant is :class:`DPMSolver`.

    Attributes:
        order: 1, 2 or 3 (model evaluations per interval).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> int(D.DPMSolverSinglestep(order=3)(model, s, jnp.ones(2), D.time_grid(s, 4)).nfe)
        12
    """

    order: int = eqx.field(default=2, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self, order=self.order)

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        p = prepare(self, model, schedule, x_T, grid, key)
        grid, lam = p.grid, p.lam
        n = grid.shape[0] - 1

        def step(carry, i):
            x, status = carry
            x_s, outs = _noise_step(self.order, p.noise, schedule, x, grid[i], grid[i + 1], lam[i], lam[i + 1])
            return (x_s, update_status(status, i, outs, x_s)), None

        (x, status), _ = jax.lax.scan(step, (p.x_T, initial_status(p.x_T)), jnp.arange(n))
        x, status = final_denoise(self, x, p.data, grid[-1], status, n)
        return finish(self, x, status, messages("DPMSolverSinglestep", n, self.denoise_to_zero),
                      nfe=self.order * n + int(self.denoise_to_zero), num_steps=n)


class DPMSolverPP2S(AbstractSampler):
    """DPM-Solver++(2S) (Lu et al. 2022b, Algorithm 1), singlestep, data prediction,
    ``r1 = 1/2``. NFE = ``2 * (len(grid) - 1)`` (+1 with ``denoise_to_zero``).

    Attributes:
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> int(D.DPMSolverPP2S()(model, s, jnp.ones(2), D.time_grid(s, 5)).nfe)
        10
    """

    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self)

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        p = prepare(self, model, schedule, x_T, grid, key)
        grid, lam, data = p.grid, p.lam, p.data
        a, sig = schedule.alpha, schedule.sigma
        n = grid.shape[0] - 1

        def step(carry, i):
            x, status = carry
            t, s = grid[i], grid[i + 1]
            h = lam[i + 1] - lam[i]
            r1 = 0.5
            s1 = schedule.inverse_lambda(lam[i] + r1 * h)
            x0_t = data(x, t)
            u1 = sig(s1) / sig(t) * x - a(s1) * jnp.expm1(-r1 * h) * x0_t
            x0_1 = data(u1, s1)
            d = (1.0 - 1.0 / (2.0 * r1)) * x0_t + 1.0 / (2.0 * r1) * x0_1
            x_s = sig(s) / sig(t) * x - a(s) * jnp.expm1(-h) * d
            return (x_s, update_status(status, i, (x0_t, x0_1), x_s)), None

        (x, status), _ = jax.lax.scan(step, (p.x_T, initial_status(p.x_T)), jnp.arange(n))
        x, status = final_denoise(self, x, data, grid[-1], status, n)
        return finish(self, x, status, messages("DPMSolverPP2S", n, self.denoise_to_zero),
                      nfe=2 * n + int(self.denoise_to_zero), num_steps=n)
