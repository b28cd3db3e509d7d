"""Array inputs at the Python boundary: floating dtype, and one warning when float64 data
would be rounded to float32 because JAX's 64-bit mode is off."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..internal import warn_if_truncated


def float_input(x, name: str, *, allow_int: bool = False) -> jax.Array:
    """``x`` as a JAX array of a real floating dtype (integers too with ``allow_int``).

    A NumPy float64 array given while x64 is off would be rounded to float32 silently by
    ``jnp.asarray``: the library-wide ``jaxsci.core.PrecisionWarning`` says so.
    """
    if not isinstance(x, jax.Array):
        warn_if_truncated(x, name)
        try:
            x = jnp.asarray(x)
        except TypeError as err:
            raise TypeError(f"`{name}` must be a real floating array, got {type(x).__name__}.") from err
    ok = jnp.issubdtype(x.dtype, jnp.floating) or (allow_int and jnp.issubdtype(x.dtype, jnp.integer))
    if not ok:
        raise TypeError(f"`{name}` must be a real floating array, got dtype {x.dtype}.")
    return x
