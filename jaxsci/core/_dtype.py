"""Dtype policy: float32 by default, float64 opt-in (JAX's ``jax_enable_x64`` flag)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp


def x64_enabled() -> bool:
    """Whether JAX currently creates 64-bit floats by default."""
    return bool(jax.config.read("jax_enable_x64"))


def default_float_dtype() -> jnp.dtype:
    """``float64`` when x64 is enabled, else ``float32``."""
    return jnp.dtype(jnp.float64 if x64_enabled() else jnp.float32)


class enable_x64:
    """Context manager that turns JAX's x64 mode on (or off) and restores it afterwards.

    Use it in a ``with`` statement (or as a decorator); a bare call ``enable_x64()``
    changes nothing and warns when the unused object is discarded. To turn float64 on
    for the whole program, call ``jax.config.update("jax_enable_x64", True)`` at start-up.

    Arrays created inside keep their dtype after the block ends, but functions traced
    inside are traced with the dtype policy in force at that time.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxsci.core import enable_x64
        >>> with enable_x64():
        ...     x = jnp.ones(2)
        >>> str(x.dtype)
        'float64'
    """

    def __init__(self, enabled: bool = True):
        if not isinstance(enabled, bool):
            raise TypeError(f"enable_x64(enabled) takes a bool, got {enabled!r}.")
        self.enabled = enabled
        self._previous: list[bool] = []
        self._used = False

    def __enter__(self) -> None:
        self._used = True
        self._previous.append(x64_enabled())
        jax.config.update("jax_enable_x64", self.enabled)

    def __exit__(self, *exc) -> None:
        jax.config.update("jax_enable_x64", self._previous.pop())

    def __call__(self, fn: Callable) -> Callable:
        """As a decorator: ``fn`` runs with x64 set as asked, the setting restored after."""
        self._used = True

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with enable_x64(self.enabled):
                return fn(*args, **kwargs)

        return wrapped

    def __del__(self) -> None:
        if not getattr(self, "_used", True):
            warnings.warn(
                "jaxsci.core.enable_x64() was called but not used: it is a context manager "
                "and changes nothing on its own. Write `with enable_x64(): ...`, or call "
                '`jax.config.update("jax_enable_x64", True)` to turn float64 on for the program.',
                UserWarning,
                stacklevel=2,
            )


class PrecisionWarning(UserWarning):
    """float64 input was truncated to float32 because JAX's x64 mode is off."""


def warn_if_truncated(x, name: str) -> None:
    """Warn once per call site when ``x`` is float64 but JAX computes in float32.

    JAX silently turns a NumPy float64 array into float32 when x64 is off, so a caller who
    prepared float64 data gets float32 accuracy without knowing. Called by every public
    entry point that accepts arrays.
    """
    dtype = getattr(x, "dtype", None)
    if dtype is None or x64_enabled():
        return
    if jnp.dtype(dtype) in (jnp.dtype(jnp.float64), jnp.dtype(jnp.complex128)):
        warnings.warn(
            f"`{name}` is {jnp.dtype(dtype)} but JAX's 64-bit mode is off, so it is computed in "
            "32-bit precision. Call `jax.config.update('jax_enable_x64', True)` at the start of "
            "the program (or use `with jaxsci.core.enable_x64(): ...`) for float64, or pass "
            "float32 data to silence this warning.",
            PrecisionWarning,
            stacklevel=3,
        )


def as_float_array(x, dtype=None, name: str | None = None) -> jax.Array:
    """``x`` as a floating JAX array; integers become the default float dtype.

    With ``name``, float64 input while x64 is off gives a :class:`PrecisionWarning`.
    """
    if name is not None:
        warn_if_truncated(x, name)
    x = jnp.asarray(x)
    if dtype is not None:
        return x.astype(dtype)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x.astype(default_float_dtype())
    return x
