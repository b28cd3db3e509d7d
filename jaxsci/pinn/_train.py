"""PINN training: :func:`jaxsci.core.fit` with fresh collocation points at every step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import optax
from jaxtyping import Array, PyTree

from ..core import FitResult, fit
from ..internal import check_key, check_positive_int


def train(
    model: Any,
    loss_fn: Callable[..., Array],
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    key: Array,
    sample: Callable[[Array], PyTree],
    evaluate: Callable[[Any], Array] | None = None,
    chunk: int = 500,
    seconds: float | None = None,
    compile_first: bool = False,
    opt_state: PyTree = None,
    start_step: int = 0,
    checkpoint: Callable[[int, Any, PyTree], None] | None = None,
    keep_best: bool = False,
    patience: int | None = None,
    min_delta: float = 0.0,
    progress: bool = True,
    desc: str = "train",
    throw: bool = True,
) -> FitResult:
    """Train a PINN for ``steps`` optimizer steps: :func:`jaxsci.core.fit` with
    ``sample=``.

    Each step draws fresh collocation points ``sample(k)`` (e.g.
    ``lambda k: pinn.uniform(domain, 100, key=k)``) and minimises
    ``loss_fn(model, points, key=key)``. The steps run in jitted ``lax.scan`` chunks of
    ``chunk`` steps; after each chunk ``evaluate(model)`` (e.g. the relative L2 error on a
    test set, ``core.relative_l2(jax.vmap(u)(test), exact)``) is recorded in
    ``history_error``. Any optax optimizer works, L-BFGS included (its line search gets the
    objective through ``value_fn``). Works in float32 and float64 (the model's dtype).

    A non-finite loss or parameters (also from a finite loss with a NaN gradient) raises
    ``FloatingPointError`` with ``throw=True``; with ``throw=False`` the last finite model
    is returned with ``result=RESULTS.nonfinite_values``. The other arguments are those of
    :func:`jaxsci.core.fit` (``opt_state``/``start_step``/``checkpoint`` resume a run;
    ``keep_best``/``patience``/``min_delta`` track the best model by ``evaluate`` and stop
    early: give them a validation set, not the scored test set).

    Returns:
        A :class:`jaxsci.core.FitResult` (``model``, ``losses``, ``history_step``,
        ``history_loss``, ``history_error``, ``history_wall_time``, ``result``, ...).

    Example:
        >>> from jaxsci import pde, pinn
        >>> box = pde.Box([0.0], [1.0])
        >>> loss = lambda m, x, key: jnp.mean((jax.vmap(m)(x) - 1.0) ** 2)
        >>> net = eqx.nn.MLP(1, "scalar", 8, 1, key=jax.random.key(0))
        >>> out = train(net, loss, optax.adam(1e-2), steps=200, key=jax.random.key(1),
        ...             sample=lambda k: pinn.uniform(box, 16, key=k), chunk=100, progress=False)
        >>> out.history_step.tolist(), bool(out.history_loss[-1] < 1e-2)
        ([100, 200], True)
    """
    key = check_key(key)
    check_positive_int(steps, "steps")
    check_positive_int(chunk, "chunk")
    if not callable(sample):
        raise TypeError(
            "`sample` must be a callable key -> points (e.g. "
            f"`lambda k: pinn.uniform(domain, 100, key=k)`), got {type(sample).__name__}."
        )
    if not callable(loss_fn):
        raise TypeError(
            f"`loss_fn` must be a callable (model, points, key=key) -> scalar, got "
            f"{type(loss_fn).__name__}."
        )
    _check_loss(loss_fn, model, sample, key)
    return fit(
        loss_fn, model, optimizer, steps=steps, key=key, sample=sample, chunk=chunk,
        evaluate=evaluate, seconds=seconds, compile_first=compile_first, opt_state=opt_state,
        start_step=start_step, checkpoint=checkpoint, keep_best=keep_best,
        patience=patience, min_delta=min_delta, progress=progress, desc=desc, throw=throw,
    )


def _check_loss(loss_fn: Callable, model: Any, sample: Callable, key: Array) -> None:
    """Trace ``loss_fn`` once abstractly: a scalar loss from one batch of ``sample``."""
    out = eqx.filter_eval_shape(lambda m, k: loss_fn(m, sample(k), key=k), model, key)
    if getattr(out, "shape", None) != ():
        raise ValueError(
            f"`loss_fn` must return a scalar, got {getattr(out, 'shape', type(out).__name__)}; "
            "reduce it with jnp.mean."
        )
