"""The reverse-time diffusion SDE and its Euler-Maruyama discretization on a fixed grid.

For ``x_t = alpha_t x_0 + sigma_t eps`` the forward SDE is ``dx = f(t) x dt + g(t) dw`` with
``f = d log(alpha_t) / dt`` and ``g^2 = d(sigma_t^2) / dt - 2 f sigma_t^2 = -2 sigma_t^2
d(lambda_t) / dt`` (Lu et al., DPM-Solver, NeurIPS 2022, eq. 2.2, after Kingma et al., NeurIPS
2021), and the reverse-time SDE (Anderson 1982; Song et al.,
ICLR 2021, eq. 6) is

    dx = [f(t) x - g(t)^2 grad log p_t(x)] dt + g(t) dw_bar,    grad log p_t(x) = -eps(x, t) / sigma_t,

integrated from ``t_max`` down to ``t_min``. The derivatives of ``log alpha`` and of the
log-SNR come from forward-mode AD of the schedule, so every schedule works (VP, VE, EDM,
discrete VP, flow matching inside ``(0, 1)``). Euler-Maruyama (Song et al., ICLR 2021, the
baseline of Jolicoeur-Martineau et al., arXiv 2105.14080) steps from ``t`` to ``s = t - h``:
``x_s = x_t - h [f x_t + g^2 eps / sigma_t] + sqrt(h) g(t) z``.
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
    gaussian_noise,
    initial_status,
    messages,
    prepare,
    split_keys,
    update_status,
)
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule


def reverse_sde(schedule: AbstractSchedule, noise: Callable) -> Callable:
    """``(x, t) -> (drift, g, eps)`` of the reverse-time SDE written forward in time,
    ``dx = drift dt + g dw_bar`` (Song et al., ICLR 2021, eq. 6): ``drift = f x + g^2 eps /
    sigma = f x - 2 sigma lambda' eps`` with ``f = (log alpha)'``, ``g = sqrt(-2 sigma^2
    lambda')``, and ``eps`` the model's noise prediction (returned for the NaN checks). A step
    back in time by ``h > 0`` is ``x - h drift + sqrt(h) g z``."""

    def coefficients(t):
        one = jnp.ones_like(t)
        _, dlog_alpha = jax.jvp(schedule.log_alpha, (t,), (one,))
        _, dlam = jax.jvp(schedule.lambda_, (t,), (one,))
        sigma = schedule.sigma(t)
        return dlog_alpha, dlam, sigma

    def drift(x, t):
        f, dlam, sigma = coefficients(t)
        eps = noise(x, t)
        g = jnp.sqrt(-2.0 * dlam) * sigma
        return (f * x - 2.0 * sigma * dlam * eps).astype(x.dtype), g.astype(x.dtype), eps

    return drift


class EulerMaruyama(AbstractSampler):
    """Euler-Maruyama on the reverse-time SDE (Song et al., ICLR 2021, eq. 6; the fixed-step
    baseline of Jolicoeur-Martineau et al., arXiv 2105.14080), on the grid given: from
    ``t`` to ``s = t - h``, ``x_s = x_t - h [f(t) x_t + g(t)^2 eps(x_t, t) / sigma_t] + sqrt(h)
    g(t) z``, ``z ~ N(0, I)`` drawn anew at each step (see the module docstring for ``f``,
    ``g``). A first-order weak scheme: moments of the samples converge at rate ``h``. Draws
    noise: needs ``key``. NFE = steps (+1 with ``denoise_to_zero``).

    Attributes:
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction ``E[x_0 | x_{t_end}]`` (Tweedie's formula)
            at the last time instead of the noisy sample (one more NFE), as Song et al. do.
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> out = D.EulerMaruyama()(model, s, jnp.ones(2), D.time_grid(s, 50, "uniform"), key=jax.random.key(0))
        >>> int(out.nfe)
        50
    """

    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self)

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` down to ``grid[-1]``; ``key`` is required."""
        p = prepare(self, model, schedule, x_T, grid, key, needs_key=True)
        grid = p.grid
        n = grid.shape[0] - 1
        drift = reverse_sde(schedule, p.noise)

        def step(carry, inputs):
            x, status = carry
            i, z_key = inputs
            t, s = grid[i], grid[i + 1]
            h = t - s
            d, g, eps = drift(x, t)
            x_s = x - h * d + jnp.sqrt(h) * g * gaussian_noise(z_key, x)
            return (x_s, update_status(status, i, (eps,), x_s)), None

        init = (p.x_T, initial_status(p.x_T))
        (x, status), _ = jax.lax.scan(step, init, (jnp.arange(n), split_keys(p.key, n)))
        x, status = final_denoise(self, x, p.data, grid[-1], status, n)
        return finish(self, x, status, messages("EulerMaruyama", n, self.denoise_to_zero),
                      nfe=n + int(self.denoise_to_zero), num_steps=n)
