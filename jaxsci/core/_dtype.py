"""Dtype policy: float32 by default, float64 opt-in (JAX's ``jax_enable_x64`` flag)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax
import jax.numpy as jnp


def x64_enabled() -> bool:
    """Whether JAX currently creates 64-bit floats by default."""
    return bool(jax.config.read("jax_enable_x64"))


def default_float_dtype() -> jnp.dtype:
    """``float64`` when x64 is enabled, else ``float32``."""
    return jnp.dtype(jnp.float64 if x64_enabled() else jnp.float32)


@contextlib.contextmanager
def enable_x64(enabled: bool = True) -> Iterator[None]:
    """Context manager that turns JAX's x64 mode on (or off) and restores it afterwards.

    Arrays created inside keep their dtype after the block ends, but functions traced
    inside are traced with the dtype policy in force at that time.
    """
    previous = x64_enabled()
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def as_float_array(x, dtype=None) -> jax.Array:
    """``x`` as a floating JAX array; integers become the default float dtype."""
    x = jnp.asarray(x)
    if dtype is not None:
        return x.astype(dtype)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x.astype(default_float_dtype())
    return x
