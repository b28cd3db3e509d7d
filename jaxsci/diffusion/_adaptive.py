"""Adaptive step size DPM-Solver-12 and DPM-Solver-23 (Lu et al., DPM-Solver, NeurIPS 2022,
Sec. 3.3 and Algorithm 4 / App. C.2).

Each step in ``lambda`` computes a lower-order and a higher-order DPM-Solver result sharing
their model evaluations (orders 1 and 2: 2 NFE; orders 2 and 3: 3 NFE) and accepts when the
scaled RMS difference ``E = rms((x_high - x_low) / max(atol, rtol * max(|x_low|, |x_prev|)))``
is at most 1; the next step is ``h <- min(h_max, theta h E^{-1/k})`` with ``k`` the higher
order of the pair, ``theta = 0.9``. One ``lax.while_loop``; the NFE and the accepted and
rejected steps are returned in the ``Sample``. A NaN/inf (in ``x_T`` or the model's output)
stops the loop at once and is reported as such (``RESULTS.nonfinite_values``), not as
``max_steps_reached``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike, Float, PRNGKeyArray

from ..core import RESULTS
from ..internal import check_positive_int
from ._common import check_options, finish, initial_status, prepare, update_status
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule


def _pair_12(noise, schedule, x, t, lam_t, h):
    a, sig = schedule.alpha, schedule.sigma
    s = schedule.inverse_lambda(lam_t + h)
    s1 = schedule.inverse_lambda(lam_t + 0.5 * h)
    eps_t = noise(x, t)
    low = a(s) / a(t) * x - sig(s) * jnp.expm1(h) * eps_t  # DPM-Solver-1
    u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(0.5 * h) * eps_t
    eps_1 = noise(u1, s1)
    high = low - sig(s) * jnp.expm1(h) * (eps_1 - eps_t)  # DPM-Solver-2, r1 = 1/2
    return low, high, s, 2, (eps_t, eps_1)


def _pair_23(noise, schedule, x, t, lam_t, h):
    a, sig = schedule.alpha, schedule.sigma
    r1, r2 = 1.0 / 3.0, 2.0 / 3.0
    s = schedule.inverse_lambda(lam_t + h)
    s1 = schedule.inverse_lambda(lam_t + r1 * h)
    s2 = schedule.inverse_lambda(lam_t + r2 * h)
    eps_t = noise(x, t)
    u1 = a(s1) / a(t) * x - sig(s1) * jnp.expm1(r1 * h) * eps_t
    eps_1 = noise(u1, s1)
    d1 = eps_1 - eps_t
    first = a(s) / a(t) * x - sig(s) * jnp.expm1(h) * eps_t
    low = first - sig(s) / (2.0 * r1) * jnp.expm1(h) * d1  # DPM-Solver-2 with r1 = 1/3
    u2 = (a(s2) / a(t) * x - sig(s2) * jnp.expm1(r2 * h) * eps_t
          - sig(s2) * r2 / r1 * (jnp.expm1(r2 * h) / (r2 * h) - 1.0) * d1)
    eps_2 = noise(u2, s2)
    high = first - sig(s) / r2 * (jnp.expm1(h) / h - 1.0) * (eps_2 - eps_t)  # DPM-Solver-3
    return low, high, s, 3, (eps_t, eps_1, eps_2)


def _is_number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float))


class DPMSolverAdaptive(AbstractSampler):
    """Adaptive DPM-Solver-12 (``order=2``) or DPM-Solver-23 (``order=3``) (Lu et al.,
    NeurIPS 2022, Algorithm 4), noise prediction, from ``grid[0]`` to ``grid[-1]``.

    ``grid`` holds the two end times only (``time_grid(schedule, 1)``: ``[t_max, t_min]``);
    the steps are chosen adaptively. ``Sample.nfe`` counts every model evaluation, rejected
    steps included; ``num_accepted`` and ``num_rejected`` the steps. Under ``vmap`` each sample
    keeps its own steps (the loop runs until all are done).

    Attributes:
        order: 2 or 3 (the higher order of the embedded pair).
        rtol, atol: tolerances of the scaled error (``atol > 0``); the defaults are the
            paper's for data in [-1, 1] (``atol = 0.0078``, ``rtol = 0.05``).
        h_init: the first step in log-SNR (``> 0``).
        theta: safety factor of the step-size update, in ``(0, 1]``.
        max_steps: the most steps (accepted and rejected); reaching it before ``grid[-1]``
            is ``RESULTS.max_steps_reached``.
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        throw: raise on failure (NaN/inf, max_steps; inside jit too); with ``False`` return the code.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> out = D.DPMSolverAdaptive(order=3)(model, s, jnp.ones(2), D.time_grid(s, 1))
        >>> bool(out.result == jaxsci.core.RESULTS.successful)
        True
    """

    order: int = eqx.field(default=2, static=True)
    rtol: float = 0.05
    atol: float = 0.0078
    h_init: float = 0.05
    theta: float = 0.9
    max_steps: int = eqx.field(default=1000, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self, order=self.order, orders=(2, 3))
        check_positive_int(self.max_steps, "max_steps")
        checks = (("rtol", lambda v: v >= 0, ">= 0"), ("atol", lambda v: v > 0, "> 0"),
                  ("h_init", lambda v: v > 0, "> 0 (the first step in log-SNR)"),
                  ("theta", lambda v: 0 < v <= 1, "in (0, 1]"))
        for name, ok, want in checks:
            value = getattr(self, name)
            if _is_number(value) and not (math.isfinite(value) and ok(value)):
                raise ValueError(f"DPMSolverAdaptive: `{name}` must be a finite number {want}, got {value!r}.")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " 2"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` down to ``grid[1]`` (``key`` is not used)."""
        p = prepare(self, model, schedule, x_T, grid, key)
        if p.grid.shape != (2,):
            raise ValueError(
                f"DPMSolverAdaptive chooses its own steps: `grid` must hold the two end times "
                f"[t_start, t_end], e.g. time_grid(schedule, 1), got shape {p.grid.shape}."
            )
        grid, lam, noise = p.grid, p.lam, p.noise
        dtype = lam.dtype
        pair = _pair_12 if self.order == 2 else _pair_23
        order, theta, max_steps = self.order, jnp.asarray(self.theta, dtype), self.max_steps
        rtol, atol = jnp.asarray(self.rtol, dtype), jnp.asarray(self.atol, dtype)
        h_init = jnp.asarray(self.h_init, dtype)
        h_init = eqx.error_if(h_init, ~(h_init > 0), "DPMSolverAdaptive: `h_init` must be > 0.")
        lam_end = lam[1]
        h_max = lam_end - lam[0]

        def cond(state):
            _, _, lam_t, _, _, steps, _, status = state
            return (lam_t < lam_end - 1e-5) & (steps < max_steps) & (status < 0)

        def body(state):
            x, t, lam_t, h, nfe, steps, accepted, status = state
            h = jnp.minimum(h, lam_end - lam_t)
            low, high, s, cost, outs = pair(noise, schedule, x, t, lam_t, h)
            scale = jnp.maximum(atol, rtol * jnp.maximum(jnp.abs(low), jnp.abs(x)))
            err = jnp.sqrt(jnp.mean(((high - low) / scale) ** 2))
            status = update_status(status, jnp.int32(0), outs, jnp.stack([low, high]))
            accept = (err <= 1.0) & (status < 0)
            x = jnp.where(accept, high, x)
            t = jnp.where(accept, s, t)
            lam_t = jnp.where(accept, lam_t + h, lam_t)
            h_next = jnp.minimum(h_max, theta * h * jnp.maximum(err, 1e-10) ** (-1.0 / order))
            return x, t, lam_t, h_next, nfe + cost, steps + 1, accepted + accept.astype(jnp.int32), status

        zero = jnp.int32(0)
        init = (p.x_T, grid[0], lam[0], h_init, zero, zero, zero, initial_status(p.x_T))
        x, _, lam_t, _, nfe, steps, accepted, status = jax.lax.while_loop(cond, body, init)
        unfinished = (status < 0) & (lam_t < lam_end - 1e-5)
        result = RESULTS.where(status >= 0, RESULTS.nonfinite_values,
                               RESULTS.where(unfinished, RESULTS.max_steps_reached, RESULTS.successful))
        status = jnp.where(unfinished, jnp.int32(3), status)
        msgs = [
            "DPMSolverAdaptive: x_T contains NaN/inf (the starting noise must be finite).",
            "DPMSolverAdaptive: the model returned NaN/inf (Sample.num_steps, with throw=False, tells at "
            "which step). Check the model at these inputs.",
            "DPMSolverAdaptive: the sample became NaN/inf although the model's outputs were finite: check "
            "the schedule and the tolerances.",
            f"DPMSolverAdaptive hit max_steps = {max_steps} before t_end: raise max_steps or loosen rtol/atol.",
        ]
        msgs = [m + " Pass throw=False to get the RESULTS code in the returned Sample instead." for m in msgs]
        return finish(self, x, status, msgs, nfe=nfe, num_steps=steps, num_accepted=accepted,
                      num_rejected=steps - accepted, result=result)
