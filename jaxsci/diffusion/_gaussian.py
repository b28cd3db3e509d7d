"""Analytic test model: data x0 ~ N(mean, std^2 I) with the exact noise prediction.

With x_t = alpha_t x0 + sigma_t eps, the marginal is N(alpha_t mean, (alpha_t^2 std^2 +
sigma_t^2) I) and E[eps | x_t] = sigma_t (x_t - alpha_t mean) / (alpha_t^2 std^2 + sigma_t^2).
std = 0 gives a single-point data distribution.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


class GaussianEps(eqx.Module):
    """Exact eps-prediction eps(x, t) for Gaussian data ``N(mean, std^2 I)`` under ``schedule``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.array([1.0, -1.0]), 0.5)
        >>> x0 = model.exact_flow(jnp.zeros(2), s.t_max, s.t_min)   # the exact ODE endpoint
    """

    schedule: eqx.Module
    mean: Float[Array, " d"]
    std: float = 0.0

    def __call__(self, x: Float[Array, " d"], t: ArrayLike) -> Float[Array, " d"]:
        a, s = self.schedule.alpha(t), self.schedule.sigma(t)
        return s * (x - a * self.mean) / (a**2 * self.std**2 + s**2)

    def exact_flow(self, x_T: Float[Array, " d"], t_from: ArrayLike, t_to: ArrayLike):
        """Exact probability-flow ODE map from t_from to t_to (closed form for Gaussian data):
        the standardized deviation (x - alpha mean) / sqrt(alpha^2 std^2 + sigma^2) is conserved."""
        a0, s0 = self.schedule.alpha(t_from), self.schedule.sigma(t_from)
        a1, s1 = self.schedule.alpha(t_to), self.schedule.sigma(t_to)
        r0 = jnp.sqrt(a0**2 * self.std**2 + s0**2)
        r1 = jnp.sqrt(a1**2 * self.std**2 + s1**2)
        return a1 * self.mean + (x_T - a0 * self.mean) * (r1 / r0)
