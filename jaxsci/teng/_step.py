"""TENG time steps (Chen et al., ICML 2024, Sec. 3.2, Eqs. 7-9; Algorithms 1-2).

A step forms a target from the PDE, ``u_n + dt L[u_n]`` (TENG-Euler) or
``u_n + dt/2 (L[u_n] + L[u_tmp])`` (TENG-Heun, ``u_tmp`` the fitted Euler stage), and fits
the network to it at the points with a few Gauss-Newton least-squares iterations. Any
explicit Runge-Kutta tableau works the same way: every stage value is a fitted network.
"""

from __future__ import annotations

import jax
from jaxtyping import Array, Float

from ..internal import check_key, check_positive_int
from ._checks import check_step_inputs
from ._fit import gauss_newton_fit
from ._tableau import EULER, HEUN, Tableau


def operator_values(model, problem, points: Float[Array, "n 2"]) -> Float[Array, " n"]:
    """``L[u](x_i)`` at every point, by automatic differentiation of the network."""
    return jax.vmap(lambda x: problem.operator(model, x))(points)


def teng_rk_step(
    model,
    t: float | Array,
    problem,
    points: Float[Array, "n 2"],
    dt: float | Array,
    *,
    tableau: Tableau = HEUN,
    iterations: int = 5,
    method: str = "svd",
    rcond: float | None = 1e-6,
    damping: float = 0.0,
    num_columns: int | None = None,
    key: Array | None = None,
):
    """One TENG step with an explicit Runge-Kutta ``tableau`` (Chen et al. 2024, Sec. 3.2).

    Stage ``i`` fits a network to ``u_n + dt sum_j a_ij k_j`` with ``k_j = L[u_j]`` (stage 1 is
    ``u_n`` itself), and the step fits ``u_{n+1}`` to ``u_n + dt sum_i b_i k_i``, each fit by
    :func:`gauss_newton_fit` started from the previous fitted network. TENG-Euler and
    TENG-Heun are the tableaus ``EULER`` and ``HEUN``.

    The Jacobian is very ill-conditioned and ``L[u]`` needs its small singular directions,
    so accuracy is set by the damping and the number of iterations: on the periodic
    benchmarks ``method="normal_cholesky", damping=1e-12`` with 10 to 20 iterations was
    10-40x more accurate than ``damping=1e-10`` with 2 (docs/teng.md, measured pitfalls).

    Args:
        model: the network ``u_n`` (an equinox module ``x -> scalar``, periodic in ``x``).
        t: current time (the problems here are autonomous; kept for the signature).
        problem: has ``operator(u, x)`` giving ``L[u](x)``.
        points: ``(n, 2)`` sample points in ``[0, 2pi)^2``.
        dt: time step, ``> 0``.
        tableau: the explicit Runge-Kutta method.
        iterations: Gauss-Newton iterations per fit.
        method, rcond, damping: least-squares options (``jaxsci.core.least_squares``).
        num_columns: update a random subset of this many parameters per iteration (needs key).
        key: PRNG key, used only with ``num_columns``.

    Returns:
        The network ``u_{n+1}``.

    Example:
        >>> net = teng_rk_step(net, 0.0, Heat2D(), grid_points(16), 0.01, tableau=RK4)
    """
    points = check_step_inputs(model, points, dt, problem)
    check_positive_int(iterations, "iterations")
    if num_columns is not None:
        check_positive_int(num_columns, "num_columns")
        if key is None:
            raise ValueError("`num_columns` needs a PRNG `key`: pass key=jax.random.key(seed).")
        check_key(key)
    del t
    opts = dict(iterations=iterations, method=method, rcond=rcond, damping=damping,
                num_columns=num_columns)
    keys = [None] * tableau.stages if key is None else list(jax.random.split(key, tableau.stages))

    def fit(i, start, target):
        return gauss_newton_fit(start, points, target, key=keys[i], **opts)

    return rk_fit_step(model, problem, points, dt, tableau, fit)


def rk_fit_step(model, problem, points, dt, tableau: Tableau, fit):
    """The explicit Runge-Kutta step of TENG and OBTI with a pluggable fit.

    ``fit(i, start, target)`` returns a network fitted to ``target`` at ``points``, started
    from ``start``; it is called once per stage after the first and once for the step.
    """
    u_n = jax.vmap(model)(points)
    slopes = [operator_values(model, problem, points)]
    current = model
    for i in range(1, tableau.stages + 1):
        coeffs = tableau.b if i == tableau.stages else tableau.a[i]
        incr = sum(c * k for c, k in zip(coeffs, slopes) if c != 0)
        current = fit(i - 1, current, u_n + dt * incr)
        if i < tableau.stages:
            slopes.append(operator_values(current, problem, points))
    return current


def teng_euler(model, t, problem, points, dt, **kwargs):
    """One TENG-Euler step: fit ``u_{n+1} ~ u_n + dt L[u_n]`` (Chen et al. 2024, Eq. 8).

    Keyword arguments as :func:`teng_rk_step` (``iterations``, ``method``, ``rcond``,
    ``damping``, ``num_columns``, ``key``).

    Example:
        >>> net = teng_euler(net, 0.0, Heat2D(), grid_points(16), 1e-3, iterations=3)
    """
    return teng_rk_step(model, t, problem, points, dt, tableau=EULER, **kwargs)


def teng_heun(model, t, problem, points, dt, **kwargs):
    """One TENG-Heun step (Chen et al. 2024, Eq. 9): ``u_tmp`` by a TENG-Euler fit, then fit
    ``u_{n+1} ~ u_n + dt/2 (L[u_n] + L[u_tmp])``. Arguments as :func:`teng_rk_step`.

    Example:
        >>> net = teng_heun(net, 0.0, Heat2D(), grid_points(16), 1e-3, iterations=3)
    """
    return teng_rk_step(model, t, problem, points, dt, tableau=HEUN, **kwargs)
