"""Operator learning with fresh PDE instances every step: a thin layer over ``core.fit``.

Neural Spectral Methods (Du, Chalapathi, Krishnapriyan, ICLR 2024, Sec. 4) train without
solution data: every step draws new PDE parameters and minimizes the spectral residual.
:func:`train_operator` is :func:`jaxsci.core.fit` with ``sample=`` and a loss that takes
no key; it returns the same :class:`jaxsci.core.FitResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optax

from ..core._fit import FitResult, fit


def train_operator(
    model: Any,
    loss: Callable,
    sample: Callable,
    optimizer: optax.GradientTransformation,
    *,
    key,
    steps: int,
    seconds: float | None = None,
    chunk: int = 20,
    compile_first: bool = False,
    evaluate: Callable | None = None,
    progress: bool = False,
    throw: bool = True,
) -> FitResult:
    """Minimize ``loss(model, batch)`` with a fresh ``batch = sample(key_i)`` every step.

    Equivalent to ``jaxsci.core.fit(lambda m, b, key: loss(m, b), model, optimizer,
    sample=sample, steps=steps, ...)``: ``chunk`` steps run in one jitted ``lax.scan``;
    training stops after ``steps`` steps or at the first chunk boundary after ``seconds``
    of wall time (``result`` is then ``budget_exhausted``). With ``compile_first`` the
    clock starts after compilation (reported as ``compile_time``). Complex leaves are
    stepped along their ascent direction (``core.fit`` conjugates their gradients).
    A NaN/inf loss or parameter raises ``FloatingPointError`` (``throw=True``) or stops
    with ``result = RESULTS.nonfinite_values`` and the last finite model (``throw=False``).

    Args:
        model: the operator (an equinox module, e.g. :class:`NSM` or :class:`FNO`).
        loss: ``(model, batch) -> scalar``, e.g. ``lambda m, f: nsm_poisson_loss(m, f, basis)``.
        sample: ``key -> batch``, e.g. ``lambda k: problem.sample(16, key=k)``.
        optimizer: any optax ``GradientTransformation``.
        key: PRNG key (keyword-only). steps: the number of steps (a positive integer).
        seconds, chunk, compile_first, evaluate, progress, throw: as in ``core.fit``.

    Returns:
        A :class:`jaxsci.core.FitResult` (``model``, ``losses``, ``num_steps``,
        ``compile_time``, ``result``, the per-chunk history).

    Example:
        >>> target = jnp.arange(3.0)
        >>> out = train_operator(jnp.zeros(3), lambda m, b: jnp.sum((m - b) ** 2),
        ...                      lambda k: target, optax.adam(0.1), key=jax.random.key(0), steps=300)
        >>> bool(jnp.allclose(out.model, target, atol=1e-2)), out.num_steps
        (True, 300)
    """
    if not callable(loss):
        raise TypeError(f"`loss` must be a callable (model, batch) -> scalar, got {type(loss).__name__}.")
    if not callable(sample):
        raise TypeError(
            f"`sample` must be a callable key -> batch (e.g. `lambda k: problem.sample(16, key=k)`), "
            f"got {type(sample).__name__}."
        )

    def loss_fn(model, batch, key):
        del key
        return loss(model, batch)

    return fit(
        loss_fn, model, optimizer, steps=steps, key=key, sample=sample, chunk=chunk,
        evaluate=evaluate, seconds=seconds, compile_first=compile_first, progress=progress,
        desc="train_operator", throw=throw,
    )
