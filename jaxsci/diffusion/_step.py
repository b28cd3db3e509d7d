"""A step-by-step sampling API on an explicit state, for loops that call the model themselves.

``state = set_timesteps(sampler, schedule, grid_or_num_steps, x_T)`` prepares the grid, the
per-step orders and the model-output history; then, for ``state.num_steps`` steps,

    out = my_model(x, state.time)          # in the sampler's parametrization
    x, state = step(state, out, x)

takes the step the sampler's own ``lax.scan`` would take (the same update functions), so the
loop's result equals ``sampler(model, schedule, x_T, grid).x``. ``step`` is a pure function
of arrays: it runs under ``jit`` and in a ``lax.fori_loop``/``lax.scan`` carrying the state.
Supported: ``DDIM`` (Song et al., ICLR 2021, eq. 12), ``FlowEuler`` (rectified flow, Liu et al.,
ICLR 2023) and multistep ``DPMSolverPP`` of order 1-3 (Lu et al. 2022b, Alg. 2).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from ..internal import check_key
from ._common import _check_log_snr, step_orders
from ._flow_samplers import FlowEuler, flow_velocity
from ._grid import time_grid, validate_grid
from ._inputs import float_input
from ._model import to_data
from ._sample import AbstractSampler
from ._samplers import DDIM, DPMSolverPP, ddim_update, multistep_update
from ._schedule import AbstractSchedule

_SUPPORTED = (DDIM, FlowEuler, DPMSolverPP)


@dataclasses.dataclass(frozen=True, eq=False)
class _Fixed:
    """A sampler and a schedule held by identity: static in the state's pytree (hashable, equal
    only to itself), so the state crosses ``jit`` and loop carries whatever the schedule holds."""

    sampler: AbstractSampler
    schedule: AbstractSchedule


class StepState(eqx.Module):
    """Where a step-by-step sampling loop stands (build it with :func:`set_timesteps`).

    Attributes:
        grid: the decreasing times ``t_0 > ... > t_n``.
        lam: the log-SNRs of the grid (``DPMSolverPP``; NaN-free zeros otherwise).
        orders: the order of each of the ``n`` steps (multistep warm-up and
            ``lower_order_final``, as the sampler's scan).
        index: the number of steps taken.
        history: the latest data predictions, latest first (``DPMSolverPP``; empty otherwise).
        lam_history: their log-SNRs.

    ``state.sampler``, ``state.schedule``, ``state.num_steps`` (``n``, plus one with
    ``denoise_to_zero``) and ``state.time`` (where to evaluate the model next) are
    properties.
    """

    grid: Float[Array, " n+1"]
    lam: Float[Array, " n+1"]
    orders: Int[Array, " n"]
    index: Int[Array, ""]
    history: tuple[Array, ...]
    lam_history: Float[Array, " k"]
    fixed: _Fixed = eqx.field(static=True)

    @property
    def sampler(self) -> AbstractSampler:
        return self.fixed.sampler

    @property
    def schedule(self) -> AbstractSchedule:
        return self.fixed.schedule

    @property
    def num_steps(self) -> int:
        """Model calls (= steps) of the loop: ``len(grid) - 1``, plus one with ``denoise_to_zero``."""
        return self.grid.shape[0] - 1 + int(getattr(self.sampler, "denoise_to_zero", False))

    @property
    def time(self) -> Float[Array, ""]:
        """The time at which the next model output is expected: ``grid[index]`` (the last
        grid time for the final denoising step)."""
        return self.grid[jnp.minimum(self.index, self.grid.shape[0] - 1)]


def set_timesteps(sampler: AbstractSampler, schedule: AbstractSchedule, steps: int | Float[ArrayLike, " n+1"],
                  x_T: Float[ArrayLike, ...]) -> StepState:
    """The state of a step-by-step loop of ``sampler`` from ``x_T`` (one sample, or any
    array the model's outputs are shaped like) over ``steps``: a grid (checked as every
    sampler checks it) or a number of steps (``time_grid(schedule, steps)``, the
    ``"uniform"`` kind for ``FlowEuler``, with the ``FlowMatching`` shift).

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> sampler = D.DPMSolverPP(order=2)
        >>> x = jnp.ones(2); state = D.set_timesteps(sampler, s, 10, x)
        >>> for _ in range(state.num_steps):
        ...     x, state = D.step(state, model(x, state.time), x)
        >>> bool(jnp.allclose(x, sampler(model, s, jnp.ones(2), D.time_grid(s, 10)).x))
        True
    """
    if not isinstance(sampler, _SUPPORTED):
        raise TypeError(f"set_timesteps supports {', '.join(c.__name__ for c in _SUPPORTED)}, got "
                        f"{type(sampler).__name__}; call the sampler itself, sampler(model, schedule, x_T, grid).")
    x_T = float_input(x_T, "x_T")
    if isinstance(steps, int) and not isinstance(steps, bool):
        steps = time_grid(schedule, steps, "uniform" if isinstance(sampler, FlowEuler) else "logSNR")
    grid = validate_grid(schedule, steps).astype(x_T.dtype)
    n = grid.shape[0] - 1
    name = type(sampler).__name__
    if isinstance(sampler, DPMSolverPP) or (isinstance(sampler, DDIM) and sampler.eta > 0):
        lam = schedule.lambda_(grid)
        grid = _check_log_snr(name, schedule, grid, lam, grid)
    else:
        lam = jnp.zeros_like(grid)
    if isinstance(sampler, DPMSolverPP):
        orders = step_orders(n + int(sampler.denoise_to_zero), sampler.order, sampler.lower_order_final)[:n]
        history = tuple(jnp.zeros_like(x_T) for _ in range(sampler.order))
    else:
        orders, history = jnp.ones((n,), jnp.int32), ()
    lam_history = lam[0] - jnp.arange(1.0, 4.0, dtype=lam.dtype)  # distinct dummies, as the scan
    return StepState(grid, lam, orders, jnp.asarray(0, jnp.int32), history, lam_history, _Fixed(sampler, schedule))


def step(state: StepState, model_output: Float[ArrayLike, ...], x: Float[ArrayLike, ...], *,
         key: PRNGKeyArray | None = None) -> tuple[Float[Array, ...], StepState]:
    """One step from ``x`` at ``state.time`` given the model's output there (in the
    sampler's ``parametrization``); returns the new sample and state. ``key`` is needed for
    ``DDIM(eta > 0)`` (pass ``jax.random.split(key, n)[i]`` at step ``i`` to follow the
    sampler's own noise). A step after the last raises; with the sampler's ``throw`` a
    NaN/inf sample raises (inside ``jit`` too).

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.FlowMatching(t_min=0.0, t_max=1.0); v = lambda x, t: x / t   # data: the point 0
        >>> x = jnp.ones(2); state = D.set_timesteps(D.FlowEuler(), s, 4, x)
        >>> for _ in range(state.num_steps):
        ...     x, state = D.step(state, v(x, state.time), x)
        >>> bool(jnp.allclose(x, 0.0))
        True
    """
    if not isinstance(state, StepState):
        raise TypeError(f"`state` must be the StepState of set_timesteps, got {type(state).__name__}.")
    sampler, schedule = state.sampler, state.schedule
    x = float_input(x, "x")
    out = float_input(model_output, "model_output")
    if out.shape != x.shape:
        raise ValueError(f"`model_output` must be shaped like `x`, {x.shape}, got {out.shape}.")
    out = out.astype(x.dtype)
    eta = getattr(sampler, "eta", 0.0)
    if eta > 0:
        if key is None:
            raise TypeError("DDIM with eta > 0 draws Gaussian noise: pass key=... to step "
                            "(jax.random.split(key, num_steps)[i] at step i follows the sampler's noise).")
        key = check_key(key)
    n = state.grid.shape[0] - 1
    i = state.index
    j = jnp.minimum(i, n - 1)  # the step's grid interval (clamped for the final denoising call)
    t, s = state.grid[j], state.grid[j + 1]
    parametrization = sampler.parametrization
    history, lam_history = state.history, state.lam_history
    if isinstance(sampler, FlowEuler):
        x_new = x + (s - t) * flow_velocity(out, x, t, schedule, parametrization)
        return _finish(state, sampler, i, x_new, history, lam_history)
    x0 = to_data(lambda *_: out, schedule, parametrization)(x, state.time)
    if isinstance(sampler, DDIM):
        x_new = ddim_update(schedule, eta, x, x0, t, s, state.lam[j + 1] - state.lam[j], key)
    else:
        x_new, history, lam_history = multistep_update(
            schedule, sampler.order, state.orders[j], x, x0, history, lam_history, state.lam[j],
            state.lam[j + 1], t, s, data_prediction=True, solver_type=sampler.solver_type)
    if sampler.denoise_to_zero:  # the call after the last grid step returns x0
        last = i >= n
        x_new = jnp.where(last, x0, x_new)
        history = tuple(jnp.where(last, a, b) for a, b in zip(state.history, history, strict=True))
        lam_history = jnp.where(last, state.lam_history, lam_history)
    return _finish(state, sampler, i, x_new, history, lam_history)


def _finish(state, sampler, i, x_new, history, lam_history):
    x_new = eqx.error_if(x_new, i >= state.num_steps,
                         f"step: the loop has {state.num_steps} steps, and step was called after the last one.")
    if sampler.throw:
        x_new = eqx.error_if(x_new, ~jnp.all(jnp.isfinite(x_new)),
                             f"{type(sampler).__name__} step: the sample became NaN/inf (check the model output "
                             "at this step and the grid).")
    new = eqx.tree_at(lambda st: (st.index, st.history, st.lam_history), state, (i + 1, history, lam_history))
    return x_new, new
