"""Derivative backends: turn ``(operator, u, x, key)`` into ``(u(x), operator[u](x))``.

Exact backends evaluate every term; stochastic ones (STDE: Shi et al., "Stochastic
Taylor Derivative Estimator", NeurIPS 2024) return an unbiased estimate from a few random
directions. Every backend is an immutable ``equinox.Module`` and a pure function of its
arguments: it works under ``jax.jit``, ``jax.vmap`` over points (and over keys), and
``jax.grad`` with respect to the parameters that ``u`` closes over.
"""

from __future__ import annotations

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
    directional_group_directions,
    operator_directions,
    partial_group_directions,
)
from ._evaluate import MODES, directional_sum
from ._operator import DifferentialOperator, DirectionalTerms, PartialTerms


def _validate(op, u, x, key, stochastic: bool) -> jax.Array:
    if not isinstance(op, DifferentialOperator):
        raise TypeError(
            f"`op` must be a jaxsci.taylor.DifferentialOperator (e.g. taylor.laplacian(d)), "
            f"got {type(op).__name__}."
        )
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"`x` must be a floating-point array, got dtype {x.dtype}.")
    if x.shape != (op.dim,):
        raise ValueError(
            f"the operator acts on functions of R^{op.dim}, so `x` must be one point of shape "
            f"({op.dim},), got shape {x.shape}. For a batch of points use "
            "`jax.vmap(lambda p: backend(op, u, p, key))(points)`; otherwise build the "
            "operator with the input dimension."
        )
    check_scalar_function(u, x, "u")
    if stochastic:
        if key is None:
            raise TypeError(
                "this backend is stochastic and needs a PRNG `key` (jax.random.key(seed)); "
                "use a fresh key per step and per point for unbiased estimates."
            )
        check_key(key)
    elif key is not None:
        check_key(key)
    return x


