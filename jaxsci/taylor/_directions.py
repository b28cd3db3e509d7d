"""Reduce any operator to weighted pure directional derivatives, order by order.

Every term becomes a set of ``(direction v, weight w)`` pairs with
``term = sum w * D^K u[v, ..., v]``, so one evaluation engine (a vmap of jets, or
collapsed Taylor mode) serves every operator.

* A pure partial ``d^K u / dx_i^K`` is ``D^K u[e_i]``: one direction.
* A mixed partial ``d^alpha u`` (``|alpha| = K``) follows from polarization: the
  mixed forward difference ``Delta^alpha`` of the degree-K form ``p(s) = D^K u[s.e]`` over
  the lattice ``0 <= s <= alpha`` annihilates every monomial but ``s^alpha``, so

      d^alpha u = (1/K!) sum_{0 <= s <= alpha} (-1)^{K-|s|} prod_j C(alpha_j, s_j) D^K u[s.e]

  (``s.e = sum_j s_j e_{i_j}``; the ``s = 0`` term vanishes). This is the
  finite-difference form of the polarization identity for symmetric tensors; the STDE
  paper (Shi et al., NeurIPS 2024, Sec. 4) instead reads mixed partials off one
  higher-order jet with Faa di Bruno coefficients. Both are exact.

Directions stay *sparse* (``m`` nonzero entries: coordinates ``idx`` and values ``val``)
so that a Laplacian in R^100000 never builds a 100000 x 100000 matrix.
"""

from __future__ import annotations

import itertools
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._operator import DifferentialOperator, DirectionalTerms, PartialTerms


def check_point(x, dim: int | None, name: str = "x"):
    """One point: a 1-D floating array (of length ``dim`` when given)."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"`{name}` must be a floating-point array, got dtype {x.dtype}.")
    if x.ndim != 1 or (dim is not None and x.shape[0] != dim):
        want = "(d,)" if dim is None else f"({dim},)"
        raise ValueError(
            f"`{name}` must be one point of shape {want}, got shape {tuple(x.shape)}; for a "
            "batch of points, jax.vmap over the points."
        )
    return x


class SparseDirections(eqx.Module):
    """``R`` directions ``v_r = sum_j val[r, j] e_{idx[r, j]}`` with weights ``weight[r]``."""

    dim: int = eqx.field(static=True)
    idx: Int[Array, "r m"]
    val: Float[Array, "r m"]
    weight: Float[Array, " r"]

    def __check_init__(self):
        if self.idx.ndim != 2 or self.val.shape != self.idx.shape:
            raise ValueError(
                f"SparseDirections needs `idx` and `val` of equal shape (r, m), got "
                f"{self.idx.shape} and {self.val.shape}."
            )
        if self.weight.shape != (self.idx.shape[0],):
            raise ValueError(
                f"SparseDirections needs one `weight` per direction, shape "
                f"({self.idx.shape[0]},), got {self.weight.shape}."
            )
        if not jnp.issubdtype(self.idx.dtype, jnp.integer):
            raise TypeError(f"`idx` must be integer coordinates, got dtype {self.idx.dtype}.")

    @property
    def num(self) -> int:
        """The number of directions."""
        return self.idx.shape[0]

    @property
    def dimension(self) -> int:
        """The dimension of the space the directions live in."""
        return self.dim

    def dense(self, dtype=None) -> Float[Array, "r d"]:
        """The directions as dense rows."""
        dtype = dtype or self.val.dtype
        rows = jnp.zeros((self.num, self.dim), dtype)
        r = jnp.arange(self.num)[:, None]
        return rows.at[r, self.idx].add(self.val.astype(dtype))

    def combine(self, coefficients: Float[Array, "s r"]) -> Float[Array, "s d"]:
        """``sum_r coefficients[s, r] v_r`` for each row s, by a scatter-add (no dense rows)."""
        contrib = coefficients[:, :, None] * self.val[None].astype(coefficients.dtype)  # (s, r, m)
        flat = contrib.reshape(coefficients.shape[0], -1)
        out = jnp.zeros((coefficients.shape[0], self.dim), coefficients.dtype)
        return out.at[:, self.idx.reshape(-1)].add(flat)


class DenseDirections(eqx.Module):
    """``R`` dense directions (rows of ``vectors``) with weights ``weight[r]``."""

    vectors: Float[Array, "r d"]
    weight: Float[Array, " r"]

    def __check_init__(self):
        if self.vectors.ndim != 2 or self.weight.shape != (self.vectors.shape[0],):
            raise ValueError(
                "DenseDirections needs `vectors` of shape (r, d) and `weight` of shape (r,), "
                f"got {self.vectors.shape} and {self.weight.shape}."
            )

    @property
    def num(self) -> int:
        """The number of directions."""
        return self.vectors.shape[0]

    @property
    def dimension(self) -> int:
        """The dimension of the space the directions live in."""
        return self.vectors.shape[1]

    def dense(self, dtype=None) -> Float[Array, "r d"]:
        """The directions as dense rows."""
        return self.vectors if dtype is None else self.vectors.astype(dtype)

    def combine(self, coefficients: Float[Array, "s r"]) -> Float[Array, "s d"]:
        """``sum_r coefficients[s, r] v_r`` for each row s."""
        return coefficients @ self.vectors.astype(coefficients.dtype)


Directions = SparseDirections | DenseDirections


def polarization_lattice(powers: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Lattice points ``s`` (rows, one column per coordinate) and weights for ``d^alpha``.

    ``d^alpha u = sum_k weights[k] * D^K u[sum_j points[k, j] e_{i_j}]`` with
    ``K = sum(powers)``. A single coordinate needs just ``s = (1,)`` with weight 1.
    """
    powers = tuple(powers)
    if not powers or any(
        isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1 for p in powers
    ):
        raise ValueError(f"`powers` must be a non-empty tuple of positive integers, got {powers!r}.")
    order = sum(powers)
    if len(powers) == 1:
        return np.ones((1, 1)), np.ones(1)
    points, weights = [], []
    for s in itertools.product(*(range(p + 1) for p in powers)):
        if not any(s):
            continue
        w = (-1) ** (order - sum(s)) * math.prod(math.comb(p, k) for p, k in zip(powers, s))
        points.append(s)
        weights.append(w / math.factorial(order))
    return np.asarray(points, dtype=float), np.asarray(weights)


