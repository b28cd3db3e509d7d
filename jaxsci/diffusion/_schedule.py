"""Noise schedules: ``x_t = alpha_t x_0 + sigma_t eps`` and the log-SNR ``lambda_t``.

Every schedule gives ``log_alpha(t)``, ``alpha(t)``, ``sigma(t)``, ``lambda_(t) =
log(alpha_t / sigma_t)`` and its inverse ``inverse_lambda(lam)``, on ``[t_min, t_max]``.
The samplers only use these, so VP, VE and EDM schedules work with every sampler.

Sources: VP linear and cosine in continuous time, and the discrete-time VP schedule from
betas interpolated in ``log alpha``: Lu et al., DPM-Solver, NeurIPS 2022, App. D.1 (with
Song et al., ICLR 2021, and Nichol & Dhariwal, ICML 2021, for the cosine schedule); VE:
Song et al., ICLR 2021; EDM: Karras et al., NeurIPS 2022 (``sigma_t = t``, ``alpha = 1``).
Near ``t = 0`` the VP formulas use ``expm1`` / ``logaddexp`` (``1 - exp`` loses every
digit of ``sigma_t^2 ~ beta_min t`` in float32).
"""


import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


class AbstractSchedule(eqx.Module):
    """A noise schedule ``x_t = alpha_t x_0 + sigma_t eps`` on ``[t_min, t_max]``.

    Subclasses define ``log_alpha``, ``sigma``, ``t_min`` and ``t_max``; ``alpha``,
    ``lambda_`` and ``inverse_lambda`` have generic versions that subclasses may replace
    by closed forms.

    Example:
        >>> class Flat(AbstractSchedule):          # alpha = 1, sigma_t = t (as EDM)
        ...     t_min: float = 0.01
        ...     t_max: float = 10.0
        ...     def log_alpha(self, t):
        ...         return jnp.zeros_like(jnp.asarray(t, float))
        ...     def sigma(self, t):
        ...         return jnp.asarray(t, float)
        >>> round(float(Flat().inverse_lambda(Flat().lambda_(2.0))), 4)
        2.0
    """

    t_min: eqx.AbstractVar[float]
    t_max: eqx.AbstractVar[float]

    @abc.abstractmethod
    def log_alpha(self, t: ArrayLike) -> Float[Array, "..."]:
        """``log alpha_t``."""

    def alpha(self, t: ArrayLike) -> Float[Array, "..."]:
        """The signal scale ``alpha_t = exp(log_alpha(t))``."""
        return jnp.exp(self.log_alpha(t))

    @abc.abstractmethod
    def sigma(self, t: ArrayLike) -> Float[Array, "..."]:
        """The noise scale ``sigma_t``."""

    def lambda_(self, t: ArrayLike) -> Float[Array, "..."]:
        """The log signal-to-noise ratio ``log(alpha_t / sigma_t)`` (decreasing in t)."""
        return self.log_alpha(t) - jnp.log(self.sigma(t))

    def inverse_lambda(self, lam: ArrayLike) -> Float[Array, "..."]:
        """``t`` with ``lambda_t = lam``, by bisection on ``[t_min, t_max]`` (60 halvings)."""
        lam = jnp.asarray(lam, dtype=jnp.result_type(float))

        def one(target):
            def body(_, bounds):
                lo, hi = bounds
                mid = 0.5 * (lo + hi)
                above = self.lambda_(mid) > target  # lambda decreases: the root is right of mid
                return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

            lo, hi = jax.lax.fori_loop(0, 60, body, (jnp.asarray(self.t_min, lam.dtype),
                                                        jnp.asarray(self.t_max, lam.dtype)))
            return 0.5 * (lo + hi)

        return jnp.vectorize(one)(lam)


def _float(t: ArrayLike) -> Array:
    """``t`` as a floating array (integer times, e.g. training steps, in the default float dtype)."""
    t = jnp.asarray(t)
    return t if jnp.issubdtype(t.dtype, jnp.floating) else t.astype(jnp.result_type(float))


def _check_interval(name: str, t_min: float, t_max: float, upper: float | None = None) -> None:
    if not (0 < t_min < t_max) or (upper is not None and t_max > upper):
        bound = f" <= {upper}" if upper is not None else ""
        raise ValueError(f"{name} needs 0 < t_min < t_max{bound}, got t_min={t_min}, t_max={t_max}.")


def _vp_sigma(log_alpha):
    return jnp.sqrt(-jnp.expm1(2.0 * log_alpha))  # sqrt(1 - alpha^2), accurate near alpha = 1


