"""Parameter flattening helpers: pytrees and equinox modules <-> one flat vector."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree


def ravel(tree: PyTree) -> tuple[Float[Array, " n"], Callable[[Array], PyTree]]:
    """Flatten a pytree of arrays into one vector; return it and the inverse map."""
    return ravel_pytree(tree)


def ravel_model(model: Any) -> tuple[Float[Array, " n"], Callable[[Array], Any]]:
    """Flatten the floating-point arrays of an equinox module (or any pytree).

    Non-array leaves (activation functions, integers, static fields) stay fixed.
    Returns ``(theta, rebuild)`` with ``rebuild(theta)`` a model of the same structure.

    Example:
        >>> theta, rebuild = ravel_model(eqx.nn.MLP(2, 1, 8, 2, key=jax.random.key(0)))
        >>> model = rebuild(theta)
    """
    params, static = eqx.partition(model, eqx.is_inexact_array)
    theta, unravel = ravel_pytree(params)

    def rebuild(flat: Array) -> Any:
        return eqx.combine(unravel(flat), static)

    return theta, rebuild


def num_params(model: Any) -> int:
    """Number of floating-point parameters in an equinox module or pytree."""
    return sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array)))


def jacobian_wrt_params(
    fn: Callable[[Array, Array], Array],
    theta: Float[Array, " p"],
    points: Float[Array, "n d"],
    chunk_size: int | None = None,
) -> Float[Array, "n p"]:
    """Jacobian of the scalar outputs ``fn(theta, x_i)`` with respect to ``theta``.

    Row ``i`` is ``d fn(theta, x_i) / d theta``, computed by reverse mode per point and
    vmapped over points (in chunks of ``chunk_size`` points to bound memory).
    """
    from ._vmap import chunked_vmap

    grad_one = jax.grad(fn, argnums=0)
    rows = chunked_vmap(lambda x: grad_one(theta, x), chunk_size=chunk_size)(points)
    return jnp.asarray(rows)
