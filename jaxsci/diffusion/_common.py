"""Shared pieces of the samplers: argument checks, the model in the needed
parametrization, the per-step order schedule of multistep methods, and the NaN/inf
bookkeeping that tells a failing sample where it went wrong."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core import RESULTS
from ..internal import check_key, check_one_of
from ._grid import validate_grid
from ._inputs import float_input
from ._model import PARAMETRIZATIONS, to_data, to_noise
from ._sample import Sample

_THROW_HINT = ("Pass throw=False to the sampler to get result = RESULTS.nonfinite_values in the "
               "returned Sample instead of an error.")


def check_options(sampler, *, order=None, orders=(1, 2, 3)) -> None:
    """``__check_init__`` of the common fields: ``order``, ``parametrization``, bools."""
    name = type(sampler).__name__
    if order is not None and (isinstance(order, bool) or order not in orders):
        raise ValueError(f"{name} supports order in {orders}, got {order!r}.")
    if hasattr(type(sampler), "parametrization"):
        check_one_of(sampler.parametrization, PARAMETRIZATIONS, "parametrization")
    for field in ("throw", "denoise_to_zero", "lower_order_final"):
        value = getattr(sampler, field, False)
        if not isinstance(value, bool):
            raise TypeError(f"{name}: `{field}` must be True or False, got {value!r}.")


class Prepared(NamedTuple):
    x_T: jax.Array
    grid: jax.Array
    lam: jax.Array
    data: object
    noise: object
    key: jax.Array | None


def prepare(sampler, model, schedule, x_T, grid, key, *, needs_key: bool = False,
            needs_log_snr: bool = True) -> Prepared:
    """Validate a sampler call; return the grid in ``x_T``'s dtype, its log-SNRs, the model
    as data and noise predictions, and the key (typed). With ``needs_log_snr`` the log-SNR
    must be finite at every grid time (it is not at ``t = 0`` and ``t = 1`` of
    ``FlowMatching``)."""
    name = type(sampler).__name__
    if not callable(model):
        raise TypeError(f"`model` must be a callable model(x, t), got {type(model).__name__}.")
    x_T = float_input(x_T, "x_T")
    grid = validate_grid(schedule, grid).astype(x_T.dtype)
    if needs_key and key is None:
        raise TypeError(f"{name} draws Gaussian noise, so it needs a PRNG `key`: pass key=jax.random.key(seed) "
                        "(one key per sample: jax.random.split(key, batch) and vmap over it).")
    if key is not None:
        key = check_key(key)
    out = jax.eval_shape(model, x_T, grid[0])
    if not isinstance(out, jax.ShapeDtypeStruct) or out.shape != x_T.shape:
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(
            f"`model(x, t)` must return an array shaped like one sample x, {x_T.shape}, but it returned "
            f"{got}. Samplers act on one sample: vmap the sampler over a batch, "
            "jax.vmap(lambda x: sampler(model, schedule, x, grid))(x_batch)."
        )
    if out.dtype != x_T.dtype:  # the sampler computes in x_T's dtype
        model = _cast_output(model)
    parametrization = sampler.parametrization
    lam = schedule.lambda_(grid)
    if needs_log_snr:
        x_T = _check_log_snr(name, schedule, grid, lam, x_T)
    return Prepared(x_T, grid, lam, to_data(model, schedule, parametrization),
                    to_noise(model, schedule, parametrization), key)


def _check_log_snr(name, schedule, grid, lam, x_T):
    """A log-SNR sampler needs a finite ``lambda_t`` at every grid time: ``ValueError`` for a
    concrete grid, a run-time error (on ``x_T``) for a traced one."""
    why = (f"{name} steps in the log-SNR lambda_t = log(alpha_t / sigma_t), which is infinite where "
           "alpha_t or sigma_t is 0 (FlowMatching at t = 1 and t = 0): keep the grid strictly inside, "
           "e.g. FlowMatching(t_min=1e-3, t_max=0.999), or use FlowEuler, FlowHeun or DDIM(), which "
           "need no log-SNR.")
    if isinstance(lam, jax.core.Tracer):
        return eqx.error_if(x_T, ~jnp.all(jnp.isfinite(lam)), why)
    bad = np.flatnonzero(~np.isfinite(np.asarray(lam)))
    if bad.size:
        raise ValueError(f"`grid` reaches t = {float(grid[bad[0]])} (position {bad[0]}): {why}")
    return x_T


def _cast_output(model):
    return lambda x, t: model(x, t).astype(x.dtype)


def check_order(order: int, allowed: tuple[int, ...], name: str) -> None:
    if isinstance(order, bool) or order not in allowed:
        raise ValueError(f"{name} supports order in {allowed}, got {order!r}.")


def step_orders(num_steps: int, order: int, lower_order_final: bool, always_lower_final: bool = False):
    """Effective order of each of ``num_steps`` multistep steps: warm-up
    ``min(order, i + 1)`` and, with ``lower_order_final``, ``min(., num_steps - i)`` at the
    end (for fewer than 15 steps, or always if ``always_lower_final``), which keeps very
    short runs stable (DPM-Solver++, Sec. 5)."""
    orders = []
    for i in range(num_steps):
        k = min(order, i + 1)
        if lower_order_final and (always_lower_final or num_steps < 15):
            k = min(k, num_steps - i)
        orders.append(k)
    return jnp.asarray(orders, dtype=jnp.int32)


def gaussian_noise(key, like):
    """Standard normal noise shaped and typed like ``like``, drawn in float32 and cast: the same
    key gives the same noise (to rounding) in float32 and float64, so a stochastic sampler's
    float32 and float64 runs follow the same path."""
    return jax.random.normal(key, like.shape, jnp.float32).astype(like.dtype)


def split_keys(key, n):
    return jax.random.split(key, n) if key is not None else jnp.zeros((n,), jnp.uint32)


# --- NaN/inf bookkeeping -------------------------------------------------------------
# A status is an int32: -1 while everything is finite, else the index of the first failure
# in the sampler's message table: 0 = x_T, 1 + 2 k = the model at step k, 2 + 2 k = the
# sample after step k (model outputs finite).


def _finite(*arrays):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in arrays]))


def initial_status(x_T):
    return jnp.where(_finite(x_T), jnp.int32(-1), jnp.int32(0))


def update_status(status, step, model_outputs, x_new):
    """Record the first failure: a non-finite model output at ``step``, else a non-finite
    ``x_new``."""
    model_ok = _finite(*model_outputs)
    code = jnp.where(model_ok, 2 + 2 * step, 1 + 2 * step).astype(jnp.int32)
    return jnp.where((status < 0) & ~(model_ok & _finite(x_new)), code, status)


def final_denoise(sampler, x, data_model, t_end, status, step):
    """With ``denoise_to_zero``, return the data prediction at the last time (one more NFE):
    the step to ``sigma = 0`` of a first-order exponential integrator."""
    if not sampler.denoise_to_zero:
        return x, status
    x0 = data_model(x, t_end)
    return x0, update_status(status, step, (x0,), x0)


def messages(name: str, num_steps: int, denoise_to_zero: bool = False) -> list[str]:
    """The message table of a fixed-grid sampler with ``num_steps`` grid steps."""
    out = [f"{name}: x_T contains NaN/inf (the starting noise must be finite). {_THROW_HINT}"]
    for k in range(num_steps + int(denoise_to_zero)):
        where = (f"at step {k + 1} of {num_steps} (from grid[{k}] to grid[{k + 1}])" if k < num_steps
                 else "in the final denoising step (denoise_to_zero)")
        out.append(f"{name}: the model returned NaN/inf {where}. Check the model at these inputs. {_THROW_HINT}")
        out.append(f"{name}: the sample became NaN/inf {where} although the model's outputs were finite: "
                   f"check the grid and the schedule (too large a step?). {_THROW_HINT}")
    return out


def finish(sampler, x, status, msgs, *, nfe, num_steps, num_accepted=None, num_rejected=0,
           result=None) -> Sample:
    """The ``Sample``; with ``throw``, raise the first failure's message (inside jit too)."""
    failed = status >= 0
    if result is None:  # otherwise the caller's code matches its status
        result = RESULTS.where(failed, RESULTS.nonfinite_values, RESULTS.successful)
    if sampler.throw:
        x = eqx.branched_error_if(x, failed, jnp.maximum(status, 0), msgs)
    num_accepted = num_steps if num_accepted is None else num_accepted
    as_int = lambda v: jnp.asarray(v, jnp.int32)
    return Sample(x=x, nfe=as_int(nfe), num_steps=as_int(num_steps), num_accepted=as_int(num_accepted),
                  num_rejected=as_int(num_rejected), result=result)
