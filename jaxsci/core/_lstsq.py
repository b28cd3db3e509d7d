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
    kernel: bool | None = None,
    throw: bool = True,
) -> LeastSquaresSolution:
    """Solve ``min_x |A x - b|^2 + damping |x|^2`` (the minimum-norm solution for SVD).

    With ``damping > 0`` the solve takes one of two equivalent forms (the push-through /
    Woodbury identity, as in Guzman-Cordero et al. 2025, arXiv:2505.12149, Eq. 5):

    * the parameter form ``x = (A^T A + lambda I_n)^{-1} A^T b``: ``sqrt(lambda) I_n`` is
      stacked under ``A`` (an ``(m + n, n)`` system);
    * the kernel (Woodbury) form ``x = A^T (A A^T + lambda I_m)^{-1} b``: ``sqrt(lambda) I_m``
      is appended to the right of ``A`` and ``x`` is the first ``n`` entries of the
      minimum-norm solution of ``[A, sqrt(lambda) I_m] [x; z] = b`` (an ``(m, n + m)``
      system; ``lineax.Normal`` then factorizes the ``m x m`` matrix ``A A^T + lambda I``).

    The kernel form is the cheap one when ``m < n`` (fewer residuals than parameters, the
    usual case of a Gauss-Newton step for a network).

    Args:
        matrix: ``A``, shape ``(m, n)``; over- or under-determined.
        rhs: ``b``, shape ``(m,)``.
        solver: a lineax solver: ``lineax.SVD(rcond=...)`` (rank-revealing, the default),
            ``lineax.QR()`` (full column rank only, faster) or
            ``lineax.Normal(lineax.Cholesky())`` (normal equations: fastest, squares the
            condition number; use it with ``damping > 0``).
        damping: Tikhonov / Levenberg-Marquardt parameter ``lambda >= 0``, applied by
            stacking ``sqrt(lambda) I`` under ``A`` (and zeros under ``b``), or beside it in
            the kernel form.
        kernel: the form of a damped solve: ``None`` (default) picks the kernel form when
            ``m < n``, ``True``/``False`` force the kernel/parameter form. Without damping
            the two are the same problem and this has no effect.
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
    if kernel is not None and not isinstance(kernel, bool):
        raise TypeError(f"`kernel` must be None, True or False, got {kernel!r}.")
    matrix, rhs = jnp.asarray(matrix), jnp.asarray(rhs)
    m, n = matrix.shape
    dtype = jnp.result_type(matrix, rhs)
    a, b = matrix.astype(dtype), rhs.astype(dtype)
    use_kernel = False
    if not (isinstance(damping, (int, float)) and damping == 0):
        damping = jnp.asarray(damping, dtype)
        use_kernel = m < n if kernel is None else kernel
        if use_kernel:
            a = jnp.concatenate([a, jnp.sqrt(damping) * jnp.eye(m, dtype=dtype)], axis=1)
        else:
            a = jnp.concatenate([a, jnp.sqrt(damping) * jnp.eye(n, dtype=dtype)], axis=0)
            b = jnp.concatenate([b, jnp.zeros((n,), dtype=dtype)])
    if isinstance(solver, lx.QR) and a.shape[0] < a.shape[1]:
        raise ValueError(
            f"lineax.QR() needs at least as many rows as columns (got A of shape {a.shape}); "
            "use lineax.SVD() or add damping (in the parameter form, kernel=False)."
        )
    # LAPACK's SVD can loop for a very long time on NaN/inf input: solve a zero system
    # instead and report the input as non-finite.
    bad_input = ~(jnp.all(jnp.isfinite(a)) & jnp.all(jnp.isfinite(b)))
    a = jnp.where(bad_input, jnp.zeros_like(a), a)
    b = jnp.where(bad_input, jnp.zeros_like(b), b)
    sol = lx.linear_solve(lx.MatrixLinearOperator(a), b, solver=solver, throw=False)
    x = sol.value[:n] if use_kernel else sol.value
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
