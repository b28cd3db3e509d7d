"""Least squares and Gauss-Newton steps on lineax.

The Gauss-Newton / natural-gradient step of TENG (Chen et al., ICML 2024, Sec. 3) and of
Neural Galerkin methods solves ``min_delta |J delta - r|^2 (+ damping |delta|^2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Float, PyTree

from ._tree import ravel
from ._validate import check_one_of

LSTSQ_METHODS = ("svd", "qr", "normal_cholesky")


def least_squares(
    matrix: Float[Array, "m n"],
    rhs: Float[Array, " m"],
    *,
    damping: float | Array = 0.0,
    method: str = "svd",
    rcond: float | None = None,
) -> Float[Array, " n"]:
    """Minimum-norm solution of ``min_x |A x - b|^2 + damping |x|^2``.

    Args:
        matrix: ``A``, shape ``(m, n)``; over- or under-determined.
        rhs: ``b``, shape ``(m,)``.
        damping: Tikhonov / Levenberg-Marquardt parameter ``lambda >= 0``. Implemented by
            stacking ``sqrt(lambda) I`` under ``A`` (and zeros under ``b``), which keeps the
            conditioning of the augmented problem rather than squaring it.
        method: ``"svd"`` (rank-revealing, honours ``rcond``; default), ``"qr"`` (full rank
            only, faster), or ``"normal_cholesky"`` (normal equations; fastest, squares the
            condition number: use with damping > 0).
        rcond: relative cut-off for small singular values with ``method="svd"``.

    Returns:
        ``x``, shape ``(n,)``.
    """
    check_one_of(method, LSTSQ_METHODS, "method")
    if matrix.ndim != 2 or rhs.ndim != 1 or matrix.shape[0] != rhs.shape[0]:
        raise ValueError(
            f"least_squares needs A of shape (m, n) and b of shape (m,); got A {matrix.shape} "
            f"and b {rhs.shape}."
        )
    if not isinstance(damping, jax.core.Tracer) and float(damping) < 0:
        raise ValueError(f"`damping` must be >= 0, got {damping}.")
    n = matrix.shape[1]
    dtype = jnp.result_type(matrix, rhs)
    if method == "normal_cholesky":
        gram = matrix.T @ matrix + damping * jnp.eye(n, dtype=dtype)
        op = lx.MatrixLinearOperator(gram, lx.positive_semidefinite_tag)
        return lx.linear_solve(op, matrix.T @ rhs, solver=lx.Cholesky()).value
    if not (isinstance(damping, (int, float)) and damping == 0):
        matrix = jnp.concatenate([matrix, jnp.sqrt(damping) * jnp.eye(n, dtype=dtype)], axis=0)
        rhs = jnp.concatenate([rhs, jnp.zeros((n,), dtype=dtype)])
    op = lx.MatrixLinearOperator(matrix)
    if method == "qr":
        if matrix.shape[0] < n:
            raise ValueError(
                f"method='qr' needs at least as many rows as columns (got {matrix.shape}); "
                "use method='svd' or add damping."
            )
        solver: lx.AbstractLinearSolver = lx.QR()
    else:
        solver = lx.SVD(rcond=rcond)
    return lx.linear_solve(op, rhs, solver=solver).value


def gauss_newton_step(
    residual_fn: Callable[[PyTree], Float[Array, " m"]],
    params: PyTree,
    *,
    damping: float = 0.0,
    method: str = "svd",
    rcond: float | None = None,
) -> tuple[PyTree, Float[Array, ""]]:
    """One (damped) Gauss-Newton step for ``min_params |residual_fn(params)|^2``.

    Linearises ``r(theta + delta) ~ r + J delta`` and solves ``min |J delta + r|^2 +
    damping |delta|^2`` with :func:`least_squares`. Returns the new params and the squared
    residual norm before the step.
    """
    theta, unravel = ravel(params)

    def flat_residual(t):
        return residual_fn(unravel(t))

    r = flat_residual(theta)
    jac = jax.jacfwd(flat_residual)(theta) if theta.size <= r.size else jax.jacrev(flat_residual)(theta)
    delta = least_squares(jac, -r, damping=damping, method=method, rcond=rcond)
    return unravel(theta + delta), jnp.sum(r**2)
