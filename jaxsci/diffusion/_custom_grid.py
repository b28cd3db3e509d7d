"""Grids from user timesteps or sigmas (as diffusers' ``set_timesteps(timesteps=...)`` and
``set_timesteps(sigmas=...)`` take them), checked by ``validate_grid``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._flow_matching import FlowMatching
from ._grid import _check_schedule, validate_grid
from ._inputs import float_input
from ._schedule import EDM, AbstractSchedule


def _invert_sigma(schedule, sigmas):
    """``t`` with ``sigma_t = sigma`` by bisection on ``[t_min, t_max]`` (``sigma_t`` increases)."""

    def one(target):
        def body(_, bounds):
            lo, hi = bounds
            mid = 0.5 * (lo + hi)
            below = schedule.sigma(mid) < target
            return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

        lo, hi = jax.lax.fori_loop(0, 60, body, (jnp.asarray(schedule.t_min, sigmas.dtype),
                                                    jnp.asarray(schedule.t_max, sigmas.dtype)))
        return 0.5 * (lo + hi)

    return jnp.vectorize(one)(sigmas)


def custom_grid(schedule: AbstractSchedule, *, timesteps: Float[ArrayLike, " n+1"] | None = None,
                sigmas: Float[ArrayLike, " n+1"] | None = None,
                noise_to_signal: bool = False) -> Float[Array, " n+1"]:
    """The sampler grid of user ``timesteps`` (the schedule's times ``t``) or ``sigmas``,
    given in sampling order (decreasing), checked by :func:`validate_grid` (a 1-D array of at
    least 2 finite, strictly decreasing times inside ``[t_min, t_max]``).

    ``sigmas`` are the schedule's ``sigma_t`` (``t = sigma`` on :class:`FlowMatching` and
    :class:`EDM`, else by bisection of ``sigma_t``); with ``noise_to_signal=True`` they are
    ``sigma_t / alpha_t = e^{-lambda_t}``, the "sigmas" of diffusers' VP schedulers and of
    Karras et al. 2022 (eq. 4 in ``x / alpha``), inverted by ``schedule.inverse_lambda``.
    A sigma of 0 is the time ``t`` where ``sigma_t = 0`` (``t = 0`` on ``FlowMatching(t_min=0)``).

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.FlowMatching(t_min=0.0, t_max=1.0)
        >>> D.custom_grid(s, sigmas=[1.0, 0.75, 0.5, 0.0])
        Array([1.  , 0.75, 0.5 , 0.  ], dtype=float32)
        >>> vp = D.VPLinear()
        >>> grid = D.custom_grid(vp, sigmas=vp.sigma(jnp.array([0.9, 0.5, 0.1])))   # ~ [0.9, 0.5, 0.1]
    """
    _check_schedule(schedule)
    if (timesteps is None) == (sigmas is None):
        raise TypeError("custom_grid takes exactly one of `timesteps=` (times t) or `sigmas=` (noise levels), "
                        f"got {'both' if timesteps is not None else 'neither'}.")
    if not isinstance(noise_to_signal, bool):
        raise TypeError(f"`noise_to_signal` must be True or False, got {noise_to_signal!r}.")
    if timesteps is not None:
        return validate_grid(schedule, timesteps)
    sig = float_input(sigmas, "sigmas", allow_int=True)
    if not jnp.issubdtype(sig.dtype, jnp.floating):
        sig = sig.astype(jnp.result_type(float))
    if sig.ndim != 1:
        raise ValueError(f"`sigmas` must be a 1-D array of decreasing noise levels, got shape {sig.shape}.")
    if not isinstance(sig, jax.core.Tracer) and bool(jnp.any(sig < 0)):
        raise ValueError(f"`sigmas` must be >= 0 (noise levels), got {sig}.")
    if noise_to_signal:
        grid = schedule.inverse_lambda(-jnp.log(sig))
    elif isinstance(schedule, (FlowMatching, EDM)):
        grid = sig
    else:
        lo, hi = schedule.sigma(schedule.t_min), schedule.sigma(schedule.t_max)
        if not isinstance(sig, jax.core.Tracer) and not isinstance(lo, jax.core.Tracer):
            tol = 1e-6 * float(hi)
            if bool(jnp.any(sig > hi + tol)) or bool(jnp.any(sig < lo - tol)):
                raise ValueError(f"`sigmas` must lie in the schedule's range [sigma(t_min), sigma(t_max)] = "
                                 f"[{float(lo)}, {float(hi)}], got values from {float(sig.min())} to {float(sig.max())}.")
        grid = _invert_sigma(schedule, sig)
    return validate_grid(schedule, grid)