def _vp_lambda(log_alpha):
    return log_alpha - 0.5 * jnp.log(-jnp.expm1(2.0 * log_alpha))


def _vp_log_alpha_of_lambda(lam):
    return -0.5 * jnp.logaddexp(0.0, -2.0 * lam)  # alpha^2 = 1 / (1 + e^{-2 lam})


class VPLinear(AbstractSchedule):
    """VP schedule with ``beta(t) = beta_min + t (beta_max - beta_min)`` on ``[t_min, t_max]``.

    ``log alpha_t = -t^2 (beta_max - beta_min) / 4 - t beta_min / 2`` (DPM-Solver eq. 18);
    the inverse of ``lambda`` in closed form (DPM-Solver App. D.1).

    Example:
        >>> s = VPLinear()
        >>> round(float(s.inverse_lambda(s.lambda_(0.5))), 5)
        0.5
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
        _check_interval("VPLinear", self.t_min, self.t_max)

    def log_alpha(self, t):
        t = _float(t)
        return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def sigma(self, t):
        return _vp_sigma(self.log_alpha(t))

    def lambda_(self, t):
        return _vp_lambda(self.log_alpha(t))

    def inverse_lambda(self, lam):
        lam = jnp.asarray(lam)
        tmp = 2.0 * (self.beta_max - self.beta_min) * jnp.logaddexp(0.0, -2.0 * lam)
        delta = self.beta_min**2 + tmp
        return tmp / (jnp.sqrt(delta) + self.beta_min) / (self.beta_max - self.beta_min)


class VPCosine(AbstractSchedule):
    """VP cosine schedule in continuous time (Nichol & Dhariwal 2021; DPM-Solver App. D.1):
    ``log alpha_t = log cos((t + s) / (1 + s) pi / 2) - log cos(s / (1 + s) pi / 2)``,
    ``s = 0.008``; ``t_max = 0.9946`` keeps ``lambda`` finite as in DPM-Solver.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPCosine()
        >>> round(float(s.alpha(0.5) ** 2 + s.sigma(0.5) ** 2), 6)
        1.0
    """

    s: float = 0.008
    t_min: float = 1e-3
    t_max: float = 0.9946

    def __check_init__(self):
        _check_interval("VPCosine", self.t_min, self.t_max, upper=1.0)
        if self.s <= 0:
            raise ValueError(f"VPCosine needs s > 0, got {self.s}.")

    def _offset(self):
        return math.log(math.cos(self.s / (1.0 + self.s) * math.pi / 2.0))

    def log_alpha(self, t):
        t = _float(t)
        return jnp.log(jnp.cos((t + self.s) / (1.0 + self.s) * jnp.pi / 2.0)) - self._offset()

    def sigma(self, t):
        return _vp_sigma(self.log_alpha(t))

    def lambda_(self, t):
        return _vp_lambda(self.log_alpha(t))

    def inverse_lambda(self, lam):
        log_alpha = _vp_log_alpha_of_lambda(jnp.asarray(lam)) + self._offset()
        return 2.0 * (1.0 + self.s) / jnp.pi * jnp.arccos(jnp.exp(log_alpha)) - self.s


class VPDiscrete(AbstractSchedule):
    """Discrete-time VP schedule from ``betas``: ``alpha_n^2 = prod_{i<=n} (1 - beta_i)``,
    with ``log alpha`` interpolated linearly between the integer times ``n = 0..N-1``
    (the continuous-time view of DPM-Solver App. D.1, here on the training-step axis
    that discrete-time libraries use: time ``n`` is training step ``n``).

    Build one with ``VPDiscrete.linear()``, ``VPDiscrete.scaled_linear()``,
    ``VPDiscrete.cosine()`` or ``VPDiscrete(betas)``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPDiscrete.linear()          # Ho et al. 2020, 1000 training steps
        >>> s.t_min, s.t_max
        (0.0, 999.0)
    """

    log_alphas: Float[Array, " N"]
    t_min: float
    t_max: float

    def __init__(self, betas: ArrayLike, t_min: float = 0.0, t_max: float | None = None):
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or betas.size < 2 or not np.all((betas > 0) & (betas < 1)):
            raise ValueError("VPDiscrete needs a 1-D array of at least 2 betas, each in (0, 1).")
        # computed in float64 with log1p, then stored in the default float dtype
        self.log_alphas = jnp.asarray(0.5 * np.cumsum(np.log1p(-betas)))
        self.t_min = float(t_min)
        self.t_max = float(betas.size - 1 if t_max is None else t_max)
        if not (0 <= self.t_min < self.t_max <= betas.size - 1):
            raise ValueError(f"VPDiscrete needs 0 <= t_min < t_max <= {betas.size - 1}, "
                             f"got t_min={self.t_min}, t_max={self.t_max}.")

    @classmethod
    def linear(cls, num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        """Ho et al. 2020: betas linear from ``beta_start`` to ``beta_end``."""
        return cls(np.linspace(beta_start, beta_end, num_steps))

    @classmethod
    def scaled_linear(cls, num_steps: int = 1000, beta_start: float = 0.00085, beta_end: float = 0.012):
        """Latent diffusion: ``sqrt(beta)`` linear from ``sqrt(beta_start)`` to ``sqrt(beta_end)``."""
        return cls(np.linspace(beta_start**0.5, beta_end**0.5, num_steps) ** 2)

    @classmethod
    def cosine(cls, num_steps: int = 1000, s: float = 0.008, max_beta: float = 0.999):
        """Nichol & Dhariwal 2021: ``alpha_bar(t) = cos^2((t/N + s)/(1 + s) pi/2)``."""
        f = np.cos((np.arange(num_steps + 1) / num_steps + s) / (1 + s) * np.pi / 2) ** 2
        return cls(np.minimum(1 - f[1:] / f[:-1], max_beta))

    def log_alpha(self, t):
        t = _float(t)
        grid = jnp.arange(self.log_alphas.shape[0], dtype=t.dtype)
        return jnp.interp(t, grid, self.log_alphas.astype(t.dtype))

    def sigma(self, t):
        return _vp_sigma(self.log_alpha(t))

    def lambda_(self, t):
        return _vp_lambda(self.log_alpha(t))

    def inverse_lambda(self, lam):
        """Exact inverse of the piecewise-linear ``log alpha`` (it is decreasing in t)."""
        log_alpha = _vp_log_alpha_of_lambda(_float(lam))
        grid = jnp.arange(self.log_alphas.shape[0], dtype=log_alpha.dtype)
        # interp needs increasing x: flip the decreasing log alphas
        return jnp.interp(log_alpha, self.log_alphas[::-1].astype(log_alpha.dtype), grid[::-1].astype(log_alpha.dtype))


class VE(AbstractSchedule):
    """Variance exploding (Song et al. 2021): ``alpha = 1``,
    ``sigma_t = sigma_min (sigma_max / sigma_min)^t`` on ``[t_min, 1]``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> round(float(D.VE().sigma(1.0)), 4)
        50.0
    """

    sigma_min: float = 0.01
    sigma_max: float = 50.0
    t_min: float = 1e-5
    t_max: float = 1.0

    def __check_init__(self):
        if not (0 < self.sigma_min < self.sigma_max):
            raise ValueError(f"VE needs 0 < sigma_min < sigma_max, got {self.sigma_min}, {self.sigma_max}.")
        _check_interval("VE", self.t_min, self.t_max)

    def log_alpha(self, t):
        return jnp.zeros_like(_float(t))

    def sigma(self, t):
        t = _float(t)
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def lambda_(self, t):
        t = _float(t)
        return -(math.log(self.sigma_min) + t * math.log(self.sigma_max / self.sigma_min))

    def inverse_lambda(self, lam):
        return (-jnp.asarray(lam) - math.log(self.sigma_min)) / math.log(self.sigma_max / self.sigma_min)


class EDM(AbstractSchedule):
    """Karras et al. 2022: ``alpha = 1``, ``sigma_t = t`` for ``t`` in ``[sigma_min, sigma_max]``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> grid = D.time_grid(D.EDM(), 18, "karras")   # the EDM sampling grid, rho = 7
    """

    sigma_min: float
    sigma_max: float
    t_min: float
    t_max: float

    def __init__(self, sigma_min: float = 0.002, sigma_max: float = 80.0):
        if not (0 < sigma_min < sigma_max):
            raise ValueError(f"EDM needs 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}.")
        self.sigma_min, self.sigma_max = float(sigma_min), float(sigma_max)
        self.t_min, self.t_max = self.sigma_min, self.sigma_max

    def log_alpha(self, t):
        return jnp.zeros_like(_float(t))

    def sigma(self, t):
        return _float(t)

    def lambda_(self, t):
        return -jnp.log(_float(t))

    def inverse_lambda(self, lam):
        return jnp.exp(-jnp.asarray(lam))
