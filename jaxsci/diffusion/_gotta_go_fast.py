"""Gotta Go Fast: the adaptive reverse-SDE solver of Jolicoeur-Martineau, Li, Piche-Taillefer,
Kachman and Mitliagkas (arXiv 2105.14080, Algorithm 1).

Each step attempt from ``t`` to ``s = t - h`` draws one ``z ~ N(0, I)`` and computes, with the
reverse-SDE ``drift`` and diffusion ``g`` of :func:`reverse_sde` (``x_s = x - h drift + sqrt(h)
g z`` per stage),

    k1  = -h drift(x, t)   + sqrt(h) g(t) z
    x'  = x + k1                                  (Euler-Maruyama)
    k2  = -h drift(x', s)  + sqrt(h) g(s) z
    x'' = x + (k1 + k2) / 2                       (stochastic improved Euler, the same z)

and the scaled error ``E = || (x'' - x') / delta ||`` with ``delta = max(atol, rtol max(|x'|,
|x'_prev|))`` elementwise and ``|| . ||`` the l2 norm divided by ``sqrt(n)`` (the RMS over
the elements). ``x'_prev`` is the Euler-Maruyama proposal ``x'`` of the last accepted
step (``x_T`` at first). The step is accepted when ``E <= 1`` and then keeps the higher-order
``x''`` (the paper's extrapolation); accepted or not, the next step is ``h <- min(t - t_end,
theta h E^{-r})``, ``t`` the time after the attempt. A rejected attempt draws new noise, as the
paper's code does. After the
loop, the sample is denoised by Tweedie's formula ``x_0 = E[x_0 | x_{t_end}]`` (one more model
evaluation), as in the paper's experiments. Two model evaluations per attempt.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..core import RESULTS
from ._common import (
    check_options,
    final_denoise,
    finish,
    gaussian_noise,
    initial_status,
    prepare,
    update_status,
)
from ._euler_maruyama import reverse_sde
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule

_HINT = " Pass throw=False to get the RESULTS code in the returned Sample instead."


def _is_number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float))


def _scaled_l2(e: Array) -> Array:
    """The paper's scaled l2 norm ``||e||_2 / sqrt(n)`` (the RMS over the elements)."""
    return jnp.sqrt(jnp.mean(e**2))


