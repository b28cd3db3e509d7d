"""The one training loop of jaxsci: optax steps in jitted ``lax.scan`` chunks.

``pinn``, ``spectral``, ``teng`` (OBTI), the neural-ODE experiments and the ensembles of
``studies`` all train through :func:`fit`, so progress, history, wall-time budgets,
checkpoints, resumption and the handling of non-finite values are the same everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, PyTree

from ._host import to_host
from ._progress import ProgressBar
from ._residual import ResidualLoss, ResidualObjective
from ._results import RESULTS, result_where
from ._validate import check_key, check_positive, check_positive_int


class FitResult(eqx.Module):
    """What :func:`fit` returns.

    Attributes:
        model: the trained model (the last one with finite parameters and loss).
        opt_state: the optimizer state that goes with ``model`` (pass it back to resume).
        losses: the training loss of every step taken, shape ``(num_steps,)`` (or
            ``(num_steps, members)`` for an ensemble).
        history_step, history_loss, history_error, history_wall_time: one entry per chunk:
            steps done, mean loss over the chunk, ``evaluate(model)`` (NaN without one), and
            seconds since the start (compilation excluded when ``compile_first``).
        num_steps: steps taken (``start_step`` included).
        compile_time: seconds spent compiling before the clock started (0 unless
            ``compile_first``).
        result: a :class:`RESULTS` code (per member for an ensemble): ``successful``,
            ``nonfinite_values`` or ``budget_exhausted``.
        best_model, best_step, best_error: with ``keep_best=True``, the model with the
            lowest ``evaluate`` value seen after any chunk (per member for an ensemble),
            the step it was reached at and that value; ``None`` otherwise.
        stopped_early: ``True`` when ``patience`` ended the run before ``steps``.
    """

    model: Any
    opt_state: PyTree
    losses: np.ndarray
    history_step: np.ndarray
    history_loss: np.ndarray
    history_error: np.ndarray
    history_wall_time: np.ndarray
    num_steps: int = eqx.field(static=True)
    compile_time: float = eqx.field(static=True)
    result: RESULTS
    best_model: Any = None
    best_step: np.ndarray | None = None
    best_error: np.ndarray | None = None
    stopped_early: bool = eqx.field(static=True, default=False)


def _conjugate_complex(grads: PyTree) -> PyTree:
    """The ascent direction for every leaf: ``jax.grad`` of a real loss returns the
    conjugate of it for a complex leaf (JAX's convention), optax expects the direction."""
    return jax.tree_util.tree_map(lambda g: jnp.conj(g) if jnp.iscomplexobj(g) else g, grads)


def make_step(
    loss_fn: Callable, optimizer: optax.GradientTransformationExtraArgs, static: Any
) -> Callable:
    """One optimizer step ``(params, opt_state, batch, key) -> (params, opt_state, loss)``.

    ``loss_fn(model, batch, key=key)`` sees the model rebuilt from ``params`` and
    ``static``. Optimizers that need the objective (optax's L-BFGS line search) get it as
    ``value_fn``; when ``loss_fn`` is a :class:`~jaxsci.core.ResidualLoss`, ``value_fn`` is
    a :class:`~jaxsci.core.ResidualObjective`, which also gives the residual vector and its
    Jacobian to Gauss-Newton-type optimizers.
    """

    def step(params, opt_state, batch, key):
        def plain(params):
            return loss_fn(eqx.combine(params, static), batch, key=key)

        objective = (ResidualObjective(loss_fn, static, batch, key=key)
                     if isinstance(loss_fn, ResidualLoss) else plain)

        loss, grads = jax.value_and_grad(objective)(params)
        grads = _conjugate_complex(grads)
        # optax mixes its integer step count with floats: let it promote as it expects, so
        # that user code may run under `jax_numpy_dtype_promotion="strict"`.
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = optimizer.update(
                grads, opt_state, params, value=loss, grad=grads, value_fn=objective
            )
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def _check_callable(fn: Any, name: str, signature: str) -> None:
    if fn is not None and not callable(fn):
        raise TypeError(f"`{name}` must be a callable {signature}, got {type(fn).__name__}.")


def fit(
    loss_fn: Callable[..., Array],
    model: Any,
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    key: Array,
    data: PyTree = None,
    sample: Callable[[Array], PyTree] | None = None,
    chunk: int = 100,
    evaluate: Callable[[Any], Array] | None = None,
    seconds: float | None = None,
    compile_first: bool = False,
    opt_state: PyTree = None,
    start_step: int = 0,
    checkpoint: Callable[[int, Any, PyTree], None] | None = None,
    keep_best: bool = False,
    patience: int | None = None,
    min_delta: float = 0.0,
    ensemble: bool = False,
    progress: bool = True,
    desc: str = "fit",
    throw: bool = True,
) -> FitResult:
    """Minimise ``loss_fn(model, batch, key=key)`` with an optax optimizer.

    Step ``i`` uses ``batch = sample(k_i)`` (fresh points or PDE instances every step) or
    the fixed ``data``, and the key ``k_i`` derived from ``key`` and ``i`` alone, so a run
    resumed from a checkpoint at step ``i`` takes the same steps as one never stopped.
    ``chunk`` steps run in one jitted ``lax.scan``; after each chunk the loss and the
    parameters are checked for NaN/inf, ``evaluate(model)`` is recorded and
    ``checkpoint(step, model, opt_state)`` is called.

    Args:
        loss_fn: ``(model, batch, key=key) -> scalar``; the gradient is taken with respect
            to the model's floating-point arrays (complex ones included).
        model: an equinox module (or any pytree); with ``ensemble=True`` every array leaf
            has a leading members axis (``eqx.filter_vmap`` of a constructor makes one).
        optimizer: any optax ``GradientTransformation`` (L-BFGS included).
        steps: total number of steps (``start_step`` counts towards it).
        key: PRNG key (keyword-only).
        data: the batch used at every step, when ``sample`` is not given.
        sample: ``key -> batch``, called at every step.
        chunk: steps per jitted scan (the granularity of checks, history and budget).
        evaluate: ``model -> scalar`` (e.g. a test error), recorded after every chunk.
        seconds: wall-time budget; training stops at the first chunk boundary after it
            (the result is then ``budget_exhausted`` if steps remained).
        compile_first: compile before starting the clock (then ``seconds`` and the history's
            wall times count training only; the compile time is reported separately).
        opt_state, start_step: resume from an earlier run's state.
        checkpoint: ``(step, model, opt_state) -> None``, called on the host after each chunk.
        keep_best: track the model with the lowest ``evaluate`` value (e.g. the error on a
            validation set, which should not be the scored test set) and return it as
            ``best_model`` beside the last one; needs ``evaluate``. Tracking starts afresh
            when a run is resumed.
        patience: early stopping: end the run when ``evaluate`` has not fallen below
            ``(1 - min_delta)`` times its best value for ``patience`` consecutive chunks
            (for an ensemble: when no member has); needs ``evaluate``. A non-finite
            value counts as no improvement.
        min_delta: the relative decrease, in ``[0, 1)``, that counts as an improvement.
        ensemble: train a stack of independent members at once (one vmapped scan); a
            member whose loss or parameters become non-finite is frozen at its last finite
            state and marked ``nonfinite_values`` while the others go on.
        progress: show a progress bar.
        desc: its label.
        throw: raise on a non-finite loss or parameters (``FloatingPointError``); with
            ``False`` return the last finite state and ``result=RESULTS.nonfinite_values``.

    Returns:
        A :class:`FitResult`.

    Example:
        >>> import optax
        >>> loss = lambda m, batch, key: jnp.sum((m - batch) ** 2)
        >>> out = fit(loss, jnp.zeros(3), optax.sgd(0.1), steps=200, data=jnp.ones(3),
        ...           key=jax.random.key(0), progress=False)
        >>> bool(jnp.allclose(out.model, 1.0, atol=1e-6))
        True
    """
    check_key(key)
    check_positive_int(steps, "steps")
    check_positive_int(chunk, "chunk")
    if not isinstance(start_step, int) or isinstance(start_step, bool) or start_step < 0:
        raise ValueError(f"`start_step` must be an integer >= 0, got {start_step!r}.")
    if start_step > steps:
        raise ValueError(f"`start_step` ({start_step}) is past `steps` ({steps}).")
    if seconds is not None:
        check_positive(seconds, "seconds")
    if not callable(loss_fn):
        raise TypeError(
            f"`loss_fn` must be a callable (model, batch, key=key) -> scalar, got "
            f"{type(loss_fn).__name__}."
        )
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "`optimizer` must be an optax GradientTransformation (e.g. `optax.adam(1e-3)`), "
            f"got {type(optimizer).__name__}."
        )
    if sample is not None and data is not None:
        raise ValueError("give `sample` (a fresh batch every step) or `data` (fixed), not both.")
    _check_callable(sample, "sample", "key -> batch")
    _check_callable(evaluate, "evaluate", "model -> scalar")
    _check_callable(checkpoint, "checkpoint", "(step, model, opt_state) -> None")
    _check_early_stopping(evaluate, keep_best, patience, min_delta)

    optimizer = optax.with_extra_args_support(optimizer)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    if not jax.tree_util.tree_leaves(params):
        raise ValueError("`model` has no floating-point arrays to train.")
    if opt_state is None:
        init = jax.vmap(optimizer.init) if ensemble else optimizer.init
        with jax.numpy_dtype_promotion("standard"):
            opt_state = init(params)
    step = make_step(loss_fn, optimizer, static)

    def one_step(params, opt_state, data, step_key):
        k_batch, k_loss = jax.random.split(step_key)
        batch = sample(k_batch) if sample is not None else data
        return step(params, opt_state, batch, k_loss)

    if ensemble:
        def member_step(params, opt_state, data, step_key):
            members = jax.tree_util.tree_leaves(params)[0].shape[0]
            keys = jax.random.split(step_key, members)
            return jax.vmap(one_step, in_axes=(0, 0, None, 0))(params, opt_state, data, keys)
    else:
        member_step = one_step

    bar = ProgressBar(steps, desc=desc, enabled=progress)

    def run_chunk(params, opt_state, data, key, first, length):
        def body(carry, i):
            params, opt_state = carry
            step_key = jax.random.fold_in(key, i)
            params, opt_state, loss = member_step(params, opt_state, data, step_key)
            bar.tick(i, loss=jnp.mean(loss))
            return (params, opt_state), loss

        (params, opt_state), losses = jax.lax.scan(
            body, (params, opt_state), first + jnp.arange(length)
        )
        return params, opt_state, losses

    compiled = {}

    def runner(length):
        if length not in compiled:
            fn = jax.jit(run_chunk, static_argnums=5)
            lowered = fn.lower(params, opt_state, data, key, jnp.asarray(0), length)
            compiled[length] = lowered.compile()
        return compiled[length]

    compile_time = 0.0
    if compile_first:
        t0 = time.perf_counter()
        remaining = steps - start_step
        for length in {min(chunk, remaining), remaining % chunk or min(chunk, remaining)}:
            if length > 0:
                runner(length)
        compile_time = time.perf_counter() - t0

    eval_fn = eqx.filter_jit(jax.vmap(evaluate) if ensemble else evaluate) if evaluate else None
    members = jax.tree_util.tree_leaves(params)[0].shape[0] if ensemble else None
    failed = np.zeros(members or 1, bool)
    all_losses, hist = [], ([], [], [], [])
    best = _BestTracker(members, min_delta) if (keep_best or patience is not None) else None
    stalled, stopped_early = 0, False
    start = time.perf_counter()
    done = start_step
    while done < steps:
        length = min(chunk, steps - done)
        new_params, new_opt, losses = runner(length)(params, opt_state, data, key, jnp.asarray(done))
        losses = to_host(losses)  # every process gets every member's losses
        bad = ~np.isfinite(losses).all(axis=0) | to_host(_nonfinite_members(new_params, ensemble))
        bad = np.atleast_1d(bad)
        if bad.any() and throw and not ensemble:
            bar.close()
            raise FloatingPointError(
                f"the training loss or the parameters became NaN/inf between steps {done} and "
                f"{done + length}; lower the learning rate, check the problem's scaling and the "
                "inputs for NaN/inf, or run in float64."
            )
        failed |= bad
        if ensemble:
            keep = jnp.asarray(~failed)
            params = _select_members(keep, new_params, params)
            opt_state = _select_members(keep, new_opt, opt_state)
            losses = np.where(failed[None, :], np.nan, losses)
            if failed.all() and throw:
                bar.close()
                raise FloatingPointError(
                    f"every member's loss or parameters became NaN/inf by step {done + length}; "
                    "lower the learning rate or run in float64."
                )
        elif bad.any():
            all_losses.append(losses[: int(np.argmax(~np.isfinite(losses)))])
            break
        else:
            params, opt_state = new_params, new_opt
        done += length
        all_losses.append(losses)
        current = eqx.combine(params, static)
        hist[0].append(done)
        hist[1].append(_chunk_mean(losses))
        hist[2].append(to_host(eval_fn(current)) if eval_fn else np.full(members or (), np.nan))
        hist[3].append(time.perf_counter() - start)
        if checkpoint is not None:
            checkpoint(done, current, opt_state)
        if best is not None:
            improved = best.update(hist[2][-1], done, params, ensemble)
            stalled = 0 if improved else stalled + 1
        if seconds is not None and time.perf_counter() - start >= seconds:
            break
        if patience is not None and stalled >= patience:
            stopped_early = done < steps
            break
    jax.effects_barrier()
    bar.close()
    unfinished = RESULTS.budget_exhausted if done < steps and not stopped_early else RESULTS.successful
    flags = jnp.asarray(failed if ensemble else failed[0])
    result = result_where(flags, RESULTS.nonfinite_values, unfinished)
    shape = (0, members) if ensemble else (0,)
    losses = np.concatenate(all_losses) if all_losses else np.zeros(shape)
    return FitResult(
        model=eqx.combine(params, static),
        opt_state=opt_state,
        losses=losses,
        history_step=np.asarray(hist[0], int),
        history_loss=np.asarray(hist[1]),
        history_error=np.asarray(hist[2]),
        history_wall_time=np.asarray(hist[3]),
        num_steps=done,
        compile_time=compile_time,
        result=result,
        best_model=eqx.combine(best.params, static) if keep_best and best.params is not None else None,
        best_step=best.step if keep_best else None,
        best_error=best.error if keep_best else None,
        stopped_early=stopped_early,
    )


