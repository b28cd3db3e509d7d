"""PINN losses as pure functions of (network, points, key)."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..internal import check_key
from ..pde import PDEProblem
from ..taylor import AbstractBackend, Exact


def _check_points(points, dim: int, name: str = "points") -> None:
    if not hasattr(points, "shape") or points.ndim != 2 or points.shape[1] != dim:
        shape = getattr(points, "shape", type(points).__name__)
        raise ValueError(
            f"`{name}` must be an array of shape (n, {dim}) (n points of the problem's domain), "
            f"got {shape}."
        )
    if points.shape[0] == 0:
        raise ValueError(f"`{name}` is empty: pass at least one point.")


def pointwise_residuals(
    problem: PDEProblem,
    u: Callable,
    points: Float[Array, "n d"],
    backend: AbstractBackend | None = None,
    key: jax.Array | None = None,
) -> Float[Array, " n"]:
    """``R[u](x_i)`` at every point, each operator evaluated by ``backend``.

    Stochastic backends get an independent key per point and per operator.
    """
    if not isinstance(problem, PDEProblem):
        raise TypeError(f"`problem` must be a jaxsci.pde.PDEProblem, got {type(problem).__name__}.")
    _check_points(points, problem.dim)
    backend = backend if backend is not None else Exact()
    if not isinstance(backend, AbstractBackend):
        raise TypeError(
            f"`backend` must be a jaxsci.taylor backend (e.g. taylor.SparseSTDE(16)), got "
            f"{type(backend).__name__}."
        )
    n, num_ops = points.shape[0], len(problem.operators)
    if backend.stochastic:
        if key is None:
            raise TypeError("a stochastic backend needs a PRNG `key`: pass key=jax.random.key(seed).")
        check_key(key)
        keys = jax.random.split(key, n * num_ops).reshape(n, num_ops)
    else:
        keys = None

    def at(x, point_keys):
        values, u_x = [], None
        for j, op in enumerate(problem.operators):
            k = None if point_keys is None else point_keys[j]
            u_x, value = backend(op, u, x, k)
            values.append(value)
        return problem.residual(x, u_x, tuple(values))

    if keys is None:
        return jax.vmap(lambda x: at(x, None))(points)
    return jax.vmap(at)(points, keys)


def residual_loss(
    problem: PDEProblem,
    u: Callable,
    points: Float[Array, "n d"],
    backend: AbstractBackend | None = None,
    key: jax.Array | None = None,
    *,
    unbiased: bool = False,
) -> Float[Array, ""]:
    """Mean squared PDE residual over ``points``.

    With ``unbiased=True`` (for stochastic backends) the square is replaced by the product
    of two independent draws, ``mean_i R_i(k1) R_i(k2)``, whose expectation is the squared
    exact residual (STDE, Sec. 4.4); the plain mean square is biased upward by the
    estimator's variance.
    """
    if unbiased:
        if key is None:
            raise TypeError("unbiased=True draws two independent estimates and needs a PRNG `key`.")
        check_key(key)
        k1, k2 = jax.random.split(key)
        r1 = pointwise_residuals(problem, u, points, backend, k1)
        r2 = pointwise_residuals(problem, u, points, backend, k2)
        return jnp.mean(r1 * r2)
    return jnp.mean(pointwise_residuals(problem, u, points, backend, key) ** 2)


def data_loss(u: Callable, points: Float[Array, "n d"], values: Float[Array, " n"]) -> Float[Array, ""]:
    """Mean squared mismatch ``mean (u(x_i) - values_i)^2``: boundary and initial losses."""
    if points.ndim != 2 or values.shape != points.shape[:1]:
        raise ValueError(
            f"data_loss needs points (n, d) and values (n,), got {points.shape} and {values.shape}."
        )
    if points.shape[0] == 0:
        raise ValueError("`points` is empty: pass at least one point.")
    return jnp.mean((jax.vmap(u)(points) - values) ** 2)


def relative_l2(u: Callable, reference: Callable | Float[Array, " n"], points: Float[Array, "n d"]) -> Float[Array, ""]:
    """``|u - u*|_2 / |u*|_2`` over ``points``.

    ``reference`` is a function ``u*(x)`` of one point or its values at ``points`` (a JAX
    or NumPy array, or a list, of shape ``(n,)``, or the shape ``jax.vmap(u)`` returns). A
    reference that is zero at every point makes the relative error undefined: a
    ``ValueError`` (``equinox.error_if`` when traced under ``jax.jit``); use the absolute
    error ``jnp.linalg.norm(pred - ref)`` for such a solution.

    Example:
        >>> import jax.numpy as jnp, numpy as np
        >>> from jaxsci import pinn
        >>> x = jnp.linspace(0.0, 1.0, 5)[:, None]
        >>> float(pinn.relative_l2(lambda p: 2 * p[0], np.asarray(2 * x[:, 0]), x))
        0.0
    """
    if not callable(u):
        raise TypeError(f"`u` must be a function of one point, got {type(u).__name__}.")
    pred = jax.vmap(u)(points)
    if callable(reference):
        ref = jax.vmap(reference)(points)
    else:
        ref = jnp.asarray(reference)
    dtype = jnp.promote_types(pred.dtype, ref.dtype)  # e.g. float64 NumPy values, float32 u
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = jnp.zeros(()).dtype
    pred, ref = pred.astype(dtype), ref.astype(dtype)
    if ref.shape != pred.shape:
        raise ValueError(
            f"relative_l2: the reference has shape {ref.shape} but u at the {points.shape[0]} "
            f"points gives {pred.shape}; pass one reference value per point (or a function)."
        )
    norm = jnp.linalg.norm(ref)
    message = ("relative_l2: the reference is zero at every point, so the relative error is "
               "undefined; use the absolute error jnp.linalg.norm(pred - ref) instead.")
    if isinstance(norm, jax.core.Tracer):
        norm = eqx.error_if(norm, norm == 0, message)
    elif float(norm) == 0.0:
        raise ValueError(message)
    return jnp.linalg.norm(pred - ref) / norm


def hard_constrained(problem: PDEProblem, net: Callable) -> Callable:
    """The network wrapped by the problem's exact boundary/initial-condition ansatz."""
    return problem.hard_constraint(net)


__all__ = ["data_loss", "hard_constrained", "pointwise_residuals", "relative_l2", "residual_loss"]