class AbstractBackend(eqx.Module):
    """Base class: ``backend(op, u, x, key=None) -> (u(x), op[u](x))``."""

    stochastic: ClassVar[bool] = False

    def __call__(
        self, op: DifferentialOperator, u: Callable, x: jax.Array, key: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        x = _validate(op, u, x, key, self.stochastic)
        return self._evaluate(op, u, x, key)

    def _evaluate(self, op, u, x, key):  # pragma: no cover - abstract
        raise NotImplementedError


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
        >>> Exact()(laplacian(3), u, jnp.ones(3))   # (u(x), -sum sin x)
    """

    mode: str = eqx.field(static=True, default="collapsed")
    chunk_size: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        check_one_of(self.mode, MODES, "mode")
        if self.chunk_size is not None:
            check_positive_int(self.chunk_size, "chunk_size")

    def _evaluate(self, op, u, x, key):
        return _sum_orders(u, x, operator_directions(op, x.dtype), self.mode, self.chunk_size)


def HessianTrace() -> Exact:
    """Baseline: the full Hessian by forward-over-reverse AD, contracted with the operator.

    Costs O(d) Hessian-vector products per point; second-order operators only.
    """
    return Exact(mode="hessian")


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


class SparseSTDE(AbstractBackend):
    """Sparse STDE: an unbiased estimate from a random subset of the operator's terms.

    Terms of each order are sampled uniformly without replacement (``num_samples`` in all,
    split over the pattern groups in proportion to their sizes) and reweighted by
    ``n_group / samples_group`` (Shi et al., NeurIPS 2024, Sec. 4.2 and Eq. 11 for the
    Laplacian: ``Lap u ~ (d/B) sum_{i in I} d^2u/dx_i^2``). First-order terms are always
    evaluated exactly (one JVP costs no more than one sample).

    With ``mode="hvp"`` it is SDGD (Hu et al. 2023: random dimensions, each second
    derivative by backward-mode AD).

    Args:
        num_samples: number of sampled terms per order.
        mode: evaluation engine: ``"collapsed"`` (default), ``"jet"``, ``"hvp"``.
    """

    num_samples: int = eqx.field(static=True)
    mode: str = eqx.field(static=True, default="collapsed")
    stochastic: ClassVar[bool] = True

    def __check_init__(self):
        check_positive_int(self.num_samples, "num_samples")
        check_one_of(self.mode, ("collapsed", "jet", "hvp"), "mode")

    def _evaluate(self, op, u, x, key):
        groups_by_order: dict[int, list] = {}
        for g in op.partial_groups + op.directional_groups:
            groups_by_order.setdefault(g.order, []).append(g)
        per_order: dict[int, Directions] = {}
        keys = jax.random.split(key, len(op.partial_groups) + len(op.directional_groups))
        k = 0
        from ._directions import concatenate

        for order, groups in sorted(groups_by_order.items()):
            if order == 1:
                per_order[1] = concatenate(
                    [_sample_group(g, g.num_terms, None, op.dim, x.dtype) for g in groups]
                )
                continue
            budgets = _allocate([g.num_terms for g in groups], self.num_samples)
            dirs = []
            for g, b in zip(groups, budgets):
                dirs.append(_sample_group(g, b, keys[k], op.dim, x.dtype))
                k += 1
            per_order[order] = concatenate(dirs)
        return _sum_orders(u, x, per_order, self.mode)


def SDGD(num_samples: int) -> SparseSTDE:
    """Baseline SDGD (Hu, Shukla, Karniadakis, Kawaguchi 2023): sampled dimensions, each
    second derivative by a Hessian-vector product (forward-over-reverse)."""
    return SparseSTDE(num_samples, mode="hvp")


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
        mode: ``"collapsed"`` (default), ``"jet"`` or ``"hvp"`` (Hutchinson).
    """

    num_samples: int = eqx.field(static=True)
    distribution: str = eqx.field(static=True, default="rademacher")
    mode: str = eqx.field(static=True, default="collapsed")
    stochastic: ClassVar[bool] = True

    def __check_init__(self):
        check_positive_int(self.num_samples, "num_samples")
        check_one_of(self.distribution, ("rademacher", "gaussian"), "distribution")
        check_one_of(self.mode, ("collapsed", "jet", "hvp"), "mode")

    def _evaluate(self, op, u, x, key):
        exact = operator_directions(op, x.dtype)
        per_order: dict[int, Directions] = {}
        keys = jax.random.split(key, 2)
        for order, dirs in exact.items():
            if order == 1:
                per_order[1] = dirs
            elif order == 2:
                per_order[2] = self._second_order(dirs, op.dim, keys[0], x.dtype)
            elif order == 4 and op.biharmonic_axes is not None:
                per_order[4] = self._biharmonic(op, keys[1], x.dtype)
            else:
                raise ValueError(
                    f"DenseSTDE has no unbiased dense estimator for order-{order} terms of this "
                    "operator (it supports second-order operators and the biharmonic); use "
                    "SparseSTDE, which samples the operator's terms."
                )
        return _sum_orders(u, x, per_order, self.mode)

    def _draw(self, key, shape, dtype):
        if self.distribution == "rademacher":
            return jax.random.rademacher(key, shape, dtype=dtype)
        return jax.random.normal(key, shape, dtype=dtype)

    def _second_order(self, dirs: Directions, dim: int, key, dtype) -> DenseDirections:
        z = self._draw(key, (self.num_samples, dirs.num), dtype)
        root = jnp.sqrt(jnp.abs(dirs.weight)).astype(dtype)
        sign = jnp.sign(dirs.weight).astype(dtype)
        t = dirs.combine(z * root)  # (num_samples, d), never forming dense unit vectors
        scale = jnp.full((self.num_samples,), 1.0 / self.num_samples, dtype)
        if _all_nonnegative(dirs.weight):
            return DenseDirections(t, scale)
        # D^2u[t, s] = (D^2u[(t+s)/2] - D^2u[(t-s)/2]) for the polarized bilinear form
        s = dirs.combine(z * root * sign)
        return DenseDirections(jnp.concatenate([(t + s) / 2, (t - s) / 2]), jnp.concatenate([scale, -scale]))

    def _biharmonic(self, op, key, dtype) -> DenseDirections:
        if self.distribution != "gaussian":
            raise ValueError(
                "the dense biharmonic estimator Lap^2 u = E[D^4u[v,v,v,v]]/3 needs Gaussian "
                "tangents: use DenseSTDE(num_samples, distribution='gaussian')."
            )
        axes = jnp.asarray(op.biharmonic_axes)
        z = jax.random.normal(key, (self.num_samples, axes.shape[0]), dtype=dtype)
        v = jnp.zeros((self.num_samples, op.dim), dtype).at[:, axes].set(z)
        weight = jnp.full((self.num_samples,), 1.0 / (3.0 * self.num_samples), dtype)
        scale = op.biharmonic_scale
        return DenseDirections(v, weight * scale)


def Hutchinson(num_samples: int, distribution: str = "rademacher") -> DenseSTDE:
    """Baseline Hutchinson trace estimator with Hessian-vector products:
    ``tr(A Hess u) ~ mean_k z_k^T Hess u z_k`` (forward-over-reverse HVPs)."""
    return DenseSTDE(num_samples, distribution, mode="hvp")


class ForwardLaplacian(AbstractBackend):
    """Baseline: folx's forward Laplacian (Li et al. 2023; ``folx.forward_laplacian``).

    Exact, for Laplacian-type operators only (``laplacian(d)`` and its multiples, plus
    first-order terms). Needs the optional dependency ``folx``.
    """

    sparsity_threshold: int = eqx.field(static=True, default=0)

    def _evaluate(self, op, u, x, key):
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
    """``op[u](x)`` with ``backend`` (default: :class:`Exact`)."""
    return (backend or Exact())(op, u, x, key)[1]


def two_draw_product(residual: Callable[[jax.Array], jax.Array], key: jax.Array) -> jax.Array:
    """Unbiased estimate of ``r^2`` from a randomized residual ``r(key)``.

    ``mean(r(key)^2)`` is biased upward by the estimator's variance; the product of two
    independent draws ``r(k1) r(k2)`` is not (STDE, Sec. 4.4): its expectation is
    ``E[r]^2`` and its gradient's expectation is ``2 E[r] E[dr]``.
    """
    check_key(key)
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
