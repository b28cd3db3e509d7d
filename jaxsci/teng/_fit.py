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
    adaptive: bool = False,
):
    """Fit ``model(points) ~ target`` by Gauss-Newton iterations (TENG, Chen et al. 2024, Alg. 1).

    Each iteration solves ``min_delta |J delta - (target - u)|^2 + damping |delta|^2`` with
    ``J = d u(points) / d theta`` (all columns, or ``num_columns`` random ones per
    iteration, which then needs ``key``).

    With ``adaptive=True`` it is Levenberg-Marquardt (More 1978): the damping is ``damping``
    (the starting value, > 0) times the mean squared column norm of ``J``; a step is kept only
    if it lowers the squared residual, and the factor is divided by 3 after a kept step and
    multiplied by 4 after a rejected one, so the residual never grows. Plain Gauss-Newton steps can diverge on networks of a few hundred parameters
    started far from the target; the adaptive form converges monotonically.
    """
    theta, rebuild = ravel_model(model)

    def f(th, x):
        return rebuild(th)(x)

    def residual(th):
        return target - jax.vmap(lambda x: f(th, x))(points)

    def proposal(i, th, lam, relative=False):
        jac = jacobian_wrt_params(f, th, points)
        r = residual(th)
        if relative:  # Marquardt's scaling: damping relative to the mean squared column norm
            lam = lam * jnp.mean(jnp.sum(jac**2, axis=0))
        if num_columns is None:
            return th + least_squares(jac, r, damping=lam, rcond=rcond), r
        cols = sample_without_replacement(jax.random.fold_in(key, i), th.size, num_columns)
        d = least_squares(jac[:, cols], r, damping=lam, rcond=rcond)
        return th.at[cols].add(d), r

    if not adaptive:
        theta = jax.lax.fori_loop(0, iterations, lambda i, th: proposal(i, th, damping)[0], theta)
        return rebuild(theta)

    def lm_body(i, carry):
        th, lam = carry
        new, r = proposal(i, th, lam, relative=True)
        better = jnp.sum(residual(new) ** 2) < jnp.sum(r**2)
        th = jnp.where(better, new, th)
        lam = jnp.clip(jnp.where(better, lam / 3.0, lam * 4.0), 1e-15, 1e8)
        return th, lam

    theta, _ = jax.lax.fori_loop(0, iterations, lm_body, (theta, jnp.asarray(damping, theta.dtype)))
    return rebuild(theta)


def rel_l2(pred: Array, ref: Array) -> Array:
    """Relative L2 error ``|pred - ref| / |ref|``."""
    return jnp.linalg.norm(pred - ref) / jnp.linalg.norm(ref)
