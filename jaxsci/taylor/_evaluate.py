"""Engines that compute ``sum_r w_r D^K u[v_r, ..., v_r]`` for one order K.

* ``"jet"``: one ``jax.experimental.jet`` per direction, vmapped (the STDE paper's way);
* ``"collapsed"``: collapsed Taylor mode (see :mod:`._collapsed`), one pass for all;
* ``"hvp"`` (K = 2): Hessian-vector products, forward-over-reverse, vmapped;
* ``"hessian"`` (K = 2): the full Hessian by forward-over-reverse, then contracted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.experimental import jet

from ..internal import check_one_of, check_positive_int
from ._collapsed import collapsed_sum
from ._directions import (
    DenseDirections,
    Directions,
    SparseDirections,
    check_point,
    first_order_vector,
)

MODES = ("collapsed", "jet", "hvp", "hessian")


def directional_derivatives(
    u: Callable, x: jax.Array, v: jax.Array, order: int
) -> tuple[jax.Array, list[jax.Array]]:
    """``(u(x), [D^k u[v, ..., v] for k = 1..order])`` from one jet along ``x + v t``.

    Uses ``jax.experimental.jet`` in the derivative convention: the k-th output of the jet
    with input series ``(v, 0, ..., 0)`` is ``d^k/dt^k u(x + v t)`` at ``t = 0``.

    Example:
        >>> u = lambda x: jnp.sin(x[0]) * x[1]
        >>> value, (d1, d2) = directional_derivatives(u, jnp.array([0.3, 2.0]), jnp.array([1.0, 0.0]), 2)
        >>> bool(jnp.allclose(d2, -jnp.sin(0.3) * 2.0))
        True
    """
    check_positive_int(order, "order")
    x = check_point(x, None)
    v = jnp.asarray(v)
    if v.shape != x.shape:
        raise ValueError(
            f"the direction `v` must have the point's shape {x.shape}, got {v.shape}."
        )
    if v.dtype != x.dtype:
        raise TypeError(f"`v` must have the point's dtype {x.dtype}, got {v.dtype}.")
    series = (v,) + (jnp.zeros_like(x),) * (order - 1)
    primal, derivs = jet.jet(u, (x,), (series,))
    return primal, list(derivs)


def _weighted(weights, values):
    return jnp.tensordot(weights.astype(values.dtype), values, axes=1)


def _jet_sum(u, x, order, dirs: Directions):
    vectors = dirs.dense(x.dtype)
    primal = u(x)
    values = jax.vmap(lambda v: directional_derivatives(u, x, v, order)[1][-1])(vectors)
    return primal, _weighted(dirs.weight, values)


def _hvp_sum(u, x, dirs: Directions):
    grad_u = jax.grad(u)
    vectors = dirs.dense(x.dtype)

    def quad(v):
        return jnp.vdot(v, jax.jvp(grad_u, (x,), (v,))[1])

    return u(x), _weighted(dirs.weight, jax.vmap(quad)(vectors))


def _hessian_sum(u, x, dirs: Directions):
    hess = jax.jacfwd(jax.grad(u))(x)
    if isinstance(dirs, SparseDirections):
        # v^T H v = sum_{j,k} val_j val_k H[idx_j, idx_k]: no dense vectors needed
        block = hess[dirs.idx[:, :, None], dirs.idx[:, None, :]]
        quads = jnp.einsum("rj,rjk,rk->r", dirs.val, block, dirs.val)
    else:
        quads = jnp.einsum("ri,ij,rj->r", dirs.vectors, hess, dirs.vectors)
    return u(x), _weighted(dirs.weight, quads)


def directional_sum(
    u: Callable,
    x: jax.Array,
    order: int,
    dirs: Directions,
    mode: str,
    chunk_size: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    """``(u(x), sum_r w_r D^order u[v_r, ..., v_r])`` with the engine ``mode``.

    ``chunk_size`` bounds how many directions are processed at once (a ``lax.scan`` over
    chunks); the result is the same.

    Example:
        >>> dirs = DenseDirections(jnp.eye(2), jnp.ones(2))      # e_0, e_1 with weight 1
        >>> value = directional_sum(lambda x: x @ x, jnp.ones(2), 2, dirs, "jet")[1]
        >>> bool(jnp.isclose(value, 4.0))   # Lap |x|^2 = 2 d
        True
    """
    check_positive_int(order, "order")
    check_one_of(mode, MODES, "mode")
    if chunk_size is not None:
        check_positive_int(chunk_size, "chunk_size")
    if not isinstance(dirs, (SparseDirections, DenseDirections)):
        raise TypeError(
            f"`dirs` must be SparseDirections or DenseDirections, got {type(dirs).__name__}."
        )
    x = check_point(x, dirs.dimension)
    if order == 1:
        b = first_order_vector(dirs, x.dtype)
        return jax.jvp(u, (x,), (b,))
    if mode in ("hvp", "hessian") and order != 2:
        raise ValueError(
            f"mode '{mode}' evaluates second-order operators only, but the operator has "
            f"order-{order} terms; use mode 'collapsed' or 'jet'."
        )
    if chunk_size is not None and dirs.num > chunk_size and mode != "hessian":
        return _chunked(u, x, order, dirs, mode, chunk_size)
    if mode == "collapsed":
        return collapsed_sum(u, x, order, dirs)
    if mode == "jet":
        return _jet_sum(u, x, order, dirs)
    if mode == "hvp":
        return _hvp_sum(u, x, dirs)
    return _hessian_sum(u, x, dirs)


def _chunked(u, x, order, dirs: Directions, mode, chunk_size):
    n = dirs.num
    num_chunks = math.ceil(n / chunk_size)
    pad = num_chunks * chunk_size - n

    def pad_rows(a):
        return jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)]) if pad else a

    def chunks(a):
        return pad_rows(a).reshape((num_chunks, chunk_size) + a.shape[1:])

    # padded directions carry weight 0 (and index 0 / zero vectors): they add nothing
    if isinstance(dirs, SparseDirections):
        leaves = (chunks(dirs.idx), chunks(dirs.val), chunks(dirs.weight))
        dim = dirs.dim

        def make(c) -> Directions:
            return SparseDirections(dim, *c)
    else:
        leaves = (chunks(dirs.vectors), chunks(dirs.weight))

        def make(c) -> Directions:
            return DenseDirections(*c)

    def body(total, c):
        return total + directional_sum(u, x, order, make(c), mode)[1], None

    total, _ = jax.lax.scan(body, jnp.zeros((), x.dtype), leaves)
    return u(x), total
