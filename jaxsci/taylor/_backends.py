"""Derivative backends: turn ``(operator, u, x, *, key)`` into ``(u(x), operator[u](x))``.

Exact backends evaluate every term; stochastic ones (STDE: Shi et al., "Stochastic
Taylor Derivative Estimator", NeurIPS 2024) return an unbiased estimate from a few random
directions. Every backend is an immutable ``equinox.Module`` and a pure function of its
arguments: it works under ``jax.jit``, ``jax.vmap`` over points (and over keys), and
``jax.grad`` with respect to the parameters that ``u`` closes over.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from ..core import sample_without_replacement
from ..internal import check_key, check_one_of, check_positive_int, check_scalar_function
from ._directions import (
    DenseDirections,
    Directions,
    concatenate,
    directional_group_directions,
    operator_directions,
    partial_group_directions,
)
from ._evaluate import MODES, directional_sum
from ._operator import DifferentialOperator, DirectionalTerms, PartialTerms


def _validate(op, u, x, key, stochastic: bool, name: str):
    """Python-time checks of a backend call; returns ``(x, key)``."""
    if not isinstance(op, DifferentialOperator):
        raise TypeError(
            f"`op` must be a jaxsci.taylor.DifferentialOperator (e.g. taylor.laplacian(d)), "
            f"got {type(op).__name__}."
        )
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"`x` must be a floating-point array, got dtype {x.dtype}.")
    if tuple(x.shape) != (op.dim,):
        raise ValueError(
            f"the operator acts on functions of R^{op.dim}, so `x` must be one point of shape "
            f"({op.dim},), got shape {tuple(x.shape)}. For a batch of points use "
            "`jax.vmap(lambda p: backend(op, u, p, key=key))(points)`; otherwise build the "
            "operator with the input dimension."
        )
    if not callable(u):
        raise TypeError(f"`u` must be a callable x -> scalar, got {type(u).__name__}.")
    try:
        jax.eval_shape(u, x)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"`u` fails on one point of shape ({op.dim},), the dimension of the operator "
            f"(R^{op.dim}): check that the network's input size, the problem's dimension and "
            f"the points' last axis agree. The error was: {type(err).__name__}: {err}"
        ) from err
    check_scalar_function(u, x, "u")
    if stochastic:
        if key is None:
            raise TypeError(
                f"{name} is stochastic and needs a PRNG `key`: call it as "
                "`backend(op, u, x, key=jax.random.key(seed))`, with a fresh key per step "
                "and per point for unbiased estimates."
            )
        key = _default_impl(check_key(key))
    elif key is not None:
        key = check_key(key)
    return x, key


def _default_impl(key: jax.Array) -> jax.Array:
    """A threefry key derived from ``key`` when it has another implementation.

    Keys of the ``rbg`` / ``unsafe_rbg`` implementations draw their bits with XLA's
    ``RngBitGenerator``, whose batching rule under ``jax.vmap`` draws the whole batch from
    the *first* key of the batch. Inside the per-point ``vmap`` of a sampler's
    ``while_loop`` (sparse STDE draws distinct terms by redrawing repeats) the first point
    soon finishes, its frozen key then yields the same redraws for every other point on
    every iteration, and the loop can run for minutes. Folding the key's words into a
    threefry key gives each point its own stream, batched natively.
    """
    if jax.random.key_impl(key) == "threefry2x32":
        return key
    words = jax.random.key_data(key).reshape(-1)
    out = jax.random.key(0, impl="threefry2x32")
    for i in range(words.shape[0]):
        out = jax.random.fold_in(out, words[i].astype(jnp.uint32))
    return out


class AbstractBackend(eqx.Module):
    """Base class of derivative backends: ``backend(op, u, x, *, key=None) -> (u(x), op[u](x))``.

    Calling a backend validates the arguments (the operator, the point's shape against the
    operator's dimension, that ``u`` maps the point to a floating scalar, the key) and then
    calls :meth:`evaluate`. Subclasses set the class variable
    ``stochastic: ClassVar[bool]`` and implement :meth:`evaluate`.

    NaN and infinity pass through as the formulas say: a NaN in ``x`` or in ``u``'s
    output (or in the derivatives of ``u`` that the backend evaluates) gives a NaN
    value, never a finite one.

    Example:
        >>> from typing import ClassVar
        >>> class Zero(AbstractBackend):
        ...     stochastic: ClassVar[bool] = False
        ...     def evaluate(self, op, u, x, *, key):
        ...         return u(x), jnp.zeros((), x.dtype)
        >>> Zero()(jaxsci.taylor.laplacian(2), lambda x: x @ x, jnp.ones(2))[1]
        Array(0., dtype=float32)
    """

    stochastic: eqx.AbstractClassVar[bool]

    def __call__(
        self,
        op: DifferentialOperator,
        u: Callable,
        x: jax.Array,
        *,
        key: jax.Array | None = None,
    ) -> tuple[jax.Array, jax.Array]:
        """``(u(x), op[u](x))``; stochastic backends need ``key``."""
        x, key = _validate(op, u, x, key, self.stochastic, type(self).__name__)
        return self.evaluate(op, u, x, key=key)

    @abc.abstractmethod
    def evaluate(
        self, op: DifferentialOperator, u: Callable, x: jax.Array, *, key: jax.Array | None
    ) -> tuple[jax.Array, jax.Array]:
        """``(u(x), op[u](x))`` for validated arguments (call the backend itself instead)."""


def _sum_orders(u, x, per_order: dict[int, Directions], mode: str, chunk_size=None):
    primal = None
    total = jnp.zeros((), x.dtype)
    for order, dirs in per_order.items():
        primal, value = directional_sum(u, x, order, dirs, mode, chunk_size)
        total = total + value
    return primal, total


class Exact(AbstractBackend):
    """Every term of the operator, exactly.

    Mixed partials are reduced to pure directional derivatives by polarization (see
    :func:`jaxsci.taylor.polarization_lattice`), so any operator of any order works.

    Args:
        mode: ``"collapsed"`` (default: collapsed Taylor mode, Dangel et al. NeurIPS 2025,
            one pass for all directions of an order; sparse first layer), ``"jet"`` (one
            ``jax.experimental.jet`` per direction, vmapped), ``"hvp"`` or ``"hessian"``
            (second-order operators only).
        chunk_size: process at most this many directions at once (bounds memory for a
            Laplacian in very high dimension).

    Example:
        >>> u = lambda x: jnp.sum(jnp.sin(x))
        >>> value = Exact()(jaxsci.taylor.laplacian(3), u, jnp.ones(3))[1]
        >>> bool(jnp.isclose(value, -3 * jnp.sin(1.0)))   # Lap sum sin x = -sum sin x
        True
    """

    mode: str = eqx.field(static=True, default="collapsed")
    chunk_size: int | None = eqx.field(static=True, default=None)
    stochastic: ClassVar[bool] = False

    def __check_init__(self):
        check_one_of(self.mode, MODES, "mode")
        if self.chunk_size is not None:
            check_positive_int(self.chunk_size, "chunk_size")

    def evaluate(self, op, u, x, *, key=None):
        """All terms, order by order (``key`` is unused)."""
        return _sum_orders(u, x, operator_directions(op, x.dtype), self.mode, self.chunk_size)


class HessianTrace(AbstractBackend):
    """Baseline: the full Hessian by forward-over-reverse AD, contracted with the operator.

    Costs O(d) Hessian-vector products per point; second-order operators only. The same
    computation as ``Exact(mode="hessian")``.

    Example:
        >>> HessianTrace()(jaxsci.taylor.laplacian(2), lambda x: x @ x, jnp.ones(2))[1]
        Array(4., dtype=float32)
    """

    stochastic: ClassVar[bool] = False

    def evaluate(self, op, u, x, *, key=None):
        """The Hessian contracted with every second-order term (``key`` is unused)."""
        return _sum_orders(u, x, operator_directions(op, x.dtype), "hessian")


def _sample_group(group, num: int, key, dim: int, dtype) -> Directions:
    """Uniformly sample ``num`` of the group's terms without replacement, reweighted by
    ``n / num`` so that the estimate is unbiased (STDE Sec. 4.2, sparse random jets)."""
    n = group.num_terms
    if num >= n:
        sampled = group
    else:
        pick = sample_without_replacement(n, num, key=key)
        scale = n / num
        if isinstance(group, PartialTerms):
            sampled = PartialTerms(group.powers, group.dims[pick], group.coeffs[pick] * scale)
        else:
            sampled = DirectionalTerms(group.order, group.vectors[pick], group.coeffs[pick] * scale)
    if isinstance(sampled, PartialTerms):
        return partial_group_directions(sampled, dim, dtype)
    return directional_group_directions(sampled, dtype)


def _all_nonnegative(weights) -> bool:
    """True when the weights are known (not traced) and all >= 0."""
    try:
        return bool(jnp.all(weights >= 0))
    except jax.errors.ConcretizationTypeError:
        return False


def _allocate(sizes: list[int], budget: int) -> list[int]:
    """Split a sample budget over groups in proportion to their sizes (>= 1 each)."""
    total = sum(sizes)
    return [min(n, max(1, round(budget * n / total))) for n in sizes]


def _sparse_estimate(op, u, x, key, num_samples: int, mode: str):
    """Sparse STDE: sampled terms of every order >= 2, first-order terms exactly."""
    groups_by_order: dict[int, list] = {}
    for g in op.partial_groups + op.directional_groups:
        groups_by_order.setdefault(g.order, []).append(g)
    per_order: dict[int, Directions] = {}
    keys = jax.random.split(key, len(op.partial_groups) + len(op.directional_groups))
    k = 0
    for order, groups in sorted(groups_by_order.items()):
        if order == 1:
            per_order[1] = concatenate(
                [_sample_group(g, g.num_terms, None, op.dim, x.dtype) for g in groups]
            )
            continue
        budgets = _allocate([g.num_terms for g in groups], num_samples)
        dirs = []
        for g, b in zip(groups, budgets):
            dirs.append(_sample_group(g, b, keys[k], op.dim, x.dtype))
            k += 1
        per_order[order] = concatenate(dirs)
    primal, value = _sum_orders(u, x, per_order, mode)
    # terms left out of the sample must not hide a NaN/inf coefficient
    coeffs = [g.coeffs for g in op.partial_groups + op.directional_groups if g.order > 1]
    if coeffs:
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(c)) for c in coeffs]))
        value = jnp.where(finite, value, jnp.asarray(jnp.nan, value.dtype))
    return primal, value


class SparseSTDE(AbstractBackend):
    """Sparse STDE: an unbiased estimate from a random subset of the operator's terms.

    Terms of each order are sampled uniformly without replacement (``num_samples`` in all,
    split over the pattern groups in proportion to their sizes) and reweighted by
    ``n_group / samples_group`` (Shi et al., NeurIPS 2024, Sec. 4.2 and Eq. 11 for the
    Laplacian: ``Lap u ~ (d/B) sum_{i in I} d^2u/dx_i^2``). First-order terms are always
    evaluated exactly (one JVP costs no more than one sample).

    The estimate sees only the sampled terms: a NaN in a derivative that was not sampled
    does not reach it (a NaN in ``x`` or ``u(x)`` always does).

    Args:
        num_samples: number of sampled terms per order.
        mode: evaluation engine: ``"collapsed"`` (default), ``"jet"``, ``"hvp"`` (the
            latter is :class:`SDGD`).

    Example:
        >>> u = lambda x: jnp.sum(x**2)
        >>> SparseSTDE(2)(jaxsci.taylor.laplacian(4), u, jnp.ones(4), key=jax.random.key(0))[1]
        Array(8., dtype=float32)
    """

    num_samples: int = eqx.field(static=True)
    mode: str = eqx.field(static=True, default="collapsed")
    stochastic: ClassVar[bool] = True

    def __check_init__(self):
        check_positive_int(self.num_samples, "num_samples")
        check_one_of(self.mode, ("collapsed", "jet", "hvp"), "mode")

    def evaluate(self, op, u, x, *, key):
        """An unbiased estimate from ``num_samples`` sampled terms per order."""
        return _sparse_estimate(op, u, x, key, self.num_samples, self.mode)


class SDGD(AbstractBackend):
    """Baseline SDGD (Hu, Shukla, Karniadakis, Kawaguchi 2023): sampled dimensions, each
    second derivative by a Hessian-vector product (forward-over-reverse).

    The same estimator as ``SparseSTDE(num_samples, mode="hvp")`` (same draws for the same
    key); second-order operators only.

    Example:
        >>> lap = jaxsci.taylor.laplacian(4)
        >>> SDGD(2)(lap, lambda x: jnp.sum(x**2), jnp.ones(4), key=jax.random.key(0))[1]
        Array(8., dtype=float32)
    """

    num_samples: int = eqx.field(static=True)
    stochastic: ClassVar[bool] = True

    def __check_init__(self):
        check_positive_int(self.num_samples, "num_samples")

    def evaluate(self, op, u, x, *, key):
        """Sampled second derivatives, each by a Hessian-vector product."""
        return _sparse_estimate(op, u, x, key, self.num_samples, "hvp")


def _draw(key, shape, dtype, distribution: str):
    if distribution == "rademacher":
        return jax.random.rademacher(key, shape, dtype=dtype)
    return jax.random.normal(key, shape, dtype=dtype)


def _dense_second_order(dirs: Directions, key, dtype, num_samples: int, distribution: str):
    z = _draw(key, (num_samples, dirs.num), dtype, distribution)
    root = jnp.sqrt(jnp.abs(dirs.weight)).astype(dtype)
    sign = jnp.sign(dirs.weight).astype(dtype)
    t = dirs.combine(z * root[None, :])  # (num_samples, d), never forming dense unit vectors
    scale = jnp.full((num_samples,), 1.0 / num_samples, dtype)
    if _all_nonnegative(dirs.weight):
        return DenseDirections(t, scale)
    # D^2u[t, s] = (D^2u[(t+s)/2] - D^2u[(t-s)/2]) for the polarized bilinear form
    s = dirs.combine(z * (root * sign)[None, :])
    return DenseDirections(
        jnp.concatenate([(t + s) / 2, (t - s) / 2]), jnp.concatenate([scale, -scale])
    )


def _dense_biharmonic(op, key, dtype, num_samples: int, distribution: str) -> DenseDirections:
    if distribution != "gaussian":
        raise ValueError(
            "the dense biharmonic estimator Lap^2 u = E[D^4u[v,v,v,v]]/3 needs Gaussian "
            "tangents: use DenseSTDE(num_samples, distribution='gaussian')."
        )
    axes = jnp.asarray(op.biharmonic_axes)
    z = jax.random.normal(key, (num_samples, axes.shape[0]), dtype=dtype)
    v = jnp.zeros((num_samples, op.dim), dtype).at[:, axes].set(z)
    weight = jnp.full((num_samples,), 1.0 / (3.0 * num_samples), dtype)
    return DenseDirections(v, weight * op.biharmonic_scale)


def _dense_estimate(op, u, x, key, num_samples: int, distribution: str, mode: str, name: str):
    exact = operator_directions(op, x.dtype)
    per_order: dict[int, Directions] = {}
    keys = jax.random.split(key, 2)
    for order, dirs in exact.items():
        if order == 1:
            per_order[1] = dirs
        elif order == 2:
            per_order[2] = _dense_second_order(dirs, keys[0], x.dtype, num_samples, distribution)
        elif order == 4 and op.biharmonic_axes is not None:
            per_order[4] = _dense_biharmonic(op, keys[1], x.dtype, num_samples, distribution)
        else:
            raise ValueError(
                f"{name} has no unbiased dense estimator for order-{order} terms of this "
                "operator (it supports second-order operators and the biharmonic); use "
                "SparseSTDE, which samples the operator's terms."
            )
    return _sum_orders(u, x, per_order, mode)


class DenseSTDE(AbstractBackend):
    """Dense STDE: random dense tangents ``v`` with ``E[v v^T] = I``.

    * second-order terms ``sum_r w_r D^2u[v_r]`` (Laplacian, weighted traces
      ``tr(A Hess u)``, mixed partials): with ``t = sum_r z_r sqrt|w_r| v_r`` and
      ``s = sum_r z_r sign(w_r) sqrt|w_r| v_r`` for random ``z`` with ``E[z z^T] = I``,
      ``E[D^2u[t, s]] = sum_r w_r D^2u[v_r]``. For non-negative weights ``s = t`` (one jet
      per sample): ``Lap u = E[D^2u[z, z]]`` (STDE Eq. 13); otherwise the bilinear form is
      polarized into two directions.
    * the biharmonic: ``Lap^2 u = (1/3) E[D^4u[v, v, v, v]]`` for Gaussian ``v`` (Isserlis;
      STDE Sec. 4.3), needs ``distribution="gaussian"``.
    * first-order terms are evaluated exactly.

    Other fourth- or higher-order operators have no dense estimator: use
    :class:`SparseSTDE`.

    Args:
        num_samples: number of random tangents.
        distribution: ``"rademacher"`` (lower variance for the Laplacian) or ``"gaussian"``.
        mode: ``"collapsed"`` (default), ``"jet"`` or ``"hvp"`` (the latter is
            :class:`Hutchinson`).

    Example:
        >>> u = lambda x: jnp.sum(x**2)
        >>> DenseSTDE(4)(jaxsci.taylor.laplacian(3), u, jnp.ones(3), key=jax.random.key(0))[1]
        Array(6., dtype=float32)
    """

    num_samples: int = eqx.field(static=True)
    distribution: str = eqx.field(static=True, default="rademacher")
    mode: str = eqx.field(static=True, default="collapsed")
    stochastic: ClassVar[bool] = True

    def __check_init__(self):
        check_positive_int(self.num_samples, "num_samples")
        check_one_of(self.distribution, ("rademacher", "gaussian"), "distribution")
        check_one_of(self.mode, ("collapsed", "jet", "hvp"), "mode")

    def evaluate(self, op, u, x, *, key):
        """An unbiased estimate from ``num_samples`` random dense tangents."""
        return _dense_estimate(
            op, u, x, key, self.num_samples, self.distribution, self.mode, "DenseSTDE"
        )


class Hutchinson(AbstractBackend):
    """Baseline Hutchinson trace estimator with Hessian-vector products:
    ``tr(A Hess u) ~ mean_k z_k^T Hess u z_k`` (Hutchinson 1989; forward-over-reverse HVPs).

    The same estimator as ``DenseSTDE(num_samples, distribution, mode="hvp")`` (same draws
    for the same key); second-order operators only.

    Example:
        >>> u = lambda x: jnp.sum(x**2)
        >>> Hutchinson(4)(jaxsci.taylor.laplacian(3), u, jnp.ones(3), key=jax.random.key(0))[1]
        Array(6., dtype=float32)
    """

    num_samples: int = eqx.field(static=True)
    distribution: str = eqx.field(static=True, default="rademacher")
    stochastic: ClassVar[bool] = True

    def __check_init__(self):
        check_positive_int(self.num_samples, "num_samples")
        check_one_of(self.distribution, ("rademacher", "gaussian"), "distribution")

    def evaluate(self, op, u, x, *, key):
        """Random quadratic forms ``z^T Hess u z``, each by a Hessian-vector product."""
        return _dense_estimate(
            op, u, x, key, self.num_samples, self.distribution, "hvp", "Hutchinson"
        )


class ForwardLaplacian(AbstractBackend):
    """Baseline: folx's forward Laplacian (Li et al. 2023; ``folx.forward_laplacian``).

    Exact, for Laplacian-type operators only (``laplacian(d)`` and its multiples, plus
    first-order terms). Needs the optional dependency ``folx``.

    Args:
        sparsity_threshold: folx's ``sparsity_threshold`` (an integer >= 0).
    """

    sparsity_threshold: int = eqx.field(static=True, default=0)
    stochastic: ClassVar[bool] = False

    def __check_init__(self):
        t = self.sparsity_threshold
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise ValueError(f"`sparsity_threshold` must be an integer >= 0, got {t!r}.")

    def evaluate(self, op, u, x, *, key=None):
        """folx's forward Laplacian, plus the first-order terms by one JVP."""
        scale = op.laplacian_scale
        if scale is None:
            raise ValueError(
                "ForwardLaplacian (folx) evaluates only the full Laplacian (times a constant, "
                "plus first-order terms); for this operator use Exact(), SparseSTDE or DenseSTDE."
            )
        try:
            import folx
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "ForwardLaplacian needs the optional dependency folx: pip install folx "
                "(or pip install 'jaxsci[bench]')."
            ) from err
        # folx broadcasts implicitly: run it under JAX's default promotion rules
        with jax.numpy_rank_promotion("allow"), jax.numpy_dtype_promotion("standard"):
            result = folx.forward_laplacian(u, sparsity_threshold=self.sparsity_threshold)(x)
        value = scale * result.laplacian
        per_order = {k: d for k, d in operator_directions(op, x.dtype).items() if k == 1}
        if per_order:
            value = value + directional_sum(u, x, 1, per_order[1], "collapsed")[1]
        return result.x, value