def partial_group_directions(group: PartialTerms, dim: int, dtype) -> SparseDirections:
    """All directions of a partial group: ``num_terms x lattice size`` sparse rows."""
    points, weights = polarization_lattice(group.powers)
    n, m = group.dims.shape
    k = points.shape[0]
    idx = jnp.broadcast_to(group.dims[:, None, :], (n, k, m)).reshape(n * k, m)
    val = jnp.broadcast_to(jnp.asarray(points, dtype)[None], (n, k, m)).reshape(n * k, m)
    weight = (group.coeffs[:, None].astype(dtype) * jnp.asarray(weights, dtype)[None]).reshape(-1)
    return SparseDirections(dim, idx, val, weight)


def directional_group_directions(group: DirectionalTerms, dtype) -> DenseDirections:
    return DenseDirections(group.vectors.astype(dtype), group.coeffs.astype(dtype))


def concatenate(directions: list[Directions]) -> Directions:
    """Join direction sets of one order (sparse with sparse of equal width, else dense)."""
    if len(directions) == 1:
        return directions[0]
    sparse = [d for d in directions if isinstance(d, SparseDirections)]
    if len(sparse) == len(directions):
        width = max(d.idx.shape[1] for d in sparse)

        def widen(d: SparseDirections):
            pad = width - d.idx.shape[1]
            if pad == 0:
                return d.idx, d.val
            # padded entries repeat coordinate idx[:, 0] with value 0: they add nothing
            idx = jnp.concatenate([d.idx, jnp.repeat(d.idx[:, :1], pad, axis=1)], axis=1)
            val = jnp.concatenate([d.val, jnp.zeros((d.num, pad), d.val.dtype)], axis=1)
            return idx, val

        parts = [widen(d) for d in sparse]
        return SparseDirections(
            sparse[0].dim,
            jnp.concatenate([p[0] for p in parts]),
            jnp.concatenate([p[1] for p in parts]),
            jnp.concatenate([d.weight for d in sparse]),
        )
    return DenseDirections(
        jnp.concatenate([d.dense() for d in directions]),
        jnp.concatenate([d.weight for d in directions]),
    )


def operator_directions(op: DifferentialOperator, dtype) -> dict[int, Directions]:
    """Exact decomposition: for each order K, directions and weights with
    ``op[u] = sum_K sum_r weight_r D^K u[v_r, ..., v_r]``."""
    if not isinstance(op, DifferentialOperator):
        raise TypeError(f"`op` must be a DifferentialOperator, got {type(op).__name__}.")
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a floating-point dtype, got {dtype}.")
    per_order: dict[int, list[Directions]] = {}
    for group in op.partial_groups:
        per_order.setdefault(group.order, []).append(
            partial_group_directions(group, op.dim, dtype)
        )
    for group in op.directional_groups:
        per_order.setdefault(group.order, []).append(directional_group_directions(group, dtype))
    return {k: concatenate(v) for k, v in sorted(per_order.items())}


def first_order_vector(directions: Directions, dtype) -> Float[Array, " d"]:
    """For order 1 the operator is linear in v: ``sum_r w_r D u[v_r] = D u[sum_r w_r v_r]``."""
    if isinstance(directions, DenseDirections):
        return directions.weight.astype(dtype) @ directions.vectors.astype(dtype)
    vec = jnp.zeros(directions.dim, dtype)
    contrib = directions.weight[:, None].astype(dtype) * directions.val.astype(dtype)
    return vec.at[directions.idx.reshape(-1)].add(contrib.reshape(-1))
