"""Euler and Heun steps of the probability-flow ODE in time: the flow-matching samplers.

For ``x_t = alpha_t x_0 + sigma_t eps`` the probability-flow ODE is ``dx/dt = alpha_t' x_0 +
sigma_t' eps`` with ``x_0``, ``eps`` the model's predictions (Karras et al., NeurIPS 2022,
eq. 4, written with ``x = alpha x_0 + sigma eps``). On :class:`FlowMatching` (``alpha_t = 1 - t``,
``sigma_t = t``) that is the velocity ``v = eps - x_0`` a flow model predicts (rectified flow,
Liu et al., ICLR 2023, eq. 1; Lipman et al., ICLR 2023, eq. 21), and the Euler step
``x_s = x_t + (sigma_s - sigma_t) v(x_t, t)`` is the step of Stable Diffusion 3 and diffusers'
flow-match Euler scheduler. Heun is its trapezoidal (second-order) version, with an Euler
last step when it ends at ``sigma = 0`` (Karras et al. 2022, Alg. 1). These samplers use no
log-SNR, so their grids may include ``t = 0`` and ``t = 1`` of ``FlowMatching``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._common import check_options, finish, initial_status, messages, prepare, update_status
from ._flow_matching import FlowMatching
from ._model import to_data, to_noise
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule


def flow_velocity(out: Array, x: Array, t: Array, schedule: AbstractSchedule, parametrization: str) -> Array:
    """``dx/dt`` of the probability-flow ODE at ``(x, t)`` from a model output ``out``:
    ``out`` itself for a ``"flow"`` model on ``FlowMatching``, else ``alpha_t' x_0 + sigma_t' eps``
    (derivatives of the schedule by forward-mode AD)."""
    if parametrization == "flow" and isinstance(schedule, FlowMatching):
        return out
    given = lambda *_: out
    x0 = to_data(given, schedule, parametrization)(x, t)
    eps = to_noise(given, schedule, parametrization)(x, t)
    one = jnp.ones_like(t)
    d_alpha = jax.jvp(schedule.alpha, (t,), (one,))[1]
    d_sigma = jax.jvp(schedule.sigma, (t,), (one,))[1]
    return d_alpha * x0 + d_sigma * eps


def _integrate(sampler, model, schedule, x_T, grid, key, advance, *, nfe_per_step):
    """One ``lax.scan`` of ``advance(schedule, x, t, s, raw_model, velocity) -> (x_s, model_outputs)``
    over the grid; with two evaluations per step the last one is skipped at ``sigma = 0``."""
    p = prepare(sampler, model, schedule, x_T, grid, key, needs_log_snr=False)
    grid, n = p.grid, p.grid.shape[0] - 1
    raw = lambda x, t: model(x, t).astype(x.dtype)
    velocity = lambda out, x, t: flow_velocity(out, x, t, schedule, sampler.parametrization)

    def step(carry, i):
        x, status = carry
        x_s, outs = advance(schedule, x, grid[i], grid[i + 1], raw, velocity)
        return (x_s, update_status(status, i, outs, x_s)), None

    (x, status), _ = jax.lax.scan(step, (p.x_T, initial_status(p.x_T)), jnp.arange(n))
    nfe = nfe_per_step * n
    if nfe_per_step == 2:
        nfe = nfe - (schedule.sigma(grid[-1]) <= 0).astype(jnp.int32)
    return finish(sampler, x, status, messages(type(sampler).__name__, n), nfe=nfe, num_steps=n)


class _FlowSampler(AbstractSampler):
    """The shared fields and scan of the time-stepping samplers; a subclass gives one step
    (``_advance``) and its model evaluations per step (the class variable ``evaluations``)."""

    parametrization: str = eqx.field(default="flow", static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self)

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        return _integrate(self, model, schedule, x_T, grid, key, self._advance, nfe_per_step=self.evaluations)

    @abc.abstractmethod
    def _advance(self, schedule, x, t, s, raw, velocity):
        """One step from ``t`` to ``s``: ``(x_s, model outputs)``."""


class FlowEuler(_FlowSampler):
    """Euler's method for the probability-flow ODE in ``t``: ``x_s = x_t + (s - t) dx/dt``;
    on :class:`FlowMatching` with a ``"flow"`` model, ``x_s = x_t + (sigma_s - sigma_t) v(x_t, t)``
    (rectified flow, Liu et al., ICLR 2023; the sampler of Stable Diffusion 3, Esser et al.
    2024). First order; NFE = steps. Needs no log-SNR: the grid may run from ``t = 1`` to
    ``t = 0`` on ``FlowMatching(t_min=0.0, t_max=1.0)``. With ``alpha = 1 - t``, ``sigma = t``
    it takes the same steps as deterministic ``DDIM()``.

    Attributes:
        parametrization: what the model predicts; ``"flow"`` (``v = eps - x0``, the default),
            ``"eps"``, ``"x0"``, ``"v"`` or ``"score"``.
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.FlowMatching(t_min=0.0, t_max=1.0)
        >>> v = lambda x, t: x / t          # point-mass data at 0: x_t = t eps, v = eps - 0
        >>> out = D.FlowEuler()(v, s, jnp.ones(2), D.time_grid(s, 4, "uniform"))
        >>> bool(jnp.allclose(out.x, 0.0)), int(out.nfe)
        (True, 4)
    """

    evaluations: ClassVar[int] = 1

    def _advance(self, schedule, x, t, s, raw, velocity):
        out = raw(x, t)
        return x + (s - t) * velocity(out, x, t), (out,)


class FlowHeun(_FlowSampler):
    """Heun's method (the explicit trapezoidal rule) for the probability-flow ODE in ``t``:
    ``x' = x_t + (s - t) u(x_t, t)``, ``x_s = x_t + (s - t) (u(x_t, t) + u(x', s)) / 2`` with
    ``u = dx/dt`` (``= v`` for a ``"flow"`` model on :class:`FlowMatching`); a step that ends at
    ``sigma_s = 0`` is an Euler step (Karras et al., NeurIPS 2022, Alg. 1). Second order;
    NFE = 2 x steps, minus one when the grid ends at ``sigma = 0``. Needs no log-SNR.

    Attributes:
        parametrization: what the model predicts; ``"flow"`` (the default), ``"eps"``,
            ``"x0"``, ``"v"`` or ``"score"``.
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.FlowMatching(t_min=0.0, t_max=1.0)
        >>> v = lambda x, t: x / t
        >>> int(D.FlowHeun()(v, s, jnp.ones(2), D.time_grid(s, 4, "uniform")).nfe)   # 2 x 4 - 1
        7
    """

    evaluations: ClassVar[int] = 2

    def _advance(self, schedule, x, t, s, raw, velocity):
        out0 = raw(x, t)
        u0 = velocity(out0, x, t)
        x_euler = x + (s - t) * u0

        def trapezoid(_):
            out1 = raw(x_euler, s)
            return x + 0.5 * (s - t) * (u0 + velocity(out1, x_euler, s)), out1

        x_s, out1 = jax.lax.cond(schedule.sigma(s) > 0, trapezoid, lambda _: (x_euler, out0), None)
        return x_s, (out0, out1)