def apply(
    op: DifferentialOperator,
    u: Callable,
    x: jax.Array,
    *,
    backend: AbstractBackend | None = None,
    key: jax.Array | None = None,
) -> jax.Array:
    """``op[u](x)`` with ``backend`` (default: :class:`Exact`).

    Example:
        >>> apply(jaxsci.taylor.laplacian(2), lambda x: x @ x, jnp.ones(2))
        Array(4., dtype=float32)
    """
    if backend is None:
        backend = Exact()
    elif not isinstance(backend, AbstractBackend):
        raise TypeError(
            "`backend` must be a jaxsci.taylor backend such as taylor.Exact() or "
            f"taylor.SparseSTDE(16), got {type(backend).__name__}."
        )
    return backend(op, u, x, key=key)[1]


def two_draw_product(residual: Callable[[jax.Array], jax.Array], *, key: jax.Array) -> jax.Array:
    """Unbiased estimate of ``r^2`` from a randomized residual ``r(key)``.

    ``mean(r(key)^2)`` is biased upward by the estimator's variance; the product of two
    independent draws ``r(k1) r(k2)`` is not (STDE, Sec. 4.4): its expectation is
    ``E[r]^2`` and its gradient's expectation is ``2 E[r] E[dr]``.

    Example:
        >>> r = lambda k: 1.0 + jax.random.normal(k)
        >>> two_draw_product(r, key=jax.random.key(0)).shape
        ()
    """
    if not callable(residual):
        raise TypeError(
            f"`residual` must be a callable key -> array, got {type(residual).__name__}."
        )
    key = check_key(key)
    k1, k2 = jax.random.split(key)
    return residual(k1) * residual(k2)


__all__ = [
    "SDGD",
    "AbstractBackend",
    "DenseSTDE",
    "Exact",
    "ForwardLaplacian",
    "HessianTrace",
    "Hutchinson",
    "SparseSTDE",
    "apply",
    "two_draw_product",
]
