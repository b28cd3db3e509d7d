"""Gauss-Newton / energy natural gradient (ENGD) optimizers for residual losses, and the
Adam -> L-BFGS baseline, as optax transformations for :func:`jaxsci.core.fit`.

The Gauss-Newton step for ``L(theta) = |r(theta)|^2`` solves the linearized least-squares
problem ``min_delta |r + J delta|^2 + lambda |delta|^2``:

    delta = -(J^T J + lambda I)^{-1} J^T r = -J^T (J J^T + lambda I)^{-1} r,

the second (kernel, Woodbury) form costing an ``m x m`` solve when there are fewer
residuals ``m`` than parameters ``n`` (Guzman-Cordero, Dangel, Goldshlager, Zeinhofer,
"Improving energy natural gradient descent through Woodbury, momentum, and randomization",
2025, arXiv:2505.12149, Eq. 5). For a linear PDE with the residual loss, ``J^T J`` is the
energy Gramian of ENGD (Mueller & Zeinhofer, "Achieving high accuracy with PINNs via energy
natural gradient descent", ICML 2023, Eq. 7), and the step is followed by a line search on
the grid ``eta in {0.5^k}`` (their Sec. 4). Both go through
:func:`jaxsci.core.least_squares`, the solve TENG's Gauss-Newton fits use.
"""

from __future__ import annotations

import abc
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optax
from jaxtyping import Array, Float, Int

from ..core import ResidualObjective, least_squares, ravel
from ..internal import check_positive_int, check_real


class AbstractLineSearch(eqx.Module):
    """How far along a Gauss-Newton direction to go: ``search(loss_at, loss0, slope) ->
    (eta, loss)`` with ``loss_at(eta)`` the loss at ``theta + eta delta``, ``loss0`` the loss
    at ``theta`` and ``slope = dL/deta`` at 0 (negative for a descent direction)."""

    @abc.abstractmethod
    def __call__(self, loss_at, loss0: Array, slope: Array) -> tuple[Array, Array]:
        """The accepted step size and the loss there (``eta = 0`` if nothing decreased it)."""


class GridLineSearch(AbstractLineSearch):
    """Evaluate the loss at every ``eta = factor^k``, ``k = 0..num_steps-1`` (all at once,
    vmapped) and take the best one; ``eta = 0`` (no move) if none decreases the loss, so
    the loss never increases. The ENGD paper's line search (Mueller & Zeinhofer, ICML 2023,
    Sec. 4: a logarithmic grid on ``[0, 1]``).

    Example:
        >>> eta, loss = GridLineSearch(4)(lambda e: (e - 0.3) ** 2, jnp.array(0.09), jnp.array(-0.6))
        >>> float(eta)
        0.25
    """

    num_steps: int = eqx.field(static=True, default=20)
    factor: float = eqx.field(static=True, default=0.5)

    def __check_init__(self):
        check_positive_int(self.num_steps, "num_steps")
        if not (isinstance(self.factor, (int, float)) and 0 < self.factor < 1):
            raise ValueError(f"`factor` must be a number in (0, 1), got {self.factor!r}.")

    def __call__(self, loss_at, loss0, slope):
        etas = jnp.asarray(self.factor, loss0.dtype) ** jnp.arange(self.num_steps, dtype=loss0.dtype)
        losses = jax.vmap(loss_at)(etas)
        losses = jnp.where(jnp.isfinite(losses), losses, jnp.inf)
        best = jnp.argmin(losses)
        accept = losses[best] < loss0
        return jnp.where(accept, etas[best], 0.0), jnp.where(accept, losses[best], loss0)


