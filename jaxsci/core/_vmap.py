"""Memory-bounded vmap: evaluate a function over a large batch in fixed-size chunks."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ._validate import check_positive_int


def _batch_size(args: Sequence[Any], in_axes: Sequence[int | None]) -> int:
    sizes = {
        leaf.shape[0]
        for arg, axis in zip(args, in_axes)
        if axis is not None
        for leaf in jax.tree_util.tree_leaves(arg)
    }
    if not sizes:
        raise ValueError("chunked_vmap needs at least one argument with in_axes=0.")
    if len(sizes) > 1:
        raise ValueError(
            f"chunked_vmap: batched arguments have different leading sizes {sorted(sizes)}; "
            "every mapped argument must have the same batch size."
        )
    return sizes.pop()


def chunked_vmap(
    fun: Callable, in_axes: int | Sequence[int | None] | None = 0, chunk_size: int | None = None
) -> Callable:
    """Like ``jax.vmap(fun, in_axes)`` over axis 0, but at most ``chunk_size`` at a time.

    The batch is split into ``n // chunk_size`` full chunks evaluated one after the other
    with ``jax.lax.map`` (each chunk vmapped), plus one vmapped remainder, so peak memory
    is that of a vmap over ``chunk_size`` elements. The result equals ``jax.vmap``'s.
    Only ``in_axes`` of 0 (mapped) or ``None`` (broadcast) are supported. With
    ``chunk_size=None`` it is plain ``jax.vmap``.

    Example:
        >>> f = chunked_vmap(lambda x: jnp.sum(x**2), chunk_size=1024)
        >>> f(jnp.ones((10_000, 3))).shape
        (10000,)
    """
    if chunk_size is None:
        return jax.vmap(fun, in_axes=in_axes)
    check_positive_int(chunk_size, "chunk_size")

    @functools.wraps(fun)
    def wrapped(*args):
        axes = (in_axes,) * len(args) if not isinstance(in_axes, (tuple, list)) else tuple(in_axes)
        if len(axes) != len(args):
            raise ValueError(f"in_axes has {len(axes)} entries but {len(args)} arguments were given.")
        if any(a not in (0, None) for a in axes):
            raise ValueError(f"chunked_vmap supports in_axes of 0 or None only, got {axes}.")
        n = _batch_size(args, axes)
        vfun = jax.vmap(fun, in_axes=axes)
        if n <= chunk_size:
            return vfun(*args)
        num_full = n // chunk_size
        split = num_full * chunk_size
        mapped = [i for i, a in enumerate(axes) if a == 0]

        def take(arg, lo, hi):
            return jax.tree_util.tree_map(lambda leaf: leaf[lo:hi], arg)

        def reshape_chunks(arg):
            return jax.tree_util.tree_map(
                lambda leaf: leaf[:split].reshape((num_full, chunk_size) + leaf.shape[1:]), arg
            )

        chunked = [reshape_chunks(args[i]) for i in mapped]

        def one_chunk(chunk_args):
            full = list(args)
            for i, c in zip(mapped, chunk_args):
                full[i] = c
            return vfun(*full)

        out = jax.lax.map(one_chunk, chunked)
        out = jax.tree_util.tree_map(lambda leaf: leaf.reshape((split,) + leaf.shape[2:]), out)
        if split == n:
            return out
        rest = list(args)
        for i in mapped:
            rest[i] = take(args[i], split, n)
        tail = vfun(*rest)
        return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b], axis=0), out, tail)

    return wrapped