def _check_early_stopping(evaluate, keep_best, patience, min_delta) -> None:
    if not isinstance(keep_best, bool):
        raise TypeError(f"`keep_best` must be True or False, got {keep_best!r}.")
    if patience is not None:
        check_positive_int(patience, "patience")
    if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not 0 <= min_delta < 1:
        raise ValueError(f"`min_delta` must be a number in [0, 1) (a relative decrease), got {min_delta!r}.")
    if (keep_best or patience is not None) and evaluate is None:
        raise ValueError(
            "`keep_best` and `patience` judge the model by `evaluate`: pass "
            "`evaluate=lambda model: ...` (e.g. the error on a validation set)."
        )


class _BestTracker:
    """The lowest ``evaluate`` value so far (per member), its step and parameters."""

    def __init__(self, members: int | None, min_delta: float):
        shape = (members,) if members else ()
        self.error = np.full(shape, np.inf)
        self.step = np.full(shape, -1)
        self.params = None
        self.min_delta = min_delta

    def update(self, value, step: int, params: PyTree, ensemble: bool) -> bool:
        """Record ``value`` at ``step``; ``True`` if any member improved by ``min_delta``."""
        value = np.where(np.isfinite(value), value, np.inf)
        better = value < self.error
        improved = value < (1 - self.min_delta) * self.error
        self.error = np.where(better, value, self.error)
        self.step = np.where(better, step, self.step)
        if ensemble:
            old = params if self.params is None else self.params
            self.params = _select_members(jnp.asarray(better), params, old)
        elif bool(better):
            self.params = params
        return bool(np.any(improved))


def _chunk_mean(losses: np.ndarray) -> np.ndarray:
    finite = np.isfinite(losses)
    total = np.where(finite, losses, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@eqx.filter_jit
def _nonfinite_members(params: PyTree, ensemble: bool) -> Array:
    """Per member (``ensemble``) or for the whole model: does any parameter hold NaN/inf?
    Computed where the parameters live; only the flags go to the host."""
    leaves = jax.tree_util.tree_leaves(params)
    if ensemble:
        per = [~jnp.isfinite(x.reshape(x.shape[0], -1)).all(axis=1) for x in leaves]
        return jnp.any(jnp.stack(per), axis=0)
    return jnp.any(jnp.stack([~jnp.isfinite(x).all() for x in leaves]))


def _select_members(keep: Array, new: PyTree, old: PyTree) -> PyTree:
    def pick(a, b):
        if not eqx.is_array(a) or a.ndim == 0:
            return a
        mask = keep.reshape((-1,) + (1,) * (a.ndim - 1))
        return jnp.where(mask, a, b)

    return jax.tree_util.tree_map(pick, new, old)