class BacktrackingLineSearch(AbstractLineSearch):
    """Armijo backtracking: ``eta = 1, factor, factor^2, ...`` until
    ``L(eta) <= L(0) + c eta slope`` (Nocedal & Wright, Numerical Optimization, Alg. 3.1),
    at most ``max_steps`` trials; ``eta = 0`` if none is accepted.

    Example:
        >>> eta, _ = BacktrackingLineSearch()(lambda e: (e - 0.3) ** 2, jnp.array(0.09), jnp.array(-0.6))
        >>> float(eta)
        0.5
    """

    max_steps: int = eqx.field(static=True, default=30)
    factor: float = eqx.field(static=True, default=0.5)
    armijo: float = eqx.field(static=True, default=1e-4)

    def __check_init__(self):
        check_positive_int(self.max_steps, "max_steps")
        if not (isinstance(self.factor, (int, float)) and 0 < self.factor < 1):
            raise ValueError(f"`factor` must be a number in (0, 1), got {self.factor!r}.")
        if not (isinstance(self.armijo, (int, float)) and 0 <= self.armijo < 1):
            raise ValueError(f"`armijo` must be a number in [0, 1), got {self.armijo!r}.")

    def __call__(self, loss_at, loss0, slope):
        dtype = loss0.dtype

        def ok(eta, loss):
            return jnp.isfinite(loss) & (loss <= loss0 + self.armijo * eta * slope) & (loss < loss0)

        def cond(c):
            k, eta, loss = c
            return (k < self.max_steps) & ~ok(eta, loss)

        def body(c):
            k, eta, _ = c
            eta = eta * self.factor
            return k + 1, eta, loss_at(eta)

        one = jnp.asarray(1.0, dtype)
        _, eta, loss = jax.lax.while_loop(cond, body, (jnp.asarray(1), one, loss_at(one)))
        accept = ok(eta, loss)
        return jnp.where(accept, eta, 0.0), jnp.where(accept, loss, loss0)


class GaussNewtonState(NamedTuple):
    """State of :func:`gauss_newton`: the current damping, the last step size, the number of
    steps, the loss before the last step and the momentum buffer (zeros without momentum)."""

    damping: Float[Array, ""]
    step_size: Float[Array, ""]
    count: Int[Array, ""]
    loss: Float[Array, ""]
    momentum: Any


