"""Step grids: decreasing times ``t_0 = t_max > t_1 > ... > t_n = t_min``.

Kinds (DPM-Solver, Lu et al. 2022, Sec. 3.3; Karras et al. 2022, eq. 5):

* ``"uniform"``: uniform in t;
* ``"logSNR"``: uniform in ``lambda_t`` (DPM-Solver's recommendation for high-order solvers);
* ``"quadratic"``: uniform in ``sqrt(t)`` (DDIM's quadratic spacing);
* ``"karras"``: ``rho``-spaced noise-to-signal ratios ``e^{-lambda}``
  (``(r_max^{1/rho} + i/n (r_min^{1/rho} - r_max^{1/rho}))^rho``, ``rho = 7``).

On a :class:`FlowMatching` schedule with a ``shift`` (Esser et al., SD3, 2024, eq. 23) the
``"uniform"`` and ``"quadratic"`` kinds are spaced in the unshifted time
``u = t / (shift - (shift - 1) t)`` and mapped back, so ``t_start`` and ``t_end`` stay the ends;
the shift moves log-SNR by a constant, so the ``"logSNR"`` and ``"karras"`` grids are unchanged.

``validate_grid`` checks a user-supplied grid (every sampler calls it).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..internal import check_one_of, check_positive_int
from ._flow_matching import FlowMatching
from ._inputs import float_input
from ._schedule import AbstractSchedule

GRID_KINDS = ("uniform", "logSNR", "quadratic", "karras")


def _check_schedule(schedule) -> None:
    if not isinstance(schedule, AbstractSchedule):
        raise TypeError(
            f"`schedule` must be a jaxsci.diffusion schedule (e.g. VPLinear(), VPCosine(), "
            f"VPDiscrete.linear(), VE(), EDM()), got {type(schedule).__name__}."
        )


def time_grid(schedule: AbstractSchedule, num_steps: int, kind: str = "logSNR", *, rho: float = 7.0,
              t_start: float | None = None, t_end: float | None = None) -> Float[Array, " n+1"]:
    """A decreasing grid of ``num_steps + 1`` times from ``t_start`` (default ``t_max``) to
    ``t_end`` (default ``t_min``). ``t_start`` and ``t_end`` may be traced (checked at run
    time); ``num_steps``, ``kind`` and ``rho`` (``> 0``, used by ``"karras"``) must be concrete.

    Example:
        >>> from jaxsci import diffusion as D
        >>> grid = D.time_grid(D.VPLinear(), 10, "logSNR")      # 11 times, 10 steps
        >>> grid.shape
        (11,)
    """
    _check_schedule(schedule)
    check_positive_int(num_steps, "num_steps")
    check_one_of(kind, GRID_KINDS, "kind")
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not (math.isfinite(rho) and rho > 0):
        raise ValueError(f"`rho` must be a finite number > 0 (Karras et al. use rho = 7), got {rho!r}.")
    T = schedule.t_max if t_start is None else t_start
    eps = schedule.t_min if t_end is None else t_end
    if isinstance(T, jax.core.Tracer) or isinstance(eps, jax.core.Tracer):  # checked at run time
        T, eps = jnp.asarray(T), jnp.asarray(eps)
        bad = ~((schedule.t_min <= eps) & (eps < T) & (T <= schedule.t_max))
        T = eqx.error_if(T, bad, "time_grid needs t_min <= t_end < t_start <= t_max (and finite times).")
        return _spaced(schedule, num_steps, kind, rho, T, eps)
    if not (schedule.t_min <= eps < T <= schedule.t_max):
        raise ValueError(
            f"time_grid needs t_min <= t_end < t_start <= t_max = [{schedule.t_min}, {schedule.t_max}], "
            f"got t_start={T}, t_end={eps}."
        )
    if kind in ("logSNR", "karras"):
        with jax.ensure_compile_time_eval():
            ends = schedule.lambda_(jnp.asarray([T, eps]))
        # (a schedule traced inside jit gives traced ends: a non-finite grid then fails in the sampler)
        if not isinstance(ends, jax.core.Tracer) and not np.all(np.isfinite(ends := np.asarray(ends))):
            where = T if not np.isfinite(ends[0]) else eps
            raise ValueError(
                f"time_grid kind {kind!r} is spaced in log-SNR, which is infinite at t = {where} for {type(schedule).__name__} (lambda = log(alpha / sigma), alpha or sigma is 0 there): "
                "pass t_start/t_end strictly inside (0, 1), e.g. FlowMatching(t_min=1e-3, t_max=0.999), "
                "or use kind='uniform'."
            )
    # concrete ends: a concrete grid, also when called inside jit (a Restart split needs its values)
    with jax.ensure_compile_time_eval():
        return _spaced(schedule, num_steps, kind, rho, T, eps)


def _spaced(schedule, num_steps, kind, rho, T, eps):
    if kind in ("uniform", "quadratic"):
        shifted = isinstance(schedule, FlowMatching) and schedule.shift != 1
        # with an SD3 shift: spaced in the unshifted time u, then shifted (Esser et al. 2024, eq. 23)
        hi, lo = (schedule.unshift_time(T), schedule.unshift_time(eps)) if shifted else (T, eps)
        if kind == "uniform":
            u = jnp.linspace(hi, lo, num_steps + 1)
        else:
            u = jnp.linspace(hi**0.5, lo**0.5, num_steps + 1) ** 2
        return schedule.shift_time(u).at[0].set(T).at[-1].set(eps) if shifted else u
    lam_T, lam_eps = schedule.lambda_(T), schedule.lambda_(eps)
    if kind == "logSNR":
        lam = jnp.linspace(lam_T, lam_eps, num_steps + 1)
    else:
        r_max, r_min = jnp.exp(-lam_T / rho), jnp.exp(-lam_eps / rho)
        lam = -rho * jnp.log(jnp.linspace(r_max, r_min, num_steps + 1))
    grid = schedule.inverse_lambda(lam)
    # pin the ends exactly (the inverse is only accurate to rounding)
    return grid.at[0].set(T).at[-1].set(eps)


def validate_grid(schedule: AbstractSchedule, grid) -> Float[Array, " n+1"]:
    """Check a step grid and return it as an array.

    A grid must be a 1-D array of at least 2 finite real times, strictly decreasing (no
    duplicated entries), inside the schedule's ``[t_min, t_max]``. A concrete grid is
    checked at once (``ValueError``/``TypeError`` naming the problem); a traced grid (inside
    ``jit``) raises at run time through ``equinox.error_if``. Every sampler calls this;
    call it yourself to check a hand-made grid early.

    Example:
        >>> from jaxsci import diffusion as D
        >>> D.validate_grid(D.VPLinear(), [1.0, 0.5, 0.001]).shape
        (3,)
    """
    _check_schedule(schedule)
    grid = float_input(grid, "grid", allow_int=True)
    if grid.ndim != 1 or grid.shape[0] < 2:
        raise ValueError(
            f"`grid` must be a 1-D array of at least 2 decreasing times, got shape {grid.shape}; "
            "build one with jaxsci.diffusion.time_grid(schedule, num_steps)."
        )
    lo, hi = schedule.t_min, schedule.t_max
    tol = 1e-6 * max(abs(hi), 1.0)
    if not isinstance(grid, jax.core.Tracer):
        g = np.asarray(grid, dtype=np.float64)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"`grid` must hold finite times, got NaN/inf at positions "
                             f"{np.flatnonzero(~np.isfinite(g)).tolist()}: {g}.")
        same = np.flatnonzero(np.diff(g) == 0)
        if same.size:
            raise ValueError(f"`grid` has duplicated entries (positions {same[0]} and {same[0] + 1}, "
                             f"t = {g[same[0]]}): a grid must be strictly decreasing, each time once.")
        if np.any(np.diff(g) > 0):
            raise ValueError(f"`grid` must be strictly decreasing (from t_max toward t_min), got {g}.")
        if g.max() > hi + tol or g.min() < lo - tol:
            raise ValueError(
                f"`grid` must lie inside the schedule's range [t_min, t_max] = [{lo}, {hi}], "
                f"got times from {g.min()} to {g.max()}."
            )
        return grid
    grid = eqx.error_if(grid, ~jnp.all(jnp.isfinite(grid)), "`grid` contains NaN/inf: it must hold finite times.")
    grid = eqx.error_if(grid, jnp.any(jnp.diff(grid) >= 0),
                        "`grid` must be strictly decreasing (no duplicated entries).")
    return eqx.error_if(grid, (jnp.max(grid) > hi + tol) | (jnp.min(grid) < lo - tol),
                        "`grid` must lie inside the schedule's range [t_min, t_max].")
