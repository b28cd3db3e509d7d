"""Argument validation at the Python boundary, with messages that say how to fix the call.

Every public function of jaxsci validates its arguments here before tracing, so that a
mistake surfaces as a ``ValueError``/``TypeError`` naming the argument, what it was and
what is expected, instead of as a shape error deep inside XLA.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def _describe(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def is_prng_key(key: Any) -> bool:
    """True for a typed key (``jax.random.key``) or a legacy ``uint32[2]`` key."""
    if not hasattr(key, "dtype") or not hasattr(key, "shape"):
        return False
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key.shape == ()
    return key.dtype == jnp.uint32 and tuple(key.shape) == (2,)


def check_key(key: Any, name: str = "key") -> jax.Array:
    """Validate a PRNG key and return it as a typed key.

    The one key policy of jaxsci: typed keys (``jax.random.key(seed)``) and legacy
    ``uint32[2]`` keys (``jax.random.PRNGKey(seed)``) are both accepted; a legacy key is
    wrapped into a typed one, so every family sees the same kind. Anything else (``None``,
    an integer seed, a batch of keys) raises ``TypeError`` naming the argument.
    """
    if key is None:
        raise TypeError(
            f"`{name}` is required: pass `{name}=jax.random.key(seed)` (a keyword argument)."
        )
    if not is_prng_key(key):
        raise TypeError(
            f"`{name}` must be a single JAX PRNG key, got {_describe(key)}. "
            "Create one with `jax.random.key(seed)` (or `jax.random.PRNGKey(seed)`), and "
            "split it with `jax.random.split` for independent draws."
        )
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    return jax.random.wrap_key_data(key)


def check_positive(value: Any, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a real number > 0 (checked when concrete)."""
    if isinstance(value, jax.core.Tracer):
        return
    arr = np.asarray(value)
    if arr.shape != () or not np.isreal(arr) or not arr > 0:
        raise ValueError(f"`{name}` must be a positive number, got {value!r}.")


def check_real(value: Any, name: str, *, low: float | None = None, low_inclusive: bool = True) -> float:
    """``value`` as a float: a finite real number (not a bool, not an array), optionally
    ``>= low`` (or ``> low`` with ``low_inclusive=False``); else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
    if low is not None and (value < low or (not low_inclusive and value == low)):
        sign = ">=" if low_inclusive else ">"
        raise ValueError(f"`{name}` must be a finite number {sign} {low:g}, got {value!r}.")
    return float(value)


def check_positive_int(value: Any, name: str) -> None:
    """Raise unless ``value`` is a Python/NumPy integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a positive integer, got {_describe(value)}.")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value}.")


def check_one_of(value: Any, allowed: Iterable[Any], name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}."
        )


def check_shape(x: Any, shape: Sequence[int | None], name: str, hint: str = "") -> None:
    """Raise ``ValueError`` unless ``x.shape`` matches ``shape`` (``None`` matches any size)."""
    got = tuple(np.shape(x))
    ok = len(got) == len(shape) and all(s is None or s == g for s, g in zip(shape, got))
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(
            f"`{name}` must have shape {want}, got {got}." + (f" {hint}" if hint else "")
        )


def check_scalar_function(
    fn: Callable, example_input: Any, name: str = "u", hint: str = ""
) -> jax.ShapeDtypeStruct:
    """Trace ``fn(example_input)`` abstractly and require a scalar floating output.

    Returns the output's ``ShapeDtypeStruct``.
    """
    if not callable(fn):
        raise TypeError(f"`{name}` must be a callable x -> scalar, got {_describe(fn)}.")
    out = jax.eval_shape(fn, example_input)
    if not isinstance(out, jax.ShapeDtypeStruct) or out.shape != ():
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(
            f"`{name}` must return a scalar for a single input point, but it returned "
            f"{got}. For a network with several outputs, pass one component, e.g. "
            f"`lambda x: net(x)[i]`; for a batch of points, vmap the operator over points "
            f"instead of passing the batch." + (f" {hint}" if hint else "")
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise TypeError(f"`{name}` must return a floating-point scalar, got dtype {out.dtype}.")
    return out


def check_finite(x: jax.Array, message: str) -> jax.Array:
    """Inside jit: fail with ``message`` if ``x`` has a NaN or infinity (``eqx.error_if``)."""
    return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), message)
