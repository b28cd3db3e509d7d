"""Adaptive step size DPM-Solver-12 and DPM-Solver-23 (Lu et al., DPM-Solver, NeurIPS 2022,
Sec. 3.3 and Algorithm 4 / App. C.2).

Each step in ``lambda`` computes a lower-order and a higher-order DPM-Solver result sharing
their model evaluations (orders 1 and 2: 2 NFE; orders 2 and 3: 3 NFE) and accepts when the
scaled RMS difference ``E = rms((x_high - x_low) / max(atol, rtol * max(|x_low|, |x_prev|)))``
is at most 1; the next step is ``h <- min(h_max, theta h E^{-1/k})`` with ``k`` the higher
order of the pair, ``theta = 0.9``. One ``lax.while_loop``; the NFE it used is returned with the sample.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ._common import check_order, prepare


def _pair_12(noise, schedule, x, t, lam_t, h):
    a, sig = schedule.alpha, schedule.sigma
    s = schedule.inverse_lambda(lam_t + h)
    s1 = schedule.inverse_lambda(lam_t + 0.5 * h)
    eps_t = noise(x, t)
    low = a(s) / a(t) * x - sig(s) * jnp.expm1(h) * eps_t  # DPM-Solver-1
    u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(0.5 * h) * eps_t
    high = low - sig(s) * jnp.expm1(h) * (noise(u1, s1) - eps_t)  # DPM-Solver-2, r1 = 1/2
    return low, high, s, 2


def _pair_23(noise, schedule, x, t, lam_t, h):
    a, sig = schedule.alpha, schedule.sigma
    r1, r2 = 1.0 / 3.0, 2.0 / 3.0
    s = schedule.inverse_lambda(lam_t + h)
    s1 = schedule.inverse_lambda(lam_t + r1 * h)
    s2 = schedule.inverse_lambda(lam_t + r2 * h)
    eps_t = noise(x, t)
    u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(r1 * h) * eps_t
    d1 = noise(u1, s1) - eps_t
    first = a(s) / a(t) * x - sig(s) * jnp.expm1(h) * eps_t
    low = first - sig(s) / (2.0 * r1) * jnp.expm1(h) * d1  # DPM-Solver-2 with r1 = 1/3
    u2 = (a(s2) / a(t) * x - sig(s2) * jnp.expm1(r2 * h) * eps_t
          - sig(s2) * r2 / r1 * (jnp.expm1(r2 * h) / (r2 * h) - 1.0) * d1)
    d2 = noise(u2, s2) - eps_t
    high = first - sig(s) / r2 * (jnp.expm1(h) / h - 1.0) * d2  # DPM-Solver-3
    return low, high, s, 3


def dpm_solver_adaptive(model: Callable, schedule, x_T, t_start=None, t_end=None, *, order: int = 2,
                        rtol: float = 0.05, atol: float = 0.0078, h_init: float = 0.05, theta: float = 0.9,
                        max_steps: int = 1000, parametrization: str = "eps"):
    """Adaptive DPM-Solver-12 (``order=2``) or DPM-Solver-23 (``order=3``) from ``t_start``
    (default ``t_max``) to ``t_end`` (default ``t_min``).

    Returns ``(x, nfe)``; ``nfe`` counts every model evaluation, rejected steps included.
    ``atol`` defaults to the paper's value for data in [-1, 1] (0.0078), ``rtol`` to 0.05.
    Under ``vmap`` each sample keeps its own steps (the loop runs until all are done).
    """
    check_order(order, (2, 3), "dpm_solver_adaptive")
    t_start = schedule.t_max if t_start is None else t_start
    t_end = schedule.t_min if t_end is None else t_end
    grid = jnp.asarray([t_start, t_end], dtype=jnp.asarray(x_T).dtype)
    grid, lam, _, noise = prepare(model, schedule, x_T, grid, parametrization)
    pair = _pair_12 if order == 2 else _pair_23
    lam_end = lam[1]
    h_max = lam_end - lam[0]

    def cond(state):
        _, _, lam_t, _, nfe, steps = state
        return (lam_t < lam_end - 1e-5) & (steps < max_steps)

    def body(state):
        x, t, lam_t, h, nfe, steps = state
        h = jnp.minimum(h, lam_end - lam_t)
        low, high, s, cost = pair(noise, schedule, x, t, lam_t, h)
        scale = jnp.maximum(atol, rtol * jnp.maximum(jnp.abs(low), jnp.abs(x)))
        err = jnp.sqrt(jnp.mean(((high - low) / scale) ** 2))
        accept = err <= 1.0
        x = jnp.where(accept, high, x)
        t = jnp.where(accept, s, t)
        lam_t = jnp.where(accept, lam_t + h, lam_t)
        h_next = jnp.minimum(h_max, theta * h * jnp.maximum(err, 1e-10) ** (-1.0 / order))
        return x, t, lam_t, h_next, nfe + cost, steps + 1

    init = (x_T, grid[0], lam[0], jnp.asarray(h_init, lam.dtype), jnp.int32(0), jnp.int32(0))
    x, _, lam_t, _, nfe, _ = jax.lax.while_loop(cond, body, init)
    x = eqx.error_if(x, lam_t < lam_end - 1e-5,
                     "dpm_solver_adaptive hit max_steps before t_end: raise max_steps or loosen rtol/atol.")
    return x, nfe
