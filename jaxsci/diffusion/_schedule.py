"""Continuous-time VP noise schedules: alpha_t, sigma_t, lambda_t = log(alpha_t/sigma_t).

Formulas: Song et al., ICLR 2021 (VP-SDE, linear beta in [0.1, 20]); Lu et al.,
DPM-Solver, NeurIPS 2022, Appendix D.1 (closed-form inverse of lambda_t).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


class VPLinear(eqx.Module):
    """VP schedule with beta(t) = beta_min + t (beta_max - beta_min), t in [eps, 1].

    log alpha_t = -t^2 (beta_max - beta_min) / 4 - t beta_min / 2 (DPM-Solver eq. 18).
    sigma_t uses expm1 so it stays accurate near t = 0.

    Example:
        >>> s = VPLinear()
        >>> s.lambda_(s.inverse_lambda(s.lambda_(0.5)))
    """

    beta_min: float = 0.1
    beta_max: float = 20.0
    t_min: float = 1e-3
    t_max: float = 1.0

    def __check_init__(self):
        if not (0 < self.beta_min < self.beta_max):
            raise ValueError(
                f"VPLinear needs 0 < beta_min < beta_max, got beta_min={self.beta_min}, "
                f"beta_max={self.beta_max}; pass e.g. beta_min=0.1, beta_max=20.0."
            )
        if not (0 < self.t_min < self.t_max):
            raise ValueError(
                f"VPLinear needs 0 < t_min < t_max, got t_min={self.t_min}, t_max={self.t_max}."
            )

    def log_alpha(self, t: ArrayLike) -> Float[Array, "..."]:
        t = jnp.asarray(t)
        return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def alpha(self, t: ArrayLike) -> Float[Array, "..."]:
        return jnp.exp(self.log_alpha(t))

    def sigma(self, t: ArrayLike) -> Float[Array, "..."]:
        # sigma^2 = 1 - alpha^2 = -expm1(2 log alpha)
        return jnp.sqrt(-jnp.expm1(2.0 * self.log_alpha(t)))

    def lambda_(self, t: ArrayLike) -> Float[Array, "..."]:
        la = self.log_alpha(t)
        return la - 0.5 * jnp.log(-jnp.expm1(2.0 * la))

    def inverse_lambda(self, lam: ArrayLike) -> Float[Array, "..."]:
        """t with lambda_t = lam (DPM-Solver Appendix D.1)."""
        lam = jnp.asarray(lam)
        # log alpha = -0.5 logaddexp(0, -2 lam)
        tmp = 2.0 * (self.beta_max - self.beta_min) * jnp.logaddexp(0.0, -2.0 * lam)
        delta = self.beta_min**2 + tmp
        return tmp / (jnp.sqrt(delta) + self.beta_min) / (self.beta_max - self.beta_min)
