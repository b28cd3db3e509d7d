"""Result codes shared by every solve, fit, sample and training run in jaxsci.

Follows diffrax and lineax: a run returns an ``eqx.Module`` whose ``result`` field is an item
of :class:`RESULTS`; with ``throw=True`` (the default everywhere) a failure raises inside jit
with the item's message, with ``throw=False`` the code is returned so that one failing member
of a ``jax.vmap`` does not stop the others.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, PyTree


class RESULTS(diffrax.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
    """Outcome of a jaxsci run; includes every diffrax, optimistix and lineax code, so
    ``RESULTS.promote(diffrax_solution.result)`` keeps a diffrax failure visible."""

    successful = ""
    nonfinite_values = (
        "A NaN or infinity appeared. Check the inputs for NaN/inf, lower the step size or "
        "learning rate, or run in float64 (`jax.config.update('jax_enable_x64', True)`)."
    )
    rank_deficient = (
        "The least-squares matrix is rank deficient, so a QR solve is not the minimum-norm "
        "solution. Use `lineax.SVD()` (optionally with `rcond`) or add `damping`."
    )
    budget_exhausted = "The run stopped at its wall-time budget before its last step."


def nonfinite(tree: PyTree) -> Bool[Array, ""]:
    """True if any floating-point leaf of ``tree`` holds a NaN or infinity."""
    leaves = [jnp.asarray(x) for x in _inexact_leaves(tree)]
    if not leaves:
        return jnp.asarray(False)
    return jnp.any(jnp.stack([~jnp.all(jnp.isfinite(x)) for x in leaves]))


def _inexact_leaves(tree: PyTree) -> list:
    return [x for x in jax.tree_util.tree_leaves(tree) if eqx.is_inexact_array(x)]


def result_where(pred: Bool[Array, "*batch"], failure: RESULTS, otherwise: RESULTS) -> RESULTS:
    """``failure`` where ``pred`` holds, else ``otherwise``, for a predicate of any shape."""
    pred = jnp.asarray(pred)
    fn = lambda p: RESULTS.where(p, failure, otherwise)
    for _ in range(pred.ndim):
        fn = jax.vmap(fn)
    return fn(pred)


def raise_if_failed(value: PyTree, result: RESULTS, throw: bool) -> PyTree:
    """With ``throw``, raise ``result``'s message (inside jit too) unless it is successful."""
    if not throw:
        return value
    return result.error_if(value, result != RESULTS.successful)
