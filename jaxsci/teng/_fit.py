"""Least-squares fits of a network to target values at points: Gauss-Newton (the inner loop
of a TENG step) and Levenberg-Marquardt with variable projection (the initial condition)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..core import jacobian_wrt_params, least_squares, ravel_model, sample_without_replacement
from ..internal import check_finite, check_positive_int


def _check_fit_inputs(points, target) -> None:
    if np.ndim(points) != 2:
        raise ValueError(f"`points` must have shape (n, d), got {np.shape(points)}.")
    if np.shape(target) != (np.shape(points)[0],):
        raise ValueError(
            f"`target` must have shape (n,) = ({np.shape(points)[0]},) to match `points`, "
            f"got {np.shape(target)}."
        )


def _flat(model, points):
    theta, rebuild = ravel_model(model)

    def values(th):
        return jax.vmap(rebuild(th))(points)

    return theta, rebuild, values


def relative_lstsq(jac, rhs, *, method="svd", rcond=None, damping=0.0):
    """``jaxsci.core.least_squares`` with the damping relative to ``|J|_F^2``."""
    lam = damping * jnp.sum(jac**2) if damping else 0.0
    return least_squares(jac, rhs, method=method, rcond=rcond, damping=lam)


def gauss_newton_fit(
    model,
    points: Float[Array, "n d"],
    target: Float[Array, " n"],
    *,
    iterations: int = 5,
    method: str = "svd",
    rcond: float | None = None,
    damping: float = 0.0,
    num_columns: int | None = None,
    key: Array | None = None,
):
    """Fit ``model(points) ~ target`` by Gauss-Newton iterations (Chen et al. 2024, Alg. 1).

    Each iteration solves ``min_delta |J delta - (target - u)|^2 + lam |delta|^2`` with
    ``J = d u(points) / d theta`` (``jaxsci.core.jacobian_wrt_params``) by
    ``jaxsci.core.least_squares`` and sets ``theta <- theta + delta``. With ``num_columns`` only
    that many randomly chosen parameters (fresh per iteration, from ``key``) are updated, as in
    the TENG reference setting and RSNG (Berman & Peherstorfer 2023).

    Args:
        model: equinox module ``x -> scalar``; its floating arrays are the parameters.
        points: ``(n, d)`` sample points.
        target: ``(n,)`` values to fit.
        iterations: number of Gauss-Newton iterations.
        method: least-squares solver of ``jaxsci.core.least_squares``: ``"svd"`` (honours
            ``rcond``), ``"qr"`` or ``"normal_cholesky"`` (fastest; needs ``damping > 0``).
        rcond: relative singular-value cut-off for ``"svd"``.
        damping: relative Tikhonov damping ``lam = damping * |J|_F^2`` (``|J|_F^2 >= s_max^2``,
            so ``damping`` is about the squared singular-value cut-off; with
            ``"normal_cholesky"`` keep it >= 1e-13 in float64 so the Gram matrix stays
            positive definite in floating point).
        num_columns: random subset size of parameter columns per iteration (needs ``key``).
        key: PRNG key, used only with ``num_columns``.

    Returns:
        The fitted model (same structure as ``model``).

    Example:
        >>> net = gauss_newton_fit(net, pts, target, iterations=3, rcond=1e-12)
    """
    check_positive_int(iterations, "iterations")
    _check_fit_inputs(points, target)
    theta, rebuild, values = _flat(model, points)

    def body(i, th):
        r = target - values(th)
        jac = jacobian_wrt_params(lambda t, x: rebuild(t)(x), th, points)
        if num_columns is None:
            return th + relative_lstsq(jac, r, method=method, rcond=rcond, damping=damping)
        cols = sample_without_replacement(th.size, num_columns, key=jax.random.fold_in(key, i))
        d = relative_lstsq(jac[:, cols], r, method=method, rcond=rcond, damping=damping)
        return th.at[cols].add(d)

    theta = jax.lax.fori_loop(0, iterations, body, theta)
    theta = check_finite(theta, "gauss_newton_fit produced non-finite parameters; add damping "
                         "or an rcond, or use fewer columns.")
    return rebuild(theta)


def project_readout(model, points: Float[Array, "n d"], target: Float[Array, " n"]):
    """Set the linear read-out of ``model`` to its least-squares optimum for ``target``.

    Needs ``model.features(x)`` and ``model.with_readout(weight, bias)`` (as
    :class:`PeriodicMLP` has). This is the variable projection of Golub & Pereyra (SIAM J.
    Numer. Anal. 1973): the output is linear in the read-out, so it is solved exactly.
    """
    feats = jax.vmap(model.features)(points)
    design = jnp.concatenate([feats, jnp.ones((feats.shape[0], 1), feats.dtype)], axis=1)
    eps = jnp.finfo(feats.dtype).eps
    coef = least_squares(design, target, rcond=float(10 * eps * max(design.shape)))
    return model.with_readout(coef[:-1], coef[-1])


def levenberg_marquardt_fit(
    model,
    points: Float[Array, "n d"],
    target: Float[Array, " n"],
    *,
    iterations: int = 200,
    damping: float = 1e-2,
    projection: bool = True,
):
    """Fit ``model(points) ~ target`` to high precision from a random start.

    Levenberg-Marquardt (More, Lecture Notes in Math. 630, 1978) with one SVD
    ``J = U diag(s) V^T`` per iteration: the steps ``V diag(s / (s^2 + lam)) U^T r`` for
    ``lam = mu s_max^2`` with ``mu`` times 0.1, 1 and 10 are all tried, the best is kept if
    it lowers the squared residual (else ``mu`` grows 100-fold), and ``mu`` follows the kept
    one. With ``projection`` (and a model with a linear read-out, see :func:`project_readout`)
    the read-out is re-solved exactly after every trial step (variable projection), which
    speeds the fit up by an order of magnitude or more on :class:`PeriodicMLP`.

    Args:
        model, points, target: as :func:`gauss_newton_fit`.
        iterations: LM iterations.
        damping: the starting relative damping ``mu``.
        projection: re-solve the linear read-out after every step if the model allows.

    Returns:
        ``(model, rel_residual)``: the fitted model and ``|target - u| / |target|`` at the points.

    Example:
        >>> net, err = levenberg_marquardt_fit(net, pts, problem.initial(pts), iterations=300)
    """
    check_positive_int(iterations, "iterations")
    _check_fit_inputs(points, target)
    project = projection and hasattr(model, "features") and hasattr(model, "with_readout")
    if project:
        model = project_readout(model, points, target)
    theta, rebuild, values = _flat(model, points)

    def polish(th):
        return ravel_model(project_readout(rebuild(th), points, target))[0] if project else th

    def sq_res(th):
        return jnp.sum((target - values(th)) ** 2)

    factors = jnp.asarray([0.1, 1.0, 10.0], theta.dtype)

    def body(_, carry):
        th, mu, cost = carry
        r = target - values(th)
        jac = jacobian_wrt_params(lambda t, x: rebuild(t)(x), th, points)
        u, s, vt = jnp.linalg.svd(jac, full_matrices=False)
        ur = u.T @ r

        def trial(f):
            lam = mu * f * s[0] ** 2
            new = polish(th + vt.T @ ((s / (s**2 + lam)) * ur))
            return new, sq_res(new)

        news, costs = jax.lax.map(trial, factors)
        costs = jnp.where(jnp.isfinite(costs), costs, jnp.inf)
        best = jnp.argmin(costs)
        better = costs[best] < cost
        th = jnp.where(better, news[best], th)
        mu = jnp.where(better, mu * factors[best], mu * 100.0)
        return th, jnp.clip(mu, 1e-20, 1e10), jnp.where(better, costs[best], cost)

    init = (theta, jnp.asarray(damping, theta.dtype), sq_res(theta))
    theta, _, cost = jax.lax.fori_loop(0, iterations, body, init)
    return rebuild(theta), jnp.sqrt(cost) / jnp.linalg.norm(target)


def rel_l2(pred: Array, ref: Array) -> Array:
    """Relative L2 error ``|pred - ref| / |ref|``."""
    return jnp.linalg.norm(pred - ref) / jnp.linalg.norm(ref)
