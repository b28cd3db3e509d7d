"""TDVP / Neural Galerkin baseline: ``theta' = argmin |J theta' - L[u_theta]|`` integrated by
an explicit Runge-Kutta method (Bruna, Peherstorfer & Vanden-Eijnden, J. Comput. Phys.
2024, Eq. 2.6; Berman & Peherstorfer, NeurIPS 2023, with the least-squares form and rcond)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx

from .. import taylor
from ..core import (
    RESULTS,
    LeastSquaresSolution,
    jacobian_wrt_params,
    ravel_model,
    sample_without_replacement,
)
from ..internal import check_positive_int, nonfinite
from ._boundary import BoundaryRows
from ._fit import (
    _check_damping,
    _check_solver,
    check_random_columns,
    relative_lstsq,
    solver_failure_message,
)
from ._step import AbstractStepper, StepSolution, as_time, operator_values, stage_keys
from ._tableau import RK4, Tableau


class TDVP(AbstractStepper):
    """Explicit Runge-Kutta steps of the parameter ODE ``theta' = lstsq(J, L[u_theta])``.

    The velocity is the least-squares (Dirac-Frenkel / Galerkin) projection of ``L[u]`` on
    the tangent space ``J = d u(points) / d theta`` at the points, solved by
    ``jaxsci.core.least_squares`` with the damping relative to ``|J|_F^2``.

    Args:
        tableau: the Runge-Kutta method of the parameter ODE (default :data:`RK4`).
        solver: a lineax solver (default ``lineax.SVD(rcond=1e-6)``; RSNG uses
            ``rcond=1e-4``; ``lineax.Normal(lineax.Cholesky())`` with ``damping`` in float64).
        damping: relative Tikhonov damping.
        boundary: :class:`BoundaryRows`: the velocity also solves ``J_B theta' = 0``, the
            time derivative of the homogeneous condition ``B[u] = 0`` (bounded problems).
        backend: the :mod:`jaxsci.taylor` backend of ``L[u]`` (as :class:`TENG`'s).
        num_columns: RSNG (Berman & Peherstorfer, NeurIPS 2023, Sec. 3, Alg. 1): each
            step updates only this many parameters, drawn at random (fresh per step, the
            same for the step's stages); the velocity is the least-squares solution on those
            columns of ``J`` and zero elsewhere. Needs a ``key``.

    Example:
        >>> from jaxsci.pde.evolution import Heat2D, grid_points
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> sol = TDVP()(Heat2D(), net, grid_points(4), 0.0, 0.01)
        >>> sol.model(jnp.zeros(2)).shape
        ()
    """

    tableau: Tableau = RK4
    solver: lx.AbstractLinearSolver = lx.SVD(rcond=1e-6)
    damping: float = 0.0
    boundary: BoundaryRows | None = None
    backend: taylor.AbstractBackend | None = None
    num_columns: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if not isinstance(self.tableau, Tableau):
            raise TypeError("`tableau` must be a jaxsci.teng.Tableau (EULER, HEUN, RK4 or your "
                            f"own), got {type(self.tableau).__name__}.")
        _check_solver(self.solver)
        _check_damping(self.damping)
        if self.num_columns is not None:
            check_positive_int(self.num_columns, "num_columns")

    def velocity(self, problem, model, points, *, key=None) -> LeastSquaresSolution:
        """``theta' = lstsq(J, L[u_theta])`` at the points (flat, as ``ravel_model``; with
        ``num_columns`` on the first step's random columns, zero elsewhere)."""
        return self._velocity(problem, model, points, key)[0]

    def _velocity(self, problem, model, points, key=None, cols=None):
        theta, rebuild = ravel_model(model)
        if self.num_columns is not None and cols is None:
            cols = self._columns(theta.size, key)
        jac = jacobian_wrt_params(lambda t, x: rebuild(t)(x), theta, points)
        rhs = operator_values(model, problem, points, backend=self.backend, key=key)
        if self.boundary is not None:
            rows = self.boundary
            jac_b = jax.jacrev(lambda t: rows.values(rebuild(t)))(theta)
            jac = jnp.concatenate([jac, jac_b])
            rhs = jnp.concatenate([rhs, jnp.zeros(jac_b.shape[0], rhs.dtype)])
        if cols is None:
            return relative_lstsq(jac, rhs, self.solver, self.damping), rhs
        sol = relative_lstsq(jac[:, cols], rhs, self.solver, self.damping)
        full = jnp.zeros_like(theta).at[cols].set(sol.value)
        return eqx.tree_at(lambda s: s.value, sol, full), rhs

    def _columns(self, size, key):
        """The step's random columns (RSNG), after :func:`check_random_columns`."""
        key = check_random_columns(f"TDVP(num_columns={self.num_columns}) (RSNG)",
                                   self.num_columns, size, key)
        return sample_without_replacement(size, self.num_columns,
                                          key=jax.random.fold_in(key, 7))

    def failure_message(self, dtype) -> str:
        return f"TDVP ({self.tableau.name}): " + solver_failure_message(
            "the velocity solve", self.solver, self.damping, dtype)

    def step(self, problem, model, points, t, dt, *, key=None) -> StepSolution:
        del t
        _, operator_keys = stage_keys(key, self.tableau.stages)
        theta, rebuild = ravel_model(model)
        cols = None if self.num_columns is None else self._columns(theta.size, key)
        dt = as_time(dt, theta.dtype)
        result = RESULTS.where(nonfinite(theta), RESULTS.nonfinite_values, RESULTS.successful)
        slopes, residual = [], jnp.zeros((), theta.dtype)
        for i in range(self.tableau.stages):
            coeffs = self.tableau.a[i] if i else ()
            stage = theta + dt * sum(c * k for c, k in zip(coeffs, slopes) if c != 0)
            m = rebuild(stage)
            sol, rhs = self._velocity(problem, m, points, operator_keys[i], cols)
            result = RESULTS.where(result == RESULTS.successful, sol.result, result)
            if i == 0:
                residual = sol.residual_norm / jnp.linalg.norm(rhs)
            slopes.append(sol.value)
        theta = theta + dt * sum(c * k for c, k in zip(self.tableau.b, slopes) if c != 0)
        result = RESULTS.where(
            (result == RESULTS.successful) & nonfinite(theta), RESULTS.nonfinite_values, result)
        return StepSolution(rebuild(theta), residual, result)
