"""Linear differential operators with constant coefficients, in a form jets can evaluate.

An operator is a sum of two kinds of terms:

* partial terms ``c * d^alpha u`` given by multi-indices ``alpha``. Terms with the same
  *pattern* (the nonzero powers of ``alpha``, sorted in decreasing order) are stored
  together as a :class:`PartialTerms` group: an ``(n, m)`` integer array of coordinates
  and ``n`` coefficients. The Laplacian in ``R^d`` is one group: pattern ``(2,)``,
  coordinates ``[[0], [1], ..., [d-1]]``, coefficients ones;
* directional terms ``c_r * D^K u[v_r, ..., v_r]`` (:class:`DirectionalTerms`), e.g. the
  diffusion trace ``tr(sigma sigma^T Hess u) = sum_j D^2 u[sigma e_j, sigma e_j]``.

Operators add (``op1 + op2``), scale (``2.0 * op``) and are pytrees, so coefficients can
be traced values (e.g. built inside a vmapped function from x-dependent data).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


def _as_coefficients(coeffs, n: int, name: str = "coeffs") -> jnp.ndarray:
    arr = jnp.asarray(coeffs)
    if jnp.issubdtype(arr.dtype, jnp.complexfloating) or not jnp.issubdtype(arr.dtype, jnp.number):
        raise TypeError(f"`{name}` must be real numbers, got dtype {arr.dtype}.")
    if not jnp.issubdtype(arr.dtype, jnp.inexact):
        arr = arr.astype(jnp.result_type(float))
    if arr.shape != (n,):
        raise ValueError(f"`{name}`: expected {n} coefficients, got an array of shape {arr.shape}.")
    _check_finite_if_known(arr, name)
    return arr


def _check_finite_if_known(arr, name: str) -> None:
    """Raise for NaN/inf in concrete coefficients (traced ones are checked by nobody: a NaN
    coefficient gives a NaN value from every backend)."""
    if isinstance(arr, jax.core.Tracer):
        return
    if not bool(jnp.all(jnp.isfinite(arr))):
        raise ValueError(f"`{name}` must be finite, got {arr}.")


def _check_scale(scale) -> None:
    if isinstance(scale, bool) or not (
        isinstance(scale, (int, float, np.integer, np.floating))
        or (hasattr(scale, "shape") and hasattr(scale, "dtype") and jnp.ndim(scale) == 0)
    ):
        raise TypeError(
            "an operator can only be scaled by a real scalar (a number or a 0-d array), got "
            f"{type(scale).__name__} {getattr(scale, 'shape', scale)!r}."
        )
    dtype = jnp.result_type(scale)
    if jnp.issubdtype(dtype, jnp.complexfloating) or not jnp.issubdtype(dtype, jnp.number):
        raise TypeError(f"an operator can only be scaled by a real scalar, got dtype {dtype}.")
    _check_finite_if_known(jnp.asarray(scale), "scale")


class PartialTerms(eqx.Module):
    """``sum_t coeffs[t] * d^{powers[0]}/dx_{dims[t,0]}^{powers[0]} ... u`` for one pattern.

    Attributes:
        powers: the pattern, a non-increasing tuple of positive ints, e.g. ``(2, 1)`` for
            ``d^3 u / dx_i^2 dx_j``. Its sum is the order of every term in the group.
        dims: ``(n, len(powers))`` integer coordinates; the entries of a row are distinct.
        coeffs: ``(n,)`` coefficients.
    """

    powers: tuple[int, ...] = eqx.field(static=True)
    dims: Int[Array, "n m"]
    coeffs: Float[Array, " n"]

    @property
    def order(self) -> int:
        return sum(self.powers)

    @property
    def num_terms(self) -> int:
        return self.dims.shape[0]


class DirectionalTerms(eqx.Module):
    """``sum_r coeffs[r] * D^order u[vectors[r], ..., vectors[r]]``."""

    order: int = eqx.field(static=True)
    vectors: Float[Array, "r d"]
    coeffs: Float[Array, " r"]

    @property
    def num_terms(self) -> int:
        return self.vectors.shape[0]


class DifferentialOperator(eqx.Module):
    """A linear differential operator on scalar functions ``u: R^dim -> R``.

    Build operators with the constructors (:func:`laplacian`, :func:`partial`,
    :func:`biharmonic`, :func:`diffusion_trace`, ...) and combine them with ``+``, ``-``
    and scalar ``*``. Evaluate them with a backend from :mod:`jaxsci.taylor`.

    Example:
        >>> op = laplacian(3) + 2.0 * partial(3, {0: 1})   # Lap u + 2 du/dx0
        >>> op.orders
        (1, 2)
    """

    dim: int = eqx.field(static=True)
    partial_groups: tuple[PartialTerms, ...]
    directional_groups: tuple[DirectionalTerms, ...]
    time_index: int | None = eqx.field(static=True, default=None)
    # Recognised structure, kept through scaling and through adding terms of other orders:
    # "laplacian" or "biharmonic" over `structure_axes`, times `structure_scale`. Backends
    # with special estimators (dense biharmonic, folx) use it.
    structure: str | None = eqx.field(static=True, default=None)
    structure_axes: tuple[int, ...] | None = eqx.field(static=True, default=None)
    structure_scale: float | jax.Array = 1.0

    def __check_init__(self):
        if self.dim < 1:
            raise ValueError(f"operator dimension must be >= 1, got {self.dim}.")
        for group in self.directional_groups:
            if group.vectors.ndim != 2 or group.vectors.shape[1] != self.dim:
                raise ValueError(
                    f"directional terms need vectors of shape (r, {self.dim}), got "
                    f"{group.vectors.shape}."
                )

    @property
    def orders(self) -> tuple[int, ...]:
        """The distinct derivative orders present, increasing."""
        found = {g.order for g in self.partial_groups} | {g.order for g in self.directional_groups}
        return tuple(sorted(found))

    @property
    def laplacian_scale(self):
        """``c`` if the second-order part is ``c * (full Laplacian)``, else ``None``."""
        if self.structure == "laplacian" and self.structure_axes == tuple(range(self.dim)):
            return self.structure_scale
        return None

    @property
    def biharmonic_axes(self) -> tuple[int, ...] | None:
        """The axes if the fourth-order part is ``c * biharmonic`` over them, else ``None``."""
        return self.structure_axes if self.structure == "biharmonic" else None

    @property
    def biharmonic_scale(self):
        return self.structure_scale

    @property
    def max_order(self) -> int:
        return max(self.orders)

    @property
    def num_terms(self) -> int:
        return sum(g.num_terms for g in self.partial_groups + self.directional_groups)

    def __add__(self, other: DifferentialOperator) -> DifferentialOperator:
        if not isinstance(other, DifferentialOperator):
            return NotImplemented
        if other.dim != self.dim:
            raise ValueError(
                f"cannot add operators on R^{self.dim} and R^{other.dim}; build both with the "
                "same `dim`."
            )
        time_index = self.time_index if self.time_index is not None else other.time_index
        structure = (None, None, 1.0)
        for a, b in ((self, other), (other, self)):
            own = _structure_orders(a.structure)
            if a.structure is not None and not own & set(b.orders) and b.structure is None:
                structure = (a.structure, a.structure_axes, a.structure_scale)
        return DifferentialOperator(
            self.dim,
            _merge_partial_groups(self.partial_groups + other.partial_groups),
            self.directional_groups + other.directional_groups,
            time_index,
            *structure,
        )

    def __mul__(self, scale) -> DifferentialOperator:
        _check_scale(scale)
        return DifferentialOperator(
            self.dim,
            tuple(PartialTerms(g.powers, g.dims, scale * g.coeffs) for g in self.partial_groups),
            tuple(
                DirectionalTerms(g.order, g.vectors, scale * g.coeffs)
                for g in self.directional_groups
            ),
            self.time_index,
            self.structure,
            self.structure_axes,
            scale * self.structure_scale,
        )

    __rmul__ = __mul__

    def __neg__(self) -> DifferentialOperator:
        return -1.0 * self

    def __sub__(self, other: DifferentialOperator) -> DifferentialOperator:
        return self + (-other)


def _structure_orders(structure: str | None) -> set[int]:
    return {"laplacian": {2}, "biharmonic": {4}}.get(structure, set())


def _merge_partial_groups(groups: Sequence[PartialTerms]) -> tuple[PartialTerms, ...]:
    by_pattern: dict[tuple[int, ...], list[PartialTerms]] = {}
    for g in groups:
        by_pattern.setdefault(g.powers, []).append(g)
    merged = []
    for powers, gs in by_pattern.items():
        if len(gs) == 1:
            merged.append(gs[0])
        else:
            merged.append(
                PartialTerms(
                    powers,
                    jnp.concatenate([g.dims for g in gs], axis=0),
                    jnp.concatenate([g.coeffs for g in gs]),
                )
            )
    return tuple(sorted(merged, key=lambda g: (g.order, g.powers)))


def _check_dim(dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"`dim` must be a positive integer (the input dimension), got {dim!r}.")
    return int(dim)


def _check_axis(axis, dim: int, name: str = "axis") -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`{name}` must be an integer coordinate index, got {axis!r}.")
    if not -dim <= axis < dim:
        raise ValueError(f"`{name}`={axis} is out of range for an input in R^{dim}.")
    return int(axis) % dim


def _normalise_multi_index(dim: int, index) -> dict[int, int]:
    """A multi-index given as a mapping {axis: power} or a length-dim sequence -> dict."""
    if isinstance(index, Mapping):
        items = list(index.items())
    else:
        seq = list(index)
        if len(seq) != dim:
            raise ValueError(
                f"a multi-index given as a sequence must have length dim={dim}, got {len(seq)}; "
                "or pass a mapping {axis: power}, e.g. {0: 2, 3: 1}."
            )
        items = list(enumerate(seq))
    powers: dict[int, int] = {}
    for axis, power in items:
        axis = _check_axis(axis, dim)
        if isinstance(power, bool) or not isinstance(power, (int, np.integer)) or power < 0:
            raise ValueError(f"derivative powers must be integers >= 0, got {power!r}.")
        if power:
            powers[axis] = powers.get(axis, 0) + int(power)
    if not powers:
        raise ValueError(
            "a derivative of order 0 is u itself, not a differential operator term: use "
            "u(x) directly (every backend also returns u(x) with the operator's value)."
        )
    return powers


def _group_from_terms(terms: Iterable[tuple[float, dict[int, int]]]) -> tuple[PartialTerms, ...]:
    by_pattern: dict[tuple[int, ...], tuple[list, list]] = {}
    for coeff, powers in terms:
        ordered = sorted(powers.items(), key=lambda kv: (-kv[1], kv[0]))
        pattern = tuple(p for _, p in ordered)
        dims, coeffs = by_pattern.setdefault(pattern, ([], []))
        dims.append([a for a, _ in ordered])
        coeffs.append(coeff)
    groups = [
        PartialTerms(pattern, jnp.asarray(np.asarray(dims, dtype=np.int32)), jnp.asarray(coeffs))
        for pattern, (dims, coeffs) in by_pattern.items()
    ]
    return _merge_partial_groups(groups)


def from_terms(dim: int, terms: Iterable[tuple[float, object]], time_index: int | None = None):
    """An operator ``sum_k c_k d^{alpha_k} u`` from ``(c_k, alpha_k)`` pairs.

    Each ``alpha_k`` is a mapping ``{axis: power}`` or a length-``dim`` sequence of powers.

    Example:
        >>> op = from_terms(2, [(1.0, {0: 3, 1: 1}), (-6.0, (1, 0))])   # u_xxxy - 6 u_x
        >>> op.orders
        (1, 4)
    """
    dim = _check_dim(dim)
    parsed = []
    for term in terms:
        if not isinstance(term, (tuple, list)) or len(term) != 2:
            raise TypeError(
                f"each term must be a pair (coefficient, multi-index), e.g. (1.0, {{0: 2}}), "
                f"got {term!r}."
            )
        c, alpha = term
        _check_scale(c)
        parsed.append((c, _normalise_multi_index(dim, alpha)))
    if not parsed:
        raise ValueError("an operator needs at least one term.")
    return DifferentialOperator(dim, _group_from_terms(parsed), (), time_index)


def partial(dim: int, index, coeff: float = 1.0) -> DifferentialOperator:
    """The partial derivative ``coeff * d^alpha u`` for one multi-index ``alpha``.

    Examples:
        >>> partial(3, {0: 2, 1: 1}).orders   # d^3 u / dx0^2 dx1
        (3,)
        >>> partial(2, (3, 1)).num_terms      # u_xxxy in 2D
        1
    """
    return from_terms(dim, [(coeff, index)])


def laplacian(dim: int, *, time_index: int | None = None) -> DifferentialOperator:
    """``sum_i d^2 u / dx_i^2`` over all coordinates except ``time_index`` (if given)."""
    dim = _check_dim(dim)
    axes = _spatial_axes(dim, time_index)
    group = PartialTerms(
        (2,), jnp.asarray(np.asarray(axes, dtype=np.int32)[:, None]), jnp.ones(len(axes))
    )
    return DifferentialOperator(
        dim, (group,), (), _time(dim, time_index), "laplacian", tuple(axes), 1.0
    )


def biharmonic(dim: int, *, time_index: int | None = None) -> DifferentialOperator:
    """``Lap^2 u = sum_i d^4u/dx_i^4 + 2 sum_{i<j} d^4u/dx_i^2 dx_j^2`` (spatial axes only).

    Holds ``n + n(n-1)/2`` terms for ``n`` spatial axes: for large ``n`` evaluate it with
    :class:`DenseSTDE` (Gaussian tangents), which never enumerates the terms.
    """
    dim = _check_dim(dim)
    axes = np.asarray(_spatial_axes(dim, time_index), dtype=np.int32)
    pure = PartialTerms((4,), jnp.asarray(axes[:, None]), jnp.ones(len(axes)))
    pairs = np.asarray(list(itertools.combinations(axes, 2)), dtype=np.int32).reshape(-1, 2)
    groups = [pure]
    if len(pairs):
        groups.append(PartialTerms((2, 2), jnp.asarray(pairs), 2.0 * jnp.ones(len(pairs))))
    return DifferentialOperator(
        dim, tuple(groups), (), _time(dim, time_index), "biharmonic", tuple(axes.tolist()), 1.0
    )


def time_derivative(dim: int, time_index: int = -1, order: int = 1) -> DifferentialOperator:
    """``d^order u / dt^order`` where input coordinate ``time_index`` is time."""
    dim = _check_dim(dim)
    t = _check_axis(time_index, dim, "time_index")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"`order` must be a positive integer, got {order!r}.")
    op = from_terms(dim, [(1.0, {t: order})])
    return DifferentialOperator(dim, op.partial_groups, (), t)


def directional(vectors, order: int, coeffs=None) -> DifferentialOperator:
    """``sum_r coeffs[r] D^order u[v_r, ..., v_r]`` for the rows ``v_r`` of ``vectors``."""
    vectors = jnp.asarray(vectors)
    if vectors.ndim == 1:
        vectors = vectors[None]
    if vectors.ndim != 2 or vectors.shape[0] == 0 or vectors.shape[1] == 0:
        raise ValueError(f"`vectors` must have shape (r, dim) with r, dim >= 1, got {vectors.shape}.")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"`order` must be a positive integer, got {order!r}.")
    order = int(order)
    dtype = vectors.dtype
    if jnp.issubdtype(dtype, jnp.complexfloating) or not jnp.issubdtype(dtype, jnp.number):
        raise TypeError(f"`vectors` must be real numbers, got dtype {dtype}.")
    if not jnp.issubdtype(vectors.dtype, jnp.inexact):
        vectors = vectors.astype(jnp.result_type(float))
    _check_finite_if_known(vectors, "vectors")
    n = vectors.shape[0]
    coeffs = jnp.ones(n, vectors.dtype) if coeffs is None else _as_coefficients(coeffs, n)
    coeffs = coeffs.astype(vectors.dtype)
    return DifferentialOperator(vectors.shape[1], (), (DirectionalTerms(order, vectors, coeffs),))


def diffusion_trace(sigma) -> DifferentialOperator:
    """``tr(sigma sigma^T Hess u) = sum_j D^2 u[sigma e_j, sigma e_j]`` for ``sigma`` (dim, k).

    The generator of an SDE ``dX = b dt + sigma dW`` is ``b . grad u + 1/2 *`` this.
    """
    sigma = jnp.asarray(sigma)
    if sigma.ndim != 2:
        raise ValueError(f"`sigma` must be a matrix of shape (dim, k), got {sigma.shape}.")
    return directional(sigma.T, 2)


def gradient_dot(b) -> DifferentialOperator:
    """``b . grad u = D u[b]`` for a vector ``b`` in R^dim."""
    b = jnp.asarray(b)
    if b.ndim != 1:
        raise ValueError(f"`b` must be a vector of shape (dim,), got {b.shape}.")
    return directional(b[None], 1)


def _spatial_axes(dim: int, time_index: int | None) -> list[int]:
    t = _time(dim, time_index)
    axes = [i for i in range(dim) if i != t]
    if not axes:
        raise ValueError("the operator has no spatial coordinates left after removing time.")
    return axes


def _time(dim: int, time_index: int | None) -> int | None:
    return None if time_index is None else _check_axis(time_index, dim, "time_index")
