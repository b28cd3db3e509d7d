"""The flow-matching (rectified flow) schedule ``alpha_t = 1 - t``, ``sigma_t = t``.

Sources: rectified flow, Liu, Gong & Liu, ICLR 2023 (the straight path ``x_t = (1 - t) x_0 +
t eps``, written with ``t = 1`` the noise end as diffusers and Stable Diffusion 3 do); flow
matching with the optimal-transport path, Lipman et al., ICLR 2023, eq. 20 (``sigma_min =
0``); the resolution time shift ``t -> shift t / (1 + (shift - 1) t)`` of Esser et al.,
Stable Diffusion 3, ICML 2024, eq. 23.
"""


import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._schedule import AbstractSchedule, _float


class FlowMatching(AbstractSchedule):
    """Rectified flow: ``x_t = (1 - t) x_0 + t eps`` (Liu et al., ICLR 2023; Lipman et al.,
    ICLR 2023, eq. 20), so ``alpha_t = 1 - t``, ``sigma_t = t``, ``lambda_t = log((1 - t) / t)``
    and, in closed form, ``t = 1 / (1 + e^lambda)``.

    ``shift`` is the SD3 time shift (Esser et al. 2024, eq. 23),
    ``t -> shift t / (1 + (shift - 1) t)``: it acts on the sampling grid (``time_grid``'s
    ``"uniform"`` and ``"quadratic"`` kinds are spaced in the unshifted time
    ``u = t / (shift - (shift - 1) t)``), not on ``alpha`` and ``sigma``. It lowers the
    log-SNR by ``log(shift)``, so the ``"logSNR"`` and ``"karras"`` grids do not change.

    ``t_min`` may be 0 and ``t_max`` may be 1 (the data and noise ends). There the log-SNR is
    infinite (``lambda_1 = -inf``, ``lambda_0 = +inf``), so only the samplers that need no
    log-SNR can use such a grid end: :class:`FlowEuler`, :class:`FlowHeun` and ``DDIM()``
    (``eta = 0``); the log-SNR samplers (DPM-Solver, UniPC, DEIS, ...) refuse it with an
    error that says so and need ``0 < t_min < t_max < 1`` (the defaults ``1e-3`` and ``0.999``).

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.FlowMatching()
        >>> float(s.alpha(0.25) + s.sigma(0.25))
        1.0
        >>> round(float(s.inverse_lambda(s.lambda_(0.3))), 6)
        0.3
        >>> round(float(D.FlowMatching(shift=3.0).shift_time(0.5)), 4)   # 1.5 / 2
        0.75
    """

    shift: float = 1.0
    t_min: float = 1e-3
    t_max: float = 0.999

    def __check_init__(self):
        for name in ("shift", "t_min", "t_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise TypeError(f"FlowMatching: `{name}` must be a finite number, got {value!r}.")
        if self.shift <= 0:
            raise ValueError(f"FlowMatching needs shift > 0 (1: no shift; SD3 uses 3.0), got shift={self.shift}.")
        if not (0 <= self.t_min < self.t_max <= 1):
            raise ValueError(
                f"FlowMatching needs 0 <= t_min < t_max <= 1, got t_min={self.t_min}, t_max={self.t_max} "
                "(t = 1 is pure noise, t = 0 the data)."
            )

    def log_alpha(self, t: ArrayLike) -> Float[Array, "..."]:
        return jnp.log1p(-_float(t))

    def alpha(self, t: ArrayLike) -> Float[Array, "..."]:
        return 1.0 - _float(t)

    def sigma(self, t: ArrayLike) -> Float[Array, "..."]:
        return _float(t)

    def lambda_(self, t: ArrayLike) -> Float[Array, "..."]:
        t = _float(t)
        return jnp.log1p(-t) - jnp.log(t)

    def inverse_lambda(self, lam: ArrayLike) -> Float[Array, "..."]:
        """``t = 1 / (1 + e^lambda)`` (the inverse of ``lambda = log((1 - t) / t)``)."""
        return jax.nn.sigmoid(-_float(lam))

    def shift_time(self, u: ArrayLike) -> Float[Array, "..."]:
        """The SD3 shift ``shift u / (1 + (shift - 1) u)`` (Esser et al. 2024, eq. 23)."""
        u = _float(u)
        return self.shift * u / (1.0 + (self.shift - 1.0) * u)

    def unshift_time(self, t: ArrayLike) -> Float[Array, "..."]:
        """The inverse of :meth:`shift_time`: ``u = t / (shift - (shift - 1) t)``."""
        t = _float(t)
        return t / (self.shift - (self.shift - 1.0) * t)
