"""Array inputs at the Python boundary: floating dtype, and one warning when float64 data
would be rounded to float32 because JAX's 64-bit mode is off."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ..core import x64_enabled


def float_input(x, name: str, *, allow_int: bool = False) -> jax.Array:
    """``x`` as a JAX array of a real floating dtype (integers too with ``allow_int``).

    A NumPy float64 array given while x64 is off would be rounded to float32 silently by
    ``jnp.asarray``: warn once, naming how to turn float64 on.
    """
    if not isinstance(x, jax.Array):
        dtype = getattr(x, "dtype", None)
        if dtype is not None and np.dtype(dtype) == np.float64 and not x64_enabled():
            warnings.warn(
                f"jaxsci.diffusion: `{name}` has dtype float64 but JAX's 64-bit mode is off, so it is "
                "rounded to float32 and the sampler computes in float32. To compute in float64, call "
                "`jax.config.update('jax_enable_x64', True)` at start-up (or run inside "
                "`with jaxsci.core.enable_x64():`); to silence this, pass a float32 array.",
                UserWarning,
                stacklevel=4,
            )
        try:
            x = jnp.asarray(x)
        except TypeError as err:
            raise TypeError(f"`{name}` must be a real floating array, got {type(x).__name__}.") from err
    ok = jnp.issubdtype(x.dtype, jnp.floating) or (allow_int and jnp.issubdtype(x.dtype, jnp.integer))
    if not ok:
        raise TypeError(f"`{name}` must be a real floating array, got dtype {x.dtype}.")
    return x
