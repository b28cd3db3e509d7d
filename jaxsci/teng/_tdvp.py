"""TDVP / Neural Galerkin baseline: ``theta' = argmin |J theta' - L[u_theta]|`` integrated by
an explicit Runge-Kutta method (Bruna, Peherstorfer & Vanden-Eijnden, J. Comput. Phys.
2024, Eq. 2.6; Berman & Peherstorfer, NeurIPS 2023, with the least-squares form and rcond)."""

from __future__ import annotations

from jaxtyping import Array, Float

from ..core import jacobian_wrt_params, ravel_model
from ..internal import check_finite
from ._checks import check_step_inputs
from ._fit import relative_lstsq
from ._step import operator_values
from ._tableau import RK4, Tableau


def tdvp_velocity(model, problem, points, *, method="svd", rcond=1e-6, damping=0.0):
    """``theta' = lstsq(J, L[u_theta])`` at the points (the Dirac-Frenkel / Galerkin projection)."""
    theta, rebuild = ravel_model(model)
    jac = jacobian_wrt_params(lambda t, x: rebuild(t)(x), theta, points)
    rhs = operator_values(model, problem, points)
    return relative_lstsq(jac, rhs, method=method, rcond=rcond, damping=damping)


def tdvp_step(
    model,
    t: float | Array,
    problem,
    points: Float[Array, "n 2"],
    dt: float | Array,
    *,
    tableau: Tableau = RK4,
    method: str = "svd",
    rcond: float | None = 1e-6,
    damping: float = 0.0,
):
    """One explicit Runge-Kutta step of the parameter ODE ``theta' = lstsq(J, L[u_theta])``.

    Args:
        model, t, problem, points, dt: as :func:`teng_rk_step`.
        tableau: the Runge-Kutta method for the parameter ODE (default RK4).
        method, rcond, damping: least-squares options as in :func:`gauss_newton_fit`
            (damping relative to ``|J|_F^2``); RSNG uses ``rcond = 1e-4``.

    Returns:
        The network at ``t + dt``.

    Example:
        >>> net = tdvp_step(net, 0.0, Heat2D(), grid_points(16), 0.01)
    """
    points = check_step_inputs(model, points, dt, problem)
    del t
    theta, rebuild = ravel_model(model)

    def velocity(th):
        return tdvp_velocity(rebuild(th), problem, points, method=method, rcond=rcond,
                             damping=damping)

    slopes = []
    for i in range(tableau.stages):
        coeffs = tableau.a[i] if i else ()
        stage = theta + dt * sum(c * k for c, k in zip(coeffs, slopes) if c != 0)
        slopes.append(velocity(stage))
    theta = theta + dt * sum(c * k for c, k in zip(tableau.b, slopes) if c != 0)
    theta = check_finite(theta, "TDVP produced non-finite parameters; use a larger rcond or dt.")
    return rebuild(theta)
