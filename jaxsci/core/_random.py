"""PRNG helpers: every stochastic function in jaxsci takes an explicit key."""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Int, PyTree

from ._validate import check_key, check_one_of, check_positive_int


def as_key(seed_or_key: Any) -> jax.Array:
    """Return a typed PRNG key from an integer seed, or validate and return a key."""
    if isinstance(seed_or_key, numbers.Integral) and not isinstance(seed_or_key, bool):
        return jax.random.key(int(seed_or_key))
    check_key(seed_or_key, "seed_or_key")
    return seed_or_key


def split_like(tree: PyTree, *, key: jax.Array) -> PyTree:
    """One independent key per leaf of ``tree``, in a tree of the same structure."""
    key = check_key(key)
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(key, max(len(leaves), 1))
    return jax.tree_util.tree_unflatten(treedef, list(keys[: len(leaves)]))


def random_tangents(
    num: int, dim: int, distribution: str = "rademacher", dtype=None, *, key: jax.Array
) -> jax.Array:
    """``num`` random vectors in R^dim with E[v v^T] = I.

    ``distribution`` is ``"rademacher"`` (entries +-1) or ``"gaussian"`` (N(0, 1) entries).
    """
    key = check_key(key)
    check_positive_int(num, "num")
    check_one_of(distribution, ("rademacher", "gaussian"), "distribution")
    dtype = dtype or jnp.result_type(float)
    if distribution == "rademacher":
        return jax.random.rademacher(key, (num, dim), dtype=dtype)
    return jax.random.normal(key, (num, dim), dtype=dtype)


def sample_without_replacement(population: int, num: int, *, key: jax.Array) -> Int[Array, " num"]:
    """``num`` distinct integers drawn uniformly from ``range(population)``.

    Every ``num``-subset is equally likely (simple random sampling). For small samples
    (``num**2 <= population``) the indices are drawn with replacement and the repeats
    redrawn until all are distinct: O(num^2) work, independent of ``population`` (the
    resulting set is uniform because the procedure commutes with any relabelling of the
    population). Otherwise the Gumbel-top-k trick is used (O(population)). Both are much
    cheaper than a full permutation.
    """
    key = check_key(key)
    check_positive_int(num, "num")
    check_positive_int(population, "population")
    if num > population:
        raise ValueError(
            f"cannot draw {num} distinct indices from a population of {population}; "
            "lower the number of samples."
        )
    if num == population:
        return jnp.arange(population)
    if num * num > population:
        scores = jax.random.uniform(key, (population,))
        return jax.lax.top_k(scores, num)[1]

    earlier = jnp.tril(jnp.ones((num, num), bool), k=-1)

    def repeated(idx):
        return jnp.any((idx[:, None] == idx[None, :]) & earlier, axis=1)

    def redraw(state):
        key, idx = state
        key, sub = jax.random.split(key)
        fresh = jax.random.randint(sub, (num,), 0, population)
        return key, jnp.where(repeated(idx), fresh, idx)

    key, sub = jax.random.split(key)
    start = jax.random.randint(sub, (num,), 0, population)
    _, idx = jax.lax.while_loop(lambda s: jnp.any(repeated(s[1])), redraw, (key, start))
    return idx
