"""One optimizer step for hand-written loops (the step :func:`jaxsci.core.fit` runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optax

from ..internal import make_step as _core_make_step


def make_step(loss_fn: Callable, optimizer: optax.GradientTransformation, static: Any) -> Callable:
    """One optimizer step ``(params, opt_state, points, key) -> (params, opt_state, loss)``.

    The step of :func:`jaxsci.core.fit`, for loops written by hand (e.g. inside a larger
    ``lax.scan``): ``loss_fn(model, points, key=key)`` sees the model rebuilt from
    ``params`` (its floating arrays) and ``static`` (the rest, from ``eqx.partition``).
    Optimizers that need the objective (optax's L-BFGS line search) get it as ``value_fn``.
    Prefer :func:`train`, which also checks for NaN/inf and records the history.

    Example:
        >>> model = jnp.zeros(2)
        >>> params, static = eqx.partition(model, eqx.is_inexact_array)
        >>> opt = optax.sgd(0.5)
        >>> step = make_step(lambda m, x, key: jnp.sum((m - x) ** 2), opt, static)
        >>> params, state, loss = step(params, opt.init(params), jnp.ones(2), None)
        >>> params
        Array([1., 1.], dtype=float32)
    """
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "`optimizer` must be an optax GradientTransformation (e.g. `optax.adam(1e-3)`), "
            f"got {type(optimizer).__name__}."
        )
    return _core_make_step(loss_fn, optax.with_extra_args_support(optimizer), static)
