"""TDVP / Neural Galerkin baseline: ``theta' = argmin |J theta' - L[u_theta]|`` integrated by
an explicit Runge-Kutta method (Bruna, Peherstorfer & Vanden-Eijnden, J. Comput. Phys.
2024, Eq. 2.6; Berman & Peherstorfer, NeurIPS 2023, with the least-squares form and rcond)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import lineax as lx

from .. import taylor
from ..core import RESULTS, LeastSquaresSolution, jacobian_wrt_params, ravel_model
from ..internal import nonfinite
from ._boundary import BoundaryRows
from ._fit import _check_damping, _check_solver, relative_lstsq, solver_failure_message
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

    def __check_init__(self):
        if not isinstance(self.tableau, Tableau):
            raise TypeError("`tableau` must be a jaxsci.teng.Tableau (EULER, HEUN, RK4 or your "
                            f"own), got {type(self.tableau).__name__}.")
        _check_solver(self.solver)
        _check_damping(self.damping)

    def velocity(self, problem, model, points, *, key=None) -> LeastSquaresSolution:
        """``theta' = lstsq(J, L[u_theta])`` at the points (flat, as ``ravel_model``)."""
        return self._velocity(problem, model, points, key)[0]

    def _velocity(self, problem, model, points, key=None):
        theta, rebuild = ravel_model(model)
        jac = jacobian_wrt_params(lambda t, x: rebuild(t)(x), theta, points)
        rhs = operator_values(model, problem, points, backend=self.backend, key=key)
        if self.boundary is None:
            return relative_lstsq(jac, rhs, self.solver, self.damping), rhs
        rows = self.boundary
        jac_b = jax.jacrev(lambda t: rows.values(rebuild(t)))(theta)
        full = jnp.concatenate([rhs, jnp.zeros(jac_b.shape[0], rhs.dtype)])
        return relative_lstsq(jnp.concatenate([jac, jac_b]), full, self.solver,
                              self.damping), full

    def failure_message(self, dtype) -> str:
        return f"TDVP ({self.tableau.name}): " + solver_failure_message(
            "the velocity solve", self.solver, self.damping, dtype)

    def step(self, problem, model, points, t, dt, *, key=None) -> StepSolution:
        del t
        _, operator_keys = stage_keys(key, self.tableau.stages)
        theta, rebuild = ravel_model(model)
        dt = as_time(dt, theta.dtype)
        result = RESULTS.where(nonfinite(theta), RESULTS.nonfinite_values, RESULTS.successful)
        slopes, residual = [], jnp.zeros((), theta.dtype)
        for i in range(self.tableau.stages):
            coeffs = self.tableau.a[i] if i else ()
            stage = theta + dt * sum(c * k for c, k in zip(coeffs, slopes) if c != 0)
            m = rebuild(stage)
            sol, rhs = self._velocity(problem, m, points, operator_keys[i])
            result = RESULTS.where(result == RESULTS.successful, sol.result, result)
            if i == 0:
                residual = sol.residual_norm / jnp.linalg.norm(rhs)
            slopes.append(sol.value)
        theta = theta + dt * sum(c * k for c, k in zip(self.tableau.b, slopes) if c != 0)
        result = RESULTS.where(
            (result == RESULTS.successful) & nonfinite(theta), RESULTS.nonfinite_values, result)
        return StepSolution(rebuild(theta), residual, result)
