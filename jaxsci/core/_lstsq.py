"""Least squares and Gauss-Newton steps on lineax.

The Gauss-Newton / natural-gradient step of TENG (Chen et al., ICML 2024, Sec. 3) and of
Neural Galerkin methods solves ``min_delta |J delta - r|^2 (+ damping |delta|^2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Float, PyTree

from ._results import RESULTS, raise_if_failed
from ._tree import ravel


class LeastSquaresSolution(eqx.Module):
    """Solution of :func:`least_squares`: ``value`` (the ``x``), ``residual_norm``
    (``|A x - b|``) and a :class:`~jaxsci.core.RESULTS` code ``result``."""

    value: Float[Array, " n"]
    residual_norm: Float[Array, ""]
    result: RESULTS


def _check_solver(solver: Any) -> lx.AbstractLinearSolver:
    if solver is None:
        return lx.SVD()
    if isinstance(solver, str):
        raise TypeError(
            f"`solver` must be a lineax solver object, got the string {solver!r}: use "
            "`lineax.SVD(rcond=...)`, `lineax.QR()` or `lineax.Normal(lineax.Cholesky())`."
        )
    if not isinstance(solver, lx.AbstractLinearSolver):
        raise TypeError(
            "`solver` must be a `lineax.AbstractLinearSolver` (e.g. `lineax.SVD()`, "
            f"`lineax.QR()`, `lineax.Normal(lineax.Cholesky())`), got {type(solver).__name__}."
        )
    return solver


def least_squares(
    matrix: Float[Array, "m n"],
    rhs: Float[Array, " m"],
    *,
    solver: lx.AbstractLinearSolver | None = None,
    damping: float | Array = 0.0,
    throw: bool = True,
) -> LeastSquaresSolution:
    """Solve ``min_x |A x - b|^2 + damping |x|^2`` (the minimum-norm solution for SVD).

    Args:
        matrix: ``A``, shape ``(m, n)``; over- or under-determined.
        rhs: ``b``, shape ``(m,)``.
        solver: a lineax solver: ``lineax.SVD(rcond=...)`` (rank-revealing, the default),
            ``lineax.QR()`` (full column rank only, faster) or
            ``lineax.Normal(lineax.Cholesky())`` (normal equations: fastest, squares the
            condition number; use it with ``damping > 0``).
        damping: Tikhonov / Levenberg-Marquardt parameter ``lambda >= 0``, applied by
            stacking ``sqrt(lambda) I`` under ``A`` (and zeros under ``b``).
        throw: raise (inside jit too) if the solve failed; with ``False`` the failure is in
            ``result``: ``nonfinite_values`` (NaN/inf, e.g. a singular normal matrix in float32),
            ``rank_deficient`` (QR on a rank-deficient ``A``) or lineax's codes.

    Returns:
        A :class:`LeastSquaresSolution`.

    Example:
        >>> sol = least_squares(jnp.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]), jnp.array([1.0, 2.0, 3.0]))
        >>> sol.value.tolist()
        [1.0, 1.0]
    """
    solver = _check_solver(solver)
    if jnp.ndim(matrix) != 2 or jnp.ndim(rhs) != 1 or jnp.shape(matrix)[0] != jnp.shape(rhs)[0]:
        raise ValueError(
            f"least_squares needs A of shape (m, n) and b of shape (m,); got A "
            f"{jnp.shape(matrix)} and b {jnp.shape(rhs)}."
        )
    if not isinstance(damping, jax.core.Tracer) and not float(damping) >= 0:
        raise ValueError(f"`damping` must be a number >= 0, got {damping}.")
    matrix, rhs = jnp.asarray(matrix), jnp.asarray(rhs)
    n = matrix.shape[1]
    dtype = jnp.result_type(matrix, rhs)
    a, b = matrix.astype(dtype), rhs.astype(dtype)
    if not (isinstance(damping, (int, float)) and damping == 0):
        damping = jnp.asarray(damping, dtype)
        a = jnp.concatenate([a, jnp.sqrt(damping) * jnp.eye(n, dtype=dtype)], axis=0)
        b = jnp.concatenate([b, jnp.zeros((n,), dtype=dtype)])
    if isinstance(solver, lx.QR) and a.shape[0] < n:
        raise ValueError(
            f"lineax.QR() needs at least as many rows as columns (got A of shape {a.shape}); "
            "use lineax.SVD() or add damping."
        )
    # LAPACK's SVD can loop for a very long time on NaN/inf input: solve a zero system
    # instead and report the input as non-finite.
    bad_input = ~(jnp.all(jnp.isfinite(a)) & jnp.all(jnp.isfinite(b)))
    a = jnp.where(bad_input, jnp.zeros_like(a), a)
    b = jnp.where(bad_input, jnp.zeros_like(b), b)
    sol = lx.linear_solve(lx.MatrixLinearOperator(a), b, solver=solver, throw=False)
    x = sol.value
    result = RESULTS.promote(sol.result)
    if isinstance(solver, lx.QR):
        diag = jnp.abs(jnp.diagonal(jnp.linalg.qr(a, mode="r")))
        tol = jnp.finfo(dtype).eps * max(a.shape) * jnp.max(diag)
        result = RESULTS.where(jnp.min(diag) <= tol, RESULTS.rank_deficient, result)
    result = RESULTS.where(bad_input, RESULTS.nonfinite_values, result)
    bad = ~jnp.all(jnp.isfinite(x))
    result = RESULTS.where(bad & (result == RESULTS.successful), RESULTS.nonfinite_values, result)
    x = raise_if_failed(x, result, throw)
    return LeastSquaresSolution(x, jnp.linalg.norm(matrix @ x - rhs), result)


def gauss_newton_step(
    residual_fn: Callable[[PyTree], Float[Array, " m"]],
    params: PyTree,
    *,
    solver: lx.AbstractLinearSolver | None = None,
    damping: float = 0.0,
) -> tuple[PyTree, Float[Array, ""]]:
    """One (damped) Gauss-Newton step for ``min_params |residual_fn(params)|^2``.

    Linearises ``r(theta + delta) ~ r + J delta`` and solves ``min |J delta + r|^2 +
    damping |delta|^2`` with :func:`least_squares` (``solver`` as there). Returns the new params and the squared
    residual norm before the step.
    """
    theta, unravel = ravel(params)

    def flat_residual(t):
        return residual_fn(unravel(t))

    r = flat_residual(theta)
    jac = jax.jacfwd(flat_residual)(theta) if theta.size <= r.size else jax.jacrev(flat_residual)(theta)
    delta = least_squares(jac, -r, solver=solver, damping=damping).value
    return unravel(theta + delta), jnp.sum(r**2)
