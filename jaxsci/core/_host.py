"""Reading device arrays on the host, on one process or many.

On a multi-process run (``jax.distributed.initialize``) an array sharded over every
process's devices is not *fully addressable*: no process holds all of it, and
``numpy.asarray`` refuses it. :func:`to_host` gathers such an array (a collective: every
process must call it, in the same order) and gives every process the same NumPy copy.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils
from jaxtyping import PyTree


def _leaf_to_host(x):
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def to_host(tree: PyTree) -> PyTree:
    """Every array leaf of ``tree`` as a NumPy array on this host (the whole array, also
    when it is sharded over the devices of several processes).

    Example:
        >>> import jax.numpy as jnp
        >>> to_host({"a": jnp.arange(3)})
        {'a': array([0, 1, 2], dtype=int32)}
    """
    return jax.tree_util.tree_map(_leaf_to_host, tree)


def put_global(x, sharding: jax.sharding.Sharding) -> jax.Array:
    """``x`` (the same whole value on every process) as an array laid out by ``sharding``,
    which may span the devices of several processes: each process places only its own
    shards. (``jax.device_put`` does the same on one process; on several it compares the
    processes' values first, and NaN entries, e.g. an empty loss log, never compare equal.)"""
    if jax.process_count() == 1:
        return jax.device_put(x, sharding)
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