class GottaGoFast(AbstractSampler):
    """Gotta Go Fast, the adaptive reverse-SDE solver (Jolicoeur-Martineau et al., arXiv
    2105.14080, Algorithm 1): an Euler-Maruyama and a stochastic improved-Euler step sharing
    the same noise; their scaled difference sets the step, the improved-Euler result is kept.
    Steps in ``t`` from ``grid[0]`` to ``grid[-1]`` on the reverse-time SDE of any schedule,
    then denoises (``denoise_to_zero``). Draws noise: needs ``key``.

    ``grid`` holds the two end times only (``time_grid(schedule, 1)``: ``[t_max, t_min]``).
    ``Sample.nfe`` counts every model evaluation: 2 per step attempt, accepted or rejected,
    plus 1 for the final denoising; ``num_accepted`` and ``num_rejected`` the attempts. Under
    ``vmap`` each sample keeps its own steps (the loop runs until all are done).

    Rejecting an attempt after seeing its noise and drawing new noise selects the noise; where
    the RMS error of an attempt is itself noisy (few dimensions) this biases the sampled law,
    whatever ``rtol``: on Gaussian data with variance 0.25 the variance came out 0.35 in d = 2,
    0.256 in d = 64 and 0.250 in d = 512. The paper's setting (images) has thousands of
    dimensions; for low-dimensional data prefer :class:`EulerMaruyama` or
    :class:`SDEDPMSolverPP2M`.

    Attributes:
        rtol, atol: the tolerances ``eps_rel > 0`` and ``eps_abs > 0`` of the error scale
            ``max(atol, rtol max(|x'|, |x'_prev|))``. The defaults are the paper's for data in
            ``[-1, 1]`` (``atol = 0.0078``, about the quantization step of 8-bit images; ``rtol =
            0.01``, its default and tightest setting; it used ``atol = 0.0039`` for data in
            ``[0, 1]`` and ``rtol`` up to 0.1 for speed).
        theta: safety factor of the step-size update, in ``(0, 1]`` (paper: 0.9).
        r: exponent of the step-size update ``h <- theta h E^{-r}``, ``> 0`` (paper: 0.9).
        h_init: the first step in ``t`` (paper: 0.01, for ``t`` in ``[1e-3, 1]``), ``> 0``.
        max_steps: the most step attempts (accepted and rejected); reaching it before
            ``grid[-1]`` is ``RESULTS.max_steps_reached``.
        norm: the norm of the scaled error, a function of an array to a scalar; the paper's
            scaled l2 norm by default (e.g. ``lambda e: jnp.max(jnp.abs(e))`` for l_inf).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return Tweedie's ``E[x_0 | x_{t_end}]`` (the data prediction at the
            last time; one more NFE) instead of the noisy sample, as the paper does.
        throw: raise on failure (NaN/inf, max_steps; inside jit too); with ``False`` return the code.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> out = D.GottaGoFast()(model, s, jnp.ones(2), D.time_grid(s, 1), key=jax.random.key(0))
        >>> bool(out.nfe == 2 * out.num_steps + 1)
        True
    """

    rtol: float = 0.01
    atol: float = 0.0078
    theta: float = 0.9
    r: float = 0.9
    h_init: float = 0.01
    max_steps: int = eqx.field(default=1000, static=True)
    norm: Callable[[Array], Array] = eqx.field(default=_scaled_l2, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=True, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self)
        steps = self.max_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"GottaGoFast: `max_steps` must be a positive integer (the most step attempts, "
                             f"accepted and rejected, e.g. 1000), got {steps!r}.")
        if not callable(self.norm):
            raise TypeError(f"GottaGoFast: `norm` must be a function of the scaled error array to a scalar, "
                            f"e.g. lambda e: jnp.sqrt(jnp.mean(e**2)), got {type(self.norm).__name__}.")
        checks = (("rtol", lambda v: v > 0, "> 0 (the relative tolerance eps_rel, e.g. 0.01)"),
                  ("atol", lambda v: v > 0, "> 0 (the absolute tolerance eps_abs, e.g. 0.0078; it keeps the "
                                            "error scale positive where x is 0)"),
                  ("theta", lambda v: 0 < v <= 1, "in (0, 1] (the safety factor, e.g. 0.9)"),
                  ("r", lambda v: v > 0, "> 0 (the exponent of the step-size update, e.g. 0.9)"),
                  ("h_init", lambda v: v > 0, "> 0 (the first step in t, e.g. 0.01)"))
        for name, ok, want in checks:
            value = getattr(self, name)
            if _is_number(value) and not (math.isfinite(value) and ok(value)):
                raise ValueError(f"GottaGoFast: `{name}` must be a finite number {want}, got {value!r}.")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " 2"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` down to ``grid[1]``; ``key`` is required."""
        p = prepare(self, model, schedule, x_T, grid, key, needs_key=True)
        if p.grid.shape != (2,):
            raise ValueError(
                f"GottaGoFast chooses its own steps: `grid` must hold the two end times "
                f"[t_start, t_end], e.g. time_grid(schedule, 1), got shape {p.grid.shape}."
            )
        grid, key = p.grid, p.key
        dtype = grid.dtype
        drift = reverse_sde(schedule, p.noise)
        rtol, atol = jnp.asarray(self.rtol, dtype), jnp.asarray(self.atol, dtype)
        theta, r = jnp.asarray(self.theta, dtype), jnp.asarray(self.r, dtype)
        h_init = jnp.asarray(self.h_init, dtype)
        h_init = eqx.error_if(h_init, ~(h_init > 0), "GottaGoFast: `h_init` must be > 0.")
        t_end, max_steps, norm = grid[1], self.max_steps, self.norm

        def cond(state):
            _, _, t, _, steps, _, status = state
            return (t > t_end) & (steps < max_steps) & (status < 0)

        def body(state):
            x, x_prev, t, h, steps, accepted, status = state
            remaining = t - t_end
            h = jnp.minimum(h, remaining)
            s = jnp.where(h >= remaining, t_end, t - h)  # the last step lands on t_end exactly
            z = gaussian_noise(jax.random.fold_in(key, steps), x)
            root_h = jnp.sqrt(h)
            d1, g1, eps1 = drift(x, t)
            k1 = -h * d1 + root_h * g1 * z
            x_em = x + k1  # x'
            d2, g2, eps2 = drift(x_em, s)
            k2 = -h * d2 + root_h * g2 * z
            x_ie = x + 0.5 * (k1 + k2)  # x''
            scale = jnp.maximum(atol, rtol * jnp.maximum(jnp.abs(x_em), jnp.abs(x_prev)))
            err = jnp.asarray(norm((x_ie - x_em) / scale), dtype)
            status = update_status(status, jnp.int32(0), (eps1, eps2), jnp.stack([x_em, x_ie]))
            accept = (err <= 1.0) & (status < 0)
            x = jnp.where(accept, x_ie, x)
            x_prev = jnp.where(accept, x_em, x_prev)
            t = jnp.where(accept, s, t)
            h = theta * h * jnp.maximum(err, jnp.asarray(1e-10, dtype)) ** (-r)
            return x, x_prev, t, h, steps + 1, accepted + accept.astype(jnp.int32), status

        zero = jnp.int32(0)
        init = (p.x_T, p.x_T, grid[0], h_init, zero, zero, initial_status(p.x_T))
        x, _, t, _, steps, accepted, status = jax.lax.while_loop(cond, body, init)
        unfinished = (status < 0) & (t > t_end)
        x, status = final_denoise(self, x, p.data, t, status, 1)  # codes 3 and 4
        failed = status >= 0
        result = RESULTS.where(failed, RESULTS.nonfinite_values,
                               RESULTS.where(unfinished, RESULTS.max_steps_reached, RESULTS.successful))
        status = jnp.where(unfinished & ~failed, jnp.int32(5), status)
        msgs = [
            "GottaGoFast: x_T contains NaN/inf (the starting noise must be finite).",
            "GottaGoFast: the model returned NaN/inf during the steps (Sample.num_steps, with throw=False, "
            "tells at which attempt). Check the model at these inputs.",
            "GottaGoFast: the sample became NaN/inf although the model's outputs were finite: check the "
            "schedule (its reverse SDE must be finite on [t_end, t_start]) and the tolerances.",
            "GottaGoFast: the model returned NaN/inf in the final denoising step (denoise_to_zero) at t_end. "
            "Check the model there, or pass denoise_to_zero=False.",
            "GottaGoFast: the sample became NaN/inf in the final denoising step (denoise_to_zero) although "
            "the model's output was finite: check the schedule at t_end (alpha_t must be > 0).",
            f"GottaGoFast hit max_steps = {max_steps} before t_end: raise max_steps or loosen rtol/atol.",
        ]
        return finish(self, x, status, [m + _HINT for m in msgs], nfe=2 * steps + int(self.denoise_to_zero),
                      num_steps=steps, num_accepted=accepted, num_rejected=steps - accepted, result=result)