def gauss_newton(
    damping: float = 1e-8,
    *,
    line_search: AbstractLineSearch | None = GridLineSearch(),
    solver: lx.AbstractLinearSolver | None = None,
    kernel: bool | None = None,
    adaptive_damping: bool = False,
    damping_bounds: tuple[float, float] = (1e-14, 1e4),
    momentum: float = 0.0,
) -> optax.GradientTransformationExtraArgs:
    """Gauss-Newton / energy natural gradient (ENGD) steps for a residual loss.

    Use it as the optimizer of :func:`jaxsci.core.fit` (or :func:`jaxsci.pinn.train`) with
    a :class:`jaxsci.core.ResidualLoss`: the loop hands the optimizer the residual function
    as ``value_fn`` (a :class:`jaxsci.core.ResidualObjective`, as optax's line searches get
    ``value_fn``). Each step builds the weighted residual Jacobian ``J`` (interior and
    boundary rows, one reverse pass per point), solves

        delta = argmin |r + J delta|^2 + lambda |delta|^2

    with :func:`jaxsci.core.least_squares` in the kernel (Woodbury) form
    ``-J^T (J J^T + lambda I)^{-1} r`` when there are fewer residuals than parameters and the
    parameter form ``-(J^T J + lambda I)^{-1} J^T r`` otherwise (``kernel`` forces one), and
    moves by ``eta delta`` with ``eta`` from ``line_search``. For a linear PDE this is ENGD
    (Mueller & Zeinhofer, ICML 2023, Eq. 7 with the grid line search of their Sec. 4); the
    kernel form, momentum and the step cost are those of Guzman-Cordero et al. 2025
    (arXiv:2505.12149, Eq. 5 and Alg. 2, SPRING-style momentum on the solution).

    With a stochastic derivative backend (STDE) the residuals and ``J`` are those of the
    estimated operator at the step's key: the step is the Gauss-Newton step of the sampled
    least-squares problem. ``J^T J`` of an estimate is biased upward by the estimator's
    variance (``E[J^T J] = J_exact^T J_exact + Cov``), which acts as extra, data-dependent
    damping; the step is therefore a biased (shrunk) estimate of the exact step, and the
    bias falls as the number of sampled terms grows.

    Args:
        damping: the Levenberg-Marquardt / Tikhonov ``lambda >= 0`` (the initial value when
            ``adaptive_damping``).
        line_search: a :class:`GridLineSearch` (the ENGD grid, the default),
            :class:`BacktrackingLineSearch`, or ``None`` for the full step ``eta = 1``.
        solver: a lineax solver for :func:`jaxsci.core.least_squares` (default
            ``lineax.SVD()``, the minimum-norm / pseudo-inverse step;
            ``lineax.Normal(lineax.Cholesky())`` forms the ``m x m`` or ``n x n`` Gramian:
            faster, needs ``damping > 0`` and float64).
        kernel: ``None`` (choose by shape), ``True`` (kernel form) or ``False`` (parameter).
        adaptive_damping: adapt ``lambda`` by the Levenberg-Marquardt gain ratio
            ``rho = (L(0) - L(delta)) / (L(0) - |r + J delta|^2)``: divided by 3 when
            ``rho > 0.75``, doubled when ``rho < 0.25`` (Nocedal & Wright, Alg. 4.1),
            within ``damping_bounds``.
        momentum: ``mu in [0, 1)``: the least-squares problem is solved for the correction
            to ``mu phi_prev`` (``phi = mu phi_prev + argmin |r + J (mu phi_prev) + J d|^2 +
            lambda |d|^2``, the SPRING recursion of arXiv:2505.12149, Alg. 2); 0 disables it.

    Returns:
        An ``optax.GradientTransformationExtraArgs``; its ``update`` needs ``value_fn``, a
        :class:`jaxsci.core.ResidualObjective` (which ``core.fit`` passes).

    Example:
        >>> import optax
        >>> from jaxsci import core
        >>> loss = core.ResidualLoss(lambda m, x, key: m["a"] * x[0] + m["b"] - 2.0 * x[0])
        >>> out = core.fit(loss, {"a": jnp.array(0.0), "b": jnp.array(1.0)}, gauss_newton(0.0),
        ...                steps=2, data=jnp.linspace(0.0, 1.0, 5)[:, None],
        ...                key=jax.random.key(0), progress=False)
        >>> round(float(out.model["a"]), 5), round(float(out.model["b"]), 5)
        (2.0, 0.0)
    """
    damping = check_real(damping, "damping", low=0.0)
    if line_search is not None and not isinstance(line_search, AbstractLineSearch):
        raise TypeError(
            "`line_search` must be a jaxsci.pinn line search (GridLineSearch(), "
            f"BacktrackingLineSearch()) or None, got {type(line_search).__name__}."
        )
    if solver is not None and not isinstance(solver, lx.AbstractLinearSolver):
        raise TypeError(
            "`solver` must be a lineax solver (lineax.SVD(), lineax.Normal(lineax.Cholesky())), "
            f"got {type(solver).__name__}."
        )
    if kernel is not None and not isinstance(kernel, bool):
        raise TypeError(f"`kernel` must be None, True or False, got {kernel!r}.")
    if not isinstance(adaptive_damping, bool):
        raise TypeError(f"`adaptive_damping` must be True or False, got {adaptive_damping!r}.")
    if adaptive_damping and damping == 0:
        raise ValueError("adaptive_damping=True needs an initial damping > 0 (e.g. damping=1e-3).")
    if (not isinstance(damping_bounds, tuple) or len(damping_bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in damping_bounds)
            or not 0 < damping_bounds[0] <= damping_bounds[1]):
        raise ValueError(f"`damping_bounds` must be a tuple (low, high) with 0 < low <= high, got {damping_bounds!r}.")
    momentum = check_real(momentum, "momentum", low=0.0)
    if momentum >= 1:
        raise ValueError(f"`momentum` must be in [0, 1), got {momentum!r}.")
    low, high = float(damping_bounds[0]), float(damping_bounds[1])
    solver = lx.SVD() if solver is None else solver

    def init(params):
        theta, _ = ravel(params)
        dtype = theta.dtype
        buf = jnp.zeros_like(theta) if momentum else jnp.zeros((0,), dtype)
        return GaussNewtonState(jnp.asarray(damping, dtype), jnp.asarray(0.0, dtype),
                                jnp.asarray(0), jnp.asarray(jnp.inf, dtype), buf)

    def update(updates, state, params=None, *, value_fn=None, **extra_args):
        del updates, extra_args
        if params is None:
            raise ValueError("gauss_newton needs the current `params` in update(...).")
        if not isinstance(value_fn, ResidualObjective):
            raise TypeError(
                "gauss_newton needs the residuals, not only a scalar loss: train with a "
                "jaxsci.core.ResidualLoss (e.g. core.ResidualLoss(pinn.PDEResidual(problem))) "
                "so that core.fit passes a jaxsci.core.ResidualObjective as `value_fn`."
            )
        theta, unravel = ravel(params)
        dtype = theta.dtype
        r, jac = value_fn.jacobian(params)
        r, jac = r.astype(dtype), jac.astype(dtype)
        loss0 = jnp.sum(r**2)
        lam = state.damping
        if momentum:
            base = momentum * state.momentum
            rhs = -(r + jac @ base)
        else:
            base = jnp.zeros_like(theta)
            rhs = -r
        lam_arg = lam if (adaptive_damping or damping > 0) else 0.0
        sol = least_squares(jac, rhs, solver=solver, damping=lam_arg, kernel=kernel, throw=False)
        delta = base + sol.value
        delta = jnp.where(jnp.all(jnp.isfinite(delta)), delta, jnp.zeros_like(delta))

        def loss_at(eta):
            return jnp.sum(value_fn.residuals(unravel(theta + eta * delta)).astype(dtype) ** 2)

        slope = 2.0 * jnp.dot(jac.T @ r, delta)
        if line_search is None:
            eta, new_loss = jnp.asarray(1.0, dtype), loss_at(jnp.asarray(1.0, dtype))
        else:
            eta, new_loss = line_search(loss_at, loss0, slope)
        eta = eta.astype(dtype)
        if adaptive_damping:
            linear = jnp.sum((r + jac @ delta) ** 2)
            predicted = loss0 - linear
            actual = loss0 - (new_loss if line_search is None else loss_at(jnp.asarray(1.0, dtype)))
            rho = actual / jnp.where(predicted > 0, predicted, jnp.inf)
            lam = jnp.where(rho > 0.75, lam / 3.0, jnp.where(rho < 0.25, lam * 2.0, lam))
            lam = jnp.clip(lam, low, high)
        buf = eta * delta if momentum else state.momentum
        new_state = GaussNewtonState(lam.astype(dtype), eta, state.count + 1, loss0, buf)
        return unravel(eta * delta), new_state

    return optax.GradientTransformationExtraArgs(init, update)


