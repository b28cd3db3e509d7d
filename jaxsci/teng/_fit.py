"""Gauss-Newton least-squares fit of a network to target values at points."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxsci.core import jacobian_wrt_params, least_squares, ravel_model, sample_without_replacement


def gauss_newton_fit(
    model,
    points: Float[Array, "n d"],
    target: Float[Array, " n"],
    *,
    iterations: int = 5,
    damping: float = 0.0,
    rcond: float | None = None,
    num_columns: int | None = None,
    key: Array | None = None,
):
    """Fit ``model(points) ~ target`` by Gauss-Newton iterations (TENG, Chen et al. 2024, Alg. 1).

    Each iteration solves ``min_delta |J delta - (target - u)|^2 + damping |delta|^2`` with
    ``J = d u(points) / d theta`` (all columns, or ``num_columns`` random ones per
    iteration, which then needs ``key``).
    """
    theta, rebuild = ravel_model(model)

    def f(th, x):
        return rebuild(th)(x)

    def body(i, th):
        jac = jacobian_wrt_params(f, th, points)
        r = target - jax.vmap(lambda x: f(th, x))(points)
        if num_columns is None:
            return th + least_squares(jac, r, damping=damping, rcond=rcond)
        cols = sample_without_replacement(jax.random.fold_in(key, i), th.size, num_columns)
        d = least_squares(jac[:, cols], r, damping=damping, rcond=rcond)
        return th.at[cols].add(d)

    theta = jax.lax.fori_loop(0, iterations, body, theta)
    return rebuild(theta)


def rel_l2(pred: Array, ref: Array) -> Array:
    """Relative L2 error ``|pred - ref| / |ref|``."""
    return jnp.linalg.norm(pred - ref) / jnp.linalg.norm(ref)
