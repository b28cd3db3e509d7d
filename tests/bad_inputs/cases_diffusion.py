import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci import diffusion as d

_s = d.VPLinear()
_m = d.GaussianEps(_s, jnp.zeros(2))

CASES = [
    BadInput("vp-beta-order", lambda: d.VPLinear(beta_min=20.0, beta_max=0.1), ValueError, "beta_min < beta_max"),
    BadInput("vp-beta-negative", lambda: d.VPLinear(beta_min=-1.0), ValueError, "0 < beta_min"),
    BadInput("vp-t-order", lambda: d.VPLinear(t_min=1.0, t_max=0.5), ValueError, "t_min < t_max"),
    BadInput("vp-t-zero", lambda: d.VPLinear(t_min=0.0), ValueError, "0 < t_min"),
    BadInput("grid-steps-zero", lambda: d.time_grid(_s, 0), ValueError, "num_steps"),
    BadInput("grid-steps-float", lambda: d.time_grid(_s, 2.5), TypeError, "positive integer"),
    BadInput("grid-kind", lambda: d.time_grid(_s, 5, "karras2"), ValueError, "must be one of"),
    BadInput("ddim-grid-short", lambda: d.ddim(_m, _s, jnp.zeros(2), jnp.array([1.0])), ValueError, "at least 2"),
    BadInput("ddim-grid-2d", lambda: d.ddim(_m, _s, jnp.zeros(2), jnp.ones((2, 2))), ValueError, "1-D array"),
    BadInput("ddim-grid-increasing", lambda: d.ddim(_m, _s, jnp.zeros(2), jnp.array([0.1, 0.5])), Exception, "strictly decreasing"),
    BadInput("dpmpp-grid-short", lambda: d.dpm_solver_pp_2m(_m, _s, jnp.zeros(2), jnp.array([1.0])), ValueError, "at least 2"),
]

_x = jnp.zeros(2)
CASES += [
    BadInput("grid-outside-range", lambda: d.ddim(_m, _s, _x, jnp.array([1.5, 0.5])), ValueError, "inside the schedule's range"),
    BadInput("time-grid-ends", lambda: d.time_grid(_s, 5, t_start=0.1, t_end=0.5), ValueError, "t_end < t_start"),
    BadInput("unknown-parametrization", lambda: d.dpm_solver_pp(_m, _s, _x, d.time_grid(_s, 3), parametrization="flow"),
             ValueError, "must be one of"),
    BadInput("order-too-high", lambda: d.dpm_solver_pp(_m, _s, _x, d.time_grid(_s, 3), order=4), ValueError, "order in"),
    BadInput("unipc-variant", lambda: d.unipc(_m, _s, _x, d.time_grid(_s, 3), variant="bh3"), ValueError, "must be one of"),
    BadInput("solver-type", lambda: d.dpm_solver_pp(_m, _s, _x, d.time_grid(_s, 3), solver_type="heun"), ValueError, "must be one of"),
    BadInput("ddim-eta-negative", lambda: d.ddim(_m, _s, _x, d.time_grid(_s, 3), eta=-0.5), ValueError, "eta"),
    BadInput("ddim-eta-without-key", lambda: d.ddim(_m, _s, _x, d.time_grid(_s, 3), eta=1.0), TypeError, "needs a PRNG `key`"),
    BadInput("sde-without-key", lambda: d.sde_dpm_solver_pp_2m(_m, _s, _x, d.time_grid(_s, 3), None), TypeError, "PRNG `key`"),
    BadInput("model-not-callable", lambda: d.ddim(3.0, _s, _x, d.time_grid(_s, 3)), TypeError, "callable model(x, t)"),
    BadInput("x-int", lambda: d.ddim(_m, _s, jnp.zeros(2, jnp.int32), d.time_grid(_s, 3)), TypeError, "floating"),
    BadInput("discrete-betas", lambda: d.VPDiscrete([0.5, 1.5]), ValueError, "each in (0, 1)"),
    BadInput("edm-sigmas", lambda: d.EDM(sigma_min=1.0, sigma_max=0.5), ValueError, "sigma_min < sigma_max"),
    BadInput("mixture-shapes", lambda: d.GaussianMixture(jnp.ones(2), jnp.zeros((3, 2)), jnp.ones(3)), ValueError, "weights (K,)"),
    BadInput("thresholding-percentile", lambda: d.dynamic_thresholding(_m, percentile=1.5), ValueError, "percentile"),
]

CASES += [
    BadInput("adaptive-order", lambda: d.dpm_solver_adaptive(_m, _s, _x, order=1), ValueError, "order in (2, 3)"),
    BadInput("restart-interval", lambda: d.restart(_m, _s, _x, jax.random.key(0), main_steps=10, t_lo=0.5, t_hi=0.2),
             ValueError, "t_lo < t_hi"),
    BadInput("restart-negative", lambda: d.restart(_m, _s, _x, jax.random.key(0), main_steps=10, t_lo=0.1, t_hi=0.2,
                                                   num_restarts=-1), ValueError, "non-negative integer"),
    BadInput("restart-main-steps", lambda: d.restart(_m, _s, _x, jax.random.key(0), main_steps=1, t_lo=0.1, t_hi=0.2),
             ValueError, "main_steps >= 2"),
    BadInput("restart-no-key", lambda: d.restart(_m, _s, _x, None, main_steps=10, t_lo=0.1, t_hi=0.2), TypeError, "PRNG `key`"),
]