def engd(damping: float = 0.0, *, num_steps: int = 20) -> optax.GradientTransformationExtraArgs:
    """Energy natural gradient descent as in Mueller & Zeinhofer (ICML 2023, Alg. 1): the
    Gauss-Newton direction from the pseudo-inverse of the Gramian (``lineax.SVD()``; a
    small ``damping`` regularizes it) and the grid line search ``eta in {0.5^k, k <
    num_steps}``. :func:`gauss_newton` with those settings.

    Example:
        >>> from jaxsci import core
        >>> loss = core.ResidualLoss(lambda m, x, key: m * x[0] - 1.0)
        >>> out = core.fit(loss, jnp.array(0.0), engd(), steps=1, data=jnp.ones((3, 1)),
        ...                key=jax.random.key(0), progress=False)
        >>> round(float(out.model), 6)
        1.0
    """
    check_positive_int(num_steps, "num_steps")
    return gauss_newton(damping, line_search=GridLineSearch(num_steps), solver=lx.SVD())


class _SwitchState(NamedTuple):
    count: Int[Array, ""]
    first: Any
    second: Any


def adam_then_lbfgs(
    adam_steps: int, learning_rate: float = 1e-3, *, memory_size: int = 10
) -> optax.GradientTransformationExtraArgs:
    """``adam_steps`` steps of Adam, then L-BFGS with optax's zoom line search: the usual
    PINN schedule (e.g. Rathore et al., "Challenges in training PINNs", ICML 2024, Sec. 5),
    one optax object for :func:`jaxsci.core.fit`. L-BFGS wants fixed collocation points.

    Example:
        >>> from jaxsci import core
        >>> loss = lambda m, x, key: jnp.sum((m - x) ** 2)
        >>> out = core.fit(loss, jnp.zeros(2), adam_then_lbfgs(5, 0.1), steps=10,
        ...                data=jnp.ones(2), key=jax.random.key(0), progress=False)
        >>> bool(jnp.allclose(out.model, 1.0, atol=1e-4))
        True
    """
    check_positive_int(adam_steps, "adam_steps")
    check_real(learning_rate, "learning_rate", low=0.0, low_inclusive=False)
    check_positive_int(memory_size, "memory_size")
    first = optax.with_extra_args_support(optax.adam(learning_rate))
    second = optax.lbfgs(memory_size=memory_size)

    def init(params):
        return _SwitchState(jnp.asarray(0), first.init(params), second.init(params))

    def update(updates, state, params=None, **extra_args):
        def run_first(_):
            u, s = first.update(updates, state.first, params, **extra_args)
            return u, _SwitchState(state.count + 1, s, state.second)

        def run_second(_):
            u, s = second.update(updates, state.second, params, **extra_args)
            return u, _SwitchState(state.count + 1, state.first, s)

        return jax.lax.cond(state.count < adam_steps, run_first, run_second, None)

    return optax.GradientTransformationExtraArgs(init, update)
