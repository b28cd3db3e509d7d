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
