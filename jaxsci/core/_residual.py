"""Least-squares losses built from pointwise residuals, for Gauss-Newton-type optimizers.

A :class:`ResidualLoss` is a scalar loss (it works with any optax optimizer through
:func:`jaxsci.core.fit`) that also exposes its residual vector and the Jacobian of that
vector with respect to the model's parameters, row by row (one reverse-mode pass per
point, not one per residual of the whole batch). :func:`jaxsci.core.fit` hands it to the
optimizer as ``value_fn`` (a :class:`ResidualObjective`), so that Gauss-Newton / natural
gradient transformations can build the step ``J^+ r`` while L-BFGS's line search sees a
plain objective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from ._random import as_key
from ._tree import ravel
from ._vmap import chunked_vmap


def _term_keys(key, j: int, n: int):
    if key is None:
        return None
    return jax.random.split(jax.random.fold_in(as_key(key), j), n)


class ResidualLoss(eqx.Module):
    """``L(model) = sum_j w_j mean_i r_j(model, x_ji)^2`` from pointwise residual terms.

    Each term ``r_j(model, x, key=key) -> scalar`` is a residual at one point (the PDE residual
    in the interior, ``u - g`` on the boundary, ...); the batch is a tuple of point arrays,
    one per term (a single array when there is one term). The weighted residual vector is
    ``r = concat_j sqrt(w_j / n_j) r_j(x_j.)`` so that ``L = |r|^2``, the objective of the
    Gauss-Newton / energy natural gradient step (Mueller & Zeinhofer, ICML 2023, Sec. 3:
    for a quadratic energy the ENGD Gramian is ``J^T J`` of this vector).

    Args:
        terms: the pointwise residual functions ``(model, x, key) -> scalar``.
        weights: one positive weight per term (default: all 1).
        chunk_size: rows of the Jacobian computed at once (bounds memory; ``None``: all).

    Keys: term ``j`` at point ``i`` gets ``split(fold_in(key, j), n_j)[i]`` (or ``None``
    without a key), the same in :meth:`residuals`, :meth:`__call__` and :meth:`jacobian`.

    Example:
        >>> loss = ResidualLoss(lambda m, x, key: m["a"] * x[0] - 1.0)
        >>> model, x = {"a": jnp.array(0.5)}, jnp.array([[1.0], [2.0]])
        >>> round(float(loss(model, x)), 6)  # mean of (-0.5)^2 and 0^2
        0.125
        >>> r, jac = loss.jacobian(model, x)
        >>> print(jnp.round(jac[:, 0], 4))  # sqrt(1/2) * d(a x - 1)/da
        [0.7071 1.4142]
    """

    terms: tuple[Callable[..., Array], ...]
    weights: tuple[float, ...] = eqx.field(static=True)
    chunk_size: int | None = eqx.field(static=True)

    def __init__(self, *terms: Callable[..., Array], weights: Sequence[float] | None = None,
                 chunk_size: int | None = None):
        if not terms:
            raise ValueError("ResidualLoss needs at least one residual term (model, x, key) -> scalar.")
        for t in terms:
            if not callable(t):
                raise TypeError(
                    f"every residual term must be a callable (model, x, key) -> scalar, got "
                    f"{type(t).__name__}."
                )
        if weights is None:
            weights = (1.0,) * len(terms)
        weights = tuple(weights)
        if len(weights) != len(terms):
            raise ValueError(f"`weights` needs one weight per term ({len(terms)}), got {len(weights)}.")
        for w in weights:
            if isinstance(w, bool) or not np.isscalar(w) or not (np.isfinite(w) and w > 0):
                raise ValueError(f"every weight must be a finite number > 0, got {w!r}.")
        if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                       or chunk_size < 1):
            raise ValueError(f"`chunk_size` must be None or a positive integer, got {chunk_size!r}.")
        self.terms = tuple(terms)
        self.weights = tuple(float(w) for w in weights)
        self.chunk_size = chunk_size

    def _parts(self, batch) -> tuple:
        parts = (batch,) if len(self.terms) == 1 and not isinstance(batch, (tuple, list)) else batch
        if not isinstance(parts, (tuple, list)) or len(parts) != len(self.terms):
            raise ValueError(
                f"the batch of a ResidualLoss with {len(self.terms)} terms must be a tuple of "
                f"{len(self.terms)} point arrays (one per term), got {type(batch).__name__}"
                + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "") + "."
            )
        for x in parts:
            if jnp.ndim(x) != 2:
                raise ValueError(f"every point array must have shape (n, d), got {jnp.shape(x)}.")
        return tuple(parts)

    def residuals(self, model: Any, batch: PyTree, *, key: Array | None = None) -> Float[Array, " m"]:
        """The weighted residual vector ``r`` (``L = |r|^2``)."""
        out = []
        for j, (term, w, x) in enumerate(zip(self.terms, self.weights, self._parts(batch))):
            n = x.shape[0]
            keys = _term_keys(key, j, n)
            fn = lambda xi, ki, term=term: term(model, xi, key=ki)
            values = jax.vmap(fn)(x, keys) if keys is not None else jax.vmap(lambda xi, term=term: term(model, xi, key=None))(x)
            out.append(jnp.sqrt(jnp.asarray(w / n, values.dtype)) * values)
        return jnp.concatenate(out)

    def __call__(self, model: Any, batch: PyTree, *, key: Array | None = None) -> Float[Array, ""]:
        """``L = |r|^2`` (each term's mean square, weighted)."""
        r = self.residuals(model, batch, key=key)
        return jnp.sum(r**2)

    def jacobian(self, model: Any, batch: PyTree, *, key: Array | None = None
                 ) -> tuple[Float[Array, " m"], Float[Array, "m n"]]:
        """``(r, J)``: the residual vector and its Jacobian with respect to the model's
        floating-point arrays flattened by :func:`jaxsci.core.ravel` (of
        ``eqx.partition(model, eqx.is_inexact_array)[0]``), one reverse-mode pass per row."""
        params, static = eqx.partition(model, eqx.is_inexact_array)
        return _residual_jacobian(self, params, static, batch, key)


def _combine(params, static):
    return params if static is None else eqx.combine(params, static)


def _residual_jacobian(loss: ResidualLoss, params, static, batch, key):
    theta, unravel = ravel(params)
    rows, values = [], []
    for j, (term, w, x) in enumerate(zip(loss.terms, loss.weights, loss._parts(batch))):
        n = x.shape[0]
        keys = _term_keys(key, j, n)

        def one(th, xi, ki, term=term):
            return term(_combine(unravel(th), static), xi, key=ki)

        def row(xi, ki, one=one):
            value, grad = jax.value_and_grad(one)(theta, xi, ki)
            return value, grad

        if keys is None:
            v, g = chunked_vmap(lambda xi, row=row: row(xi, None), chunk_size=loss.chunk_size)(x)
        else:
            v, g = chunked_vmap(row, chunk_size=loss.chunk_size)(x, keys)
        scale = jnp.sqrt(jnp.asarray(w / n, v.dtype))
        values.append(scale * v)
        rows.append(scale * g)
    return jnp.concatenate(values), jnp.concatenate(rows, axis=0)


class ResidualObjective:
    """The objective :func:`jaxsci.core.fit` gives an optimizer as ``value_fn`` when the
    loss is a :class:`ResidualLoss`: called on the parameters it is the scalar loss (for
    optax's line searches); :meth:`residuals` and :meth:`jacobian` give ``r`` and ``(r, J)``
    (``J`` with respect to ``jaxsci.core.ravel(params)``) to Gauss-Newton-type optimizers.

    Example:
        >>> loss = ResidualLoss(lambda m, x, key: m["a"] * x[0])
        >>> objective = ResidualObjective(loss, None, jnp.ones((4, 1)))
        >>> round(float(objective({"a": jnp.array(2.0)})), 6)
        4.0
    """

    def __init__(self, loss: ResidualLoss, static: Any, batch: PyTree, *, key: Array | None = None):
        self.loss, self.static, self.batch, self.key = loss, static, batch, key

    def __call__(self, params: PyTree) -> Float[Array, ""]:
        return self.loss(_combine(params, self.static), self.batch, key=self.key)

    def residuals(self, params: PyTree) -> Float[Array, " m"]:
        """The weighted residual vector at ``params``."""
        return self.loss.residuals(_combine(params, self.static), self.batch, key=self.key)

    def jacobian(self, params: PyTree) -> tuple[Float[Array, " m"], Float[Array, "m n"]]:
        """``(r, J)`` at ``params``."""
        return _residual_jacobian(self.loss, params, self.static, self.batch, self.key)
