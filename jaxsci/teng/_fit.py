"""Fit strategies: least-squares fits of a network to target values at points.

:class:`GaussNewton` is the inner loop of a TENG step (Chen et al., ICML 2024, Alg. 1),
:class:`LevenbergMarquardt` with variable projection fits the initial condition, and
:class:`OptaxFit` is the first-order fit of the OBTI baseline. Every fit is an
``equinox.Module`` called as ``fit(model, points, target, *, key=None, throw=True)`` and
returns a :class:`FitSolution`.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
from jaxtyping import Array, Float, Int

from ..core import (
    RESULTS,
    jacobian_wrt_params,
    least_squares,
    num_params,
    ravel_model,
    relative_l2,
    sample_without_replacement,
)
from ..internal import check_key, check_positive_int, make_step, nonfinite, run_progress
from ._boundary import check_rows
from ._network import AbstractLinearReadout


class FitSolution(eqx.Module):
    """What a fit returns.

    Attributes:
        model: the fitted model (same structure as the model passed in).
        residual: ``|target - u(points)| / |target|`` after the fit.
        iterations: iterations (or optimizer steps) taken.
        result: a :class:`jaxsci.core.RESULTS` code (``successful``, ``nonfinite_values``
            or the least-squares solver's failure).
    """

    model: Any
    residual: Float[Array, ""]
    iterations: Int[Array, ""]
    result: RESULTS


def _check_fit_inputs(model, points, target) -> None:
    if not callable(model):
        raise TypeError(f"`model` must be a callable x -> scalar, got {type(model).__name__}.")
    if np.ndim(points) != 2:
        raise ValueError(f"`points` must have shape (n, d), got {np.shape(points)}.")
    if np.shape(target) != (np.shape(points)[0],):
        raise ValueError(
            f"`target` must have shape (n,) = ({np.shape(points)[0]},) to match `points`, "
            f"got {np.shape(target)}."
        )
    for x, name in ((points, "points"), (target, "target")):
        dtype = jnp.result_type(x)
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(f"`{name}` must be floating-point, got dtype {dtype}; use "
                            f"`{name}.astype(float)`.")
    if not isinstance(target, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(target))):
        raise ValueError("`target` contains NaN/inf; check the initial condition or the "
                         "targets for NaN/inf.")


def _flat(model, points):
    theta, rebuild = ravel_model(model)

    def values(th):
        return jax.vmap(rebuild(th))(points)

    return theta, rebuild, values


def _start_result(theta, target) -> RESULTS:
    bad = nonfinite(theta) | nonfinite(target)
    return RESULTS.where(bad, RESULTS.nonfinite_values, RESULTS.successful)


def _keep_first_failure(result: RESULTS, new: RESULTS) -> RESULTS:
    return RESULTS.where(result == RESULTS.successful, new, result)


def _check_solver(solver) -> None:
    if isinstance(solver, str):
        raise TypeError(
            f"`solver` must be a lineax solver object, got the string {solver!r}: use "
            "`lineax.Normal(lineax.Cholesky())`, `lineax.SVD(rcond=1e-6)` or `lineax.QR()`."
        )
    if not isinstance(solver, lx.AbstractLinearSolver):
        raise TypeError(
            "`solver` must be a `lineax.AbstractLinearSolver` (e.g. `lineax.SVD(rcond=1e-6)` "
            f"or `lineax.Normal(lineax.Cholesky())`), got {type(solver).__name__}."
        )


def _check_damping(damping) -> None:
    if isinstance(damping, jax.core.Tracer):
        return
    if isinstance(damping, bool) or not np.isscalar(damping) or not (
            np.isfinite(damping) and damping >= 0):
        raise ValueError(f"`damping` must be a finite number >= 0, got {damping!r}.")


def check_random_columns(owner: str, num_columns: int, size: int, key):
    """The checks of a random-column update (RSNG): a ``key`` is given and ``num_columns``
    does not exceed the ``size`` parameters. Returns the checked key."""
    if key is None:
        raise TypeError(f"{owner} updates random columns, so `key` is required: pass "
                        "key=jax.random.key(seed) (to evolve or the step).")
    if num_columns > size:
        raise ValueError(f"`num_columns`={num_columns} exceeds the model's {size} "
                         "parameters; use fewer columns or num_columns=None.")
    return check_key(key)


def relative_lstsq(jac, rhs, solver, damping):
    """``jaxsci.core.least_squares`` with the damping relative to ``|J|_F^2`` (no throw)."""
    lam = damping * jnp.sum(jac**2) if damping else 0.0
    return least_squares(jac, rhs, solver=solver, damping=lam, throw=False)


def solver_failure_message(what: str, solver, damping, dtype) -> str:
    """The message of a failed least-squares fit: names the setting and the fix."""
    msg = (f"{what} failed: a NaN/inf or a failed least-squares solve (solver={solver!r}, "
           f"damping={damping!r}, {jnp.dtype(dtype).name}). Check the network's parameters "
           "and the targets for NaN/inf.")
    if isinstance(solver, lx.Normal) and jnp.dtype(dtype) != jnp.float64:
        msg += (" The normal equations (lineax.Normal(lineax.Cholesky())) with a small damping "
                "need float64: call jax.config.update(\"jax_enable_x64\", True) before building "
                "the network (or build it with dtype=jnp.float64); in float32 use "
                "solver=lineax.SVD(rcond=1e-4) or a damping >= 1e-6.")
    else:
        msg += " Add damping, or use lineax.SVD(rcond=...) with a larger rcond."
    return msg


class AbstractFit(eqx.Module):
    """A fit strategy: ``fit(model, points, target, *, key=None, throw=True) -> FitSolution``
    fits ``model(points) ~ target`` starting from ``model``."""

    @abc.abstractmethod
    def __call__(self, model, points: Float[Array, "n d"], target: Float[Array, " n"], *,
                 key: Array | None = None, throw: bool = True, rows=None) -> FitSolution:
        """Fit ``model`` to ``target`` at ``points`` (and, with ``rows``, a
        :class:`jaxsci.teng.BoundaryRows`, ``B[model] ~ 0`` on the boundary)."""


class GaussNewton(AbstractFit):
    """Gauss-Newton fit (Chen et al. 2024, Alg. 1), the inner loop of a TENG step.

    Each iteration solves ``min_delta |J delta - (target - u)|^2 + lam |delta|^2`` with
    ``J = d u(points) / d theta`` (``jaxsci.core.jacobian_wrt_params``) and
    ``lam = damping |J|_F^2`` by ``jaxsci.core.least_squares``, and sets
    ``theta <- theta + delta``. With ``num_columns`` only that many randomly chosen
    parameters (fresh per iteration, drawn from ``key``) are updated, as in RSNG (Berman &
    Peherstorfer, NeurIPS 2023).

    The defaults are the measured recommendation for TENG in float64 (docs/teng.md): the
    normal equations with relative damping 1e-12 and 10 iterations. They need float64
    (``jax.config.update("jax_enable_x64", True)``): in float32 the damped Gram matrix is
    not positive definite in floating point and the solve fails with a message saying so;
    use ``solver=lineax.SVD(rcond=1e-4)`` there.

    Args:
        iterations: Gauss-Newton iterations.
        solver: a lineax solver (``lineax.Normal(lineax.Cholesky())``,
            ``lineax.SVD(rcond=...)``, ``lineax.QR()``).
        damping: relative Tikhonov damping (``|J|_F^2 >= s_max^2``, so it is about the
            squared singular-value cut-off).
        num_columns: update a random subset of this many parameters per iteration (needs a
            ``key`` when called).

    Example:
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> pts = jax.random.uniform(jax.random.key(1), (16, 2), maxval=6.0)
        >>> fit = GaussNewton(iterations=2, solver=lx.SVD(rcond=1e-4), damping=0.0)
        >>> sol = fit(net, pts, jnp.sin(pts[:, 0]))
        >>> int(sol.iterations), sol.residual.shape
        (2, ())
    """

    iterations: int = eqx.field(static=True, default=10)
    solver: lx.AbstractLinearSolver = lx.Normal(lx.Cholesky())
    damping: float = 1e-12
    num_columns: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        check_positive_int(self.iterations, "iterations")
        _check_solver(self.solver)
        _check_damping(self.damping)
        if self.num_columns is not None:
            check_positive_int(self.num_columns, "num_columns")

    def failure_message(self, dtype) -> str:
        """The error message of a failed fit in ``dtype`` (names the setting and the fix)."""
        return solver_failure_message("the Gauss-Newton fit", self.solver, self.damping, dtype)

    def __call__(self, model, points, target, *, key=None, throw=True, rows=None) -> FitSolution:
        _check_fit_inputs(model, points, target)
        check_rows(rows, None)
        if self.num_columns is not None:
            key = check_random_columns(f"GaussNewton(num_columns={self.num_columns})",
                                       self.num_columns, num_params(model), key)
        theta, rebuild, values = _flat(model, points)

        def body(i, carry):
            th, result = carry
            r = target - values(th)
            jac = jacobian_wrt_params(lambda t, x: rebuild(t)(x), th, points)
            if rows is not None:  # the boundary rows B[u] ~ 0 under the interior ones
                r = jnp.concatenate([r, -rows.values(rebuild(th))])
                jac = jnp.concatenate([jac, jax.jacrev(lambda t: rows.values(rebuild(t)))(th)])
            if self.num_columns is None:
                sol = relative_lstsq(jac, r, self.solver, self.damping)
                new = th + sol.value
            else:
                cols = sample_without_replacement(th.size, self.num_columns,
                                                  key=jax.random.fold_in(key, i))
                sol = relative_lstsq(jac[:, cols], r, self.solver, self.damping)
                new = th.at[cols].add(sol.value)
            step_result = RESULTS.where(nonfinite(new), RESULTS.nonfinite_values, sol.result)
            ok = (result == RESULTS.successful) & (step_result == RESULTS.successful)
            return jnp.where(ok, new, th), _keep_first_failure(result, step_result)

        init = (theta, _start_result(theta, target))
        theta, result = jax.lax.fori_loop(0, self.iterations, body, init)
        if throw:
            theta = eqx.error_if(theta, result != RESULTS.successful,
                                 self.failure_message(theta.dtype))
        residual = relative_l2(values(theta), target)
        return FitSolution(rebuild(theta), residual, jnp.asarray(self.iterations), result)


def project_readout(model: AbstractLinearReadout, points: Float[Array, "n d"],
                    target: Float[Array, " n"]) -> AbstractLinearReadout:
    """Set the linear read-out of ``model`` to its least-squares optimum for ``target``.

    ``model`` is an :class:`AbstractLinearReadout` (as :class:`PeriodicMLP` is). This is
    the variable projection of Golub & Pereyra (SIAM J. Numer. Anal. 1973): the output is
    linear in the read-out, so it is solved exactly (SVD, cut-off ``10 eps max(m, n)``).

    Example:
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> pts = jax.random.uniform(jax.random.key(1), (16, 2), maxval=6.0)
        >>> project_readout(net, pts, jnp.zeros(16))(pts[0]).shape
        ()
    """
    if not isinstance(model, AbstractLinearReadout):
        raise TypeError(
            "`model` must have a linear read-out (a jaxsci.teng.AbstractLinearReadout such as "
            f"PeriodicMLP), got {type(model).__name__}."
        )
    feats = jax.vmap(model.features)(points)
    ones = jnp.ones((feats.shape[0], 1), feats.dtype)
    design = jnp.concatenate([feats, ones], axis=1) if model.readout_bias else feats
    eps = jnp.finfo(feats.dtype).eps
    rcond = float(10 * eps * max(design.shape))
    coef = least_squares(design, target, solver=lx.SVD(rcond=rcond), throw=False).value
    if model.readout_bias:
        return model.with_readout(coef[:-1], coef[-1])
    return model.with_readout(coef, jnp.zeros((), coef.dtype))


class LevenbergMarquardt(AbstractFit):
    """Fit ``model(points) ~ target`` to high precision from a random start.

    Levenberg-Marquardt (More, Lecture Notes in Math. 630, 1978) with one SVD
    ``J = U diag(s) V^T`` per iteration: the steps ``V diag(s / (s^2 + lam)) U^T r`` for
    ``lam = mu s_max^2`` with ``mu`` times 0.1, 1 and 10 are all tried, the best is kept if
    it lowers the squared residual (else ``mu`` grows 100-fold), and ``mu`` follows the kept
    one. With ``projection`` the read-out of an :class:`AbstractLinearReadout` model (such
    as :class:`PeriodicMLP`) is re-solved exactly after every trial step (variable
    projection, :func:`project_readout`), which speeds the fit up by an order of magnitude
    or more.

    Args:
        iterations: LM iterations.
        damping: the starting relative damping ``mu``.
        projection: re-solve the linear read-out after every step (needs an
            :class:`AbstractLinearReadout` model; pass ``False`` for other models).
        progress: print about 20 progress lines (iteration, relative residual, damping)
            to stderr from inside the compiled loop (a large fit runs for minutes).

    Example:
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> pts = jax.random.uniform(jax.random.key(1), (16, 2), maxval=6.0)
        >>> sol = LevenbergMarquardt(iterations=5)(net, pts, jnp.sin(pts[:, 0]))
        >>> bool(sol.residual < 1.0)
        True
    """

    iterations: int = eqx.field(static=True, default=200)
    damping: float = 1e-2
    projection: bool = eqx.field(static=True, default=True)
    progress: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        check_positive_int(self.iterations, "iterations")
        _check_damping(self.damping)
        if not isinstance(self.damping, jax.core.Tracer) and not self.damping > 0:
            raise ValueError(f"`damping` must be > 0 for Levenberg-Marquardt, got {self.damping}.")

    def __call__(self, model, points, target, *, key=None, throw=True, rows=None) -> FitSolution:
        del key
        _check_fit_inputs(model, points, target)
        if rows is not None:
            raise TypeError("LevenbergMarquardt fits values only and takes no boundary rows: "
                            "fit the initial condition at points that include the boundary, "
                            "or use GaussNewton(...) with rows.")
        if self.projection and not isinstance(model, AbstractLinearReadout):
            raise TypeError(
                "LevenbergMarquardt(projection=True) needs a model with a linear read-out (a "
                "jaxsci.teng.AbstractLinearReadout such as PeriodicMLP), got "
                f"{type(model).__name__}; pass projection=False for other models."
            )
        project = self.projection
        if project:
            model = project_readout(model, points, target)
        theta, rebuild, values = _flat(model, points)

        def polish(th):
            return ravel_model(project_readout(rebuild(th), points, target))[0] if project else th

        def sq_res(th):
            return jnp.sum((target - values(th)) ** 2)

        factors = jnp.asarray([0.1, 1.0, 10.0], theta.dtype)
        tick = run_progress(self.iterations, "LevenbergMarquardt") if self.progress else None
        target_norm = jnp.linalg.norm(target)

        def body(i, carry):
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
            mu = jnp.clip(jnp.where(better, mu * factors[best], mu * 100.0), 1e-20, 1e10)
            cost = jnp.where(better, costs[best], cost)
            if tick is not None:
                tick(i, residual=jnp.sqrt(cost) / target_norm, damping=mu)
            return th, mu, cost

        init = (theta, jnp.asarray(self.damping, theta.dtype), sq_res(theta))
        theta, _, cost = jax.lax.fori_loop(0, self.iterations, body, init)
        result = _start_result(theta, target)
        result = RESULTS.where(~jnp.isfinite(cost), RESULTS.nonfinite_values, result)
        if throw:
            theta = eqx.error_if(
                theta, result != RESULTS.successful,
                "the Levenberg-Marquardt fit produced NaN/inf; check the target (the initial "
                "condition) and the network's parameters for NaN/inf.")
        residual = jnp.sqrt(cost) / target_norm
        return FitSolution(rebuild(theta), residual, jnp.asarray(self.iterations), result)


class OptaxFit(AbstractFit):
    """Minimise ``mean (model(points) - target)^2`` by ``steps`` optax updates (fresh state).

    The first-order fit of the OBTI baseline (Chen et al. 2024, Sec. 2). Each update is the
    training step of :func:`jaxsci.core.fit` (``jaxsci.internal.make_step``), run in a
    compiled loop so that it works inside a compiled time loop; optimizers that need the
    objective (``optax.lbfgs()``) get it.

    Args:
        optimizer: an optax ``GradientTransformation``, e.g. ``optax.adam(1e-3)``.
        steps: optimizer updates per fit.

    Example:
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> pts = jax.random.uniform(jax.random.key(1), (16, 2), maxval=6.0)
        >>> sol = OptaxFit(optax.adam(1e-2), steps=5)(net, pts, jnp.sin(pts[:, 0]))
        >>> int(sol.iterations)
        5
    """

    optimizer: optax.GradientTransformation
    steps: int = eqx.field(static=True, default=100)

    def __check_init__(self):
        if isinstance(self.optimizer, str):
            raise TypeError(f"`optimizer` must be an optax transformation, got the string "
                            f"{self.optimizer!r}: use e.g. optax.adam(1e-3) or optax.lbfgs().")
        if not isinstance(self.optimizer, optax.GradientTransformation):
            raise TypeError("`optimizer` must be an optax GradientTransformation (e.g. "
                            f"optax.adam(1e-3)), got {type(self.optimizer).__name__}.")
        check_positive_int(self.steps, "steps")

    def __call__(self, model, points, target, *, key=None, throw=True, rows=None) -> FitSolution:
        del key
        _check_fit_inputs(model, points, target)
        check_rows(rows, None)
        optimizer = optax.with_extra_args_support(self.optimizer)
        params, static = eqx.partition(model, eqx.is_inexact_array)

        def loss(m, batch, key):
            pts, tgt = batch
            sq = jnp.sum((jax.vmap(m)(pts) - tgt) ** 2)
            if rows is not None:  # the same sum of squares as GaussNewton's rows
                sq = sq + jnp.sum(rows.values(m) ** 2)
            return sq / tgt.shape[0]

        step = make_step(loss, optimizer, static)
        dummy = jax.random.key(0)  # the loss is deterministic

        def body(_, carry):
            p, state = carry
            p, state, _ = step(p, state, (points, target), dummy)
            return p, state

        with jax.numpy_dtype_promotion("standard"):
            state = optimizer.init(params)
        params, _ = jax.lax.fori_loop(0, self.steps, body, (params, state))
        result = _start_result(params, target)
        if throw:
            params = eqx.error_if(
                params, result != RESULTS.successful,
                "the optax fit (OBTI) produced NaN/inf parameters; lower the learning rate and "
                "check the targets and the network for NaN/inf.")
        fitted = eqx.combine(params, static)
        residual = relative_l2(jax.vmap(fitted)(points), target)
        return FitSolution(fitted, residual, jnp.asarray(self.steps), result)
