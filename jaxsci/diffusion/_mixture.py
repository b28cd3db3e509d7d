"""Gaussian mixtures: analytic diffusion models with the exact eps at every t and the
exact probability-flow endpoint.

Data ``x_0 ~ sum_k w_k N(mu_k, s_k^2 I)``. Under ``x_t = alpha_t x_0 + sigma_t eps`` the
marginal is ``sum_k w_k N(alpha_t mu_k, (alpha_t^2 s_k^2 + sigma_t^2) I)``, so with
responsibilities ``gamma_k(x, t)``

    eps(x, t) = -sigma_t grad log p_t(x) = sigma_t sum_k gamma_k (x - alpha_t mu_k) / (alpha_t^2 s_k^2 + sigma_t^2).

In ``y = x / alpha_t`` and ``rho = sigma_t / alpha_t = e^{-lambda}`` the probability-flow ODE
reads (Lu et al. 2022, eq. 3.4 differentiated; Karras et al. 2022, eq. 3)

    dy / drho = rho sum_k gamma_k(y, rho) (y - mu_k) / (s_k^2 + rho^2),

which involves no schedule: the endpoint of the flow depends only on the range of
``lambda``. ``flow_endpoint`` solves it with diffrax (8th-order Dormand-Prince, tight
tolerances; use float64).
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..internal import check_key, check_positive_int


class GaussianMixture(eqx.Module):
    """``sum_k w_k N(mu_k, s_k^2 I)`` in R^d.

    Args:
        weights: (K,) positive, normalised here.
        means: (K, d).
        stds: (K,) non-negative per-component standard deviations (0 gives a point mass).

    The arrays may be traced (a mixture built inside ``jit``, or ``vmap`` over weights, means
    or stds): concrete values are checked at once (``ValueError``), traced ones at run time
    (``equinox.error_if``). Only the shapes, hence ``K`` and ``d``, must be static.

    Example:
        >>> from jaxsci import diffusion as D
        >>> gm = D.GaussianMixture.random(num_components=8, dim=4, std=0.05, key=jax.random.key(0))
        >>> eps = gm.noise_model(D.VPLinear())                           # (x, t) -> exact eps
        >>> x0 = gm.flow_endpoint(D.VPLinear(), jnp.ones(4), 1.0, 1e-3)  # exact ODE sample
        >>> gm.sample(5, key=jax.random.key(1)).shape
        (5, 4)
    """

    log_weights: Float[Array, " K"]
    means: Float[Array, "K d"]
    stds: Float[Array, " K"]

    def __init__(self, weights: ArrayLike, means: ArrayLike, stds: ArrayLike):
        weights, means, stds = jnp.asarray(weights), jnp.asarray(means), jnp.asarray(stds)
        if means.ndim != 2 or weights.shape != means.shape[:1] or stds.shape != means.shape[:1]:
            raise ValueError(
                f"GaussianMixture needs weights (K,), means (K, d) and stds (K,), got "
                f"{weights.shape}, {means.shape} and {stds.shape}."
            )
        if isinstance(weights, jax.core.Tracer) or isinstance(stds, jax.core.Tracer):  # checked at run time
            weights = eqx.error_if(weights, jnp.any(weights <= 0), "GaussianMixture needs positive weights.")
            stds = eqx.error_if(stds, jnp.any(stds < 0), "GaussianMixture needs non-negative stds.")
        elif bool(jnp.any(weights <= 0)) or bool(jnp.any(stds < 0)):
            raise ValueError("GaussianMixture needs positive weights and non-negative stds.")
        self.log_weights = jnp.log(weights / jnp.sum(weights))
        self.means, self.stds = means, stds

    @classmethod
    def random(cls, num_components: int, dim: int, std: float = 0.05, spread: float = 1.0, *,
               key: PRNGKeyArray) -> GaussianMixture:
        """``num_components`` equal-weight narrow Gaussians with means ``~ N(0, spread^2 I)``."""
        key = check_key(key)
        check_positive_int(num_components, "num_components")
        check_positive_int(dim, "dim")
        means = spread * jax.random.normal(key, (num_components, dim))
        return cls(jnp.ones(num_components), means, jnp.full(num_components, std))

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, *, key: PRNGKeyArray) -> Float[Array, "n d"]:
        """``n`` draws from the data distribution."""
        key = check_key(key)
        check_positive_int(n, "n")
        k1, k2 = jax.random.split(key)
        comp = jax.random.categorical(k1, self.log_weights, shape=(n,))
        z = jax.random.normal(k2, (n, self.dim), dtype=self.means.dtype)
        return self.means[comp] + self.stds[comp][:, None] * z

    def _responsibilities(self, y, rho):
        var = self.stds.astype(y.dtype) ** 2 + rho**2
        means = self.means.astype(y.dtype)
        # |y - mu_k|^2 through y . mu_k: a matrix product when vmapped over samples
        sq = y @ y - 2.0 * (means @ y) + jnp.sum(means**2, axis=-1)
        logits = self.log_weights - 0.5 * sq / var - 0.5 * self.dim * jnp.log(var)
        return jax.nn.softmax(logits), var

    def denoiser(self, y: Float[Array, " d"], rho) -> Float[Array, " d"]:
        """``E[x_0 | x_t]`` as a function of ``y = x_t / alpha_t`` and ``rho = sigma_t / alpha_t``:
        ``sum_k gamma_k (mu_k + s_k^2 / (s_k^2 + rho^2) (y - mu_k))``."""
        gamma, var = self._responsibilities(y, rho)
        shrink = self.stds.astype(y.dtype) ** 2 / var
        return (gamma * (1.0 - shrink)) @ self.means.astype(y.dtype) + jnp.sum(gamma * shrink) * y

    def data_model(self, schedule):
        """The exact data prediction ``(x, t) -> E[x_0 | x_t]`` under ``schedule``."""

        def x0(x, t):
            a = schedule.alpha(t)
            return self.denoiser(x / a, schedule.sigma(t) / a)

        return x0

    def noise_model(self, schedule):
        """The exact noise prediction ``(x, t) -> E[eps | x_t]`` under ``schedule``."""
        data = self.data_model(schedule)

        def eps(x, t):
            return (x - schedule.alpha(t) * data(x, t)) / schedule.sigma(t)

        return eps

    def velocity_model(self, schedule):
        """The exact flow-matching velocity ``(x, t) -> E[eps - x_0 | x_t]`` (the ``"flow"``
        parametrization) under ``schedule``, computed in ``x`` itself, so it is finite where
        ``alpha_t = 0`` (``FlowMatching`` at ``t = 1``: ``x_t = eps``, ``v = x - E[x_0]``):
        per component, ``E[eps | x, k] = sigma_t d_k / var_k`` and ``E[x_0 | x, k] = mu_k +
        alpha_t s_k^2 d_k / var_k`` with ``d_k = x - alpha_t mu_k``, ``var_k = alpha_t^2 s_k^2 +
        sigma_t^2``, weighted by the responsibilities."""

        def v(x, t):
            a, s = schedule.alpha(t), schedule.sigma(t)
            means, var0 = self.means.astype(x.dtype), self.stds.astype(x.dtype) ** 2
            var = a**2 * var0 + s**2
            diff = x[None, :] - a * means
            logits = (self.log_weights.astype(x.dtype) - 0.5 * jnp.sum(diff**2, axis=-1) / var
                      - 0.5 * self.dim * jnp.log(var))
            per_component = ((s - a * var0) / var)[:, None] * diff - means
            return jax.nn.softmax(logits) @ per_component

        return v

    def flow_endpoint(self, schedule, x_T: Float[Array, " d"], t_from, t_to, *,
                      rtol: float = 1e-10, atol: float = 1e-10, max_steps: int = 100_000):
        """The probability-flow ODE's exact map from ``t_from`` to ``t_to`` (tight diffrax solve
        in ``lambda`` of ``dy/dlambda = -rho (y - D(y, rho))``, ``rho = e^{-lambda}``)."""
        lam0, lam1 = schedule.lambda_(t_from), schedule.lambda_(t_to)

        def field(lam, y, _):
            rho = jnp.exp(-lam)
            return -(y - self.denoiser(y, rho))

        # dy/dlambda = (dy/drho)(drho/dlambda) with dy/drho = (y - D) / rho, drho/dlambda = -rho
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field), diffrax.Dopri8(), lam0, lam1, None, x_T / schedule.alpha(t_from),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=max_steps, saveat=diffrax.SaveAt(t1=True),
        )
        ys = sol.ys
        assert ys is not None  # SaveAt(t1=True)
        return schedule.alpha(t_to) * ys[0]
