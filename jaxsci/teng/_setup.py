"""The shared set-up of the TENG examples, demo, notebook and benchmark: a periodic network
(or, on a bounded problem, a box network) fitted to a problem's initial condition."""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array, Float

from ..internal import check_key
from ._checks import check_points, check_problem
from ._fit import AbstractFit, FitSolution, LevenbergMarquardt
from ._network import BoxMLP, PeriodicMLP


def initial_network(
    problem,
    points: Float[Array, "n d"],
    *,
    key: Array,
    embed: int = 4,
    width: int = 10,
    depth: int = 2,
    fit: AbstractFit = LevenbergMarquardt(iterations=150),
    dtype=None,
    exact_boundary: bool = True,
) -> FitSolution:
    """A network fitted to ``problem.initial`` at ``points`` (compiled).

    Builds ``PeriodicMLP(problem.dim, embed, width, depth, key=key, dtype=dtype)`` (on a
    bounded problem ``BoxMLP(problem.dim, width, depth, condition=problem.condition,
    embed=embed)``, or with ``condition=None`` when ``exact_boundary=False``, for boundary
    rows) and fits it with ``fit`` (Levenberg-Marquardt with variable projection by
    default): the starting point of every method in ``benchmarks/teng.py``, the demo and the
    notebook.

    Returns:
        The :class:`FitSolution` (``.model`` is the network, ``.residual`` the relative
        residual at the points).

    Example:
        >>> from jaxsci.pde.evolution import Heat2D, grid_points
        >>> sol = initial_network(Heat2D(), grid_points(6), key=jax.random.key(0), embed=2,
        ...                       width=4, depth=1, fit=LevenbergMarquardt(iterations=3))
        >>> bool(sol.residual < 1.0)
        True
    """
    check_problem(problem)
    key = check_key(key)
    points = check_points(points, problem.dim, problem.periodic)
    if not isinstance(fit, AbstractFit):
        raise TypeError(f"`fit` must be a jaxsci.teng fit strategy (e.g. LevenbergMarquardt()), "
                        f"got {type(fit).__name__}.")
    if problem.periodic:
        net = PeriodicMLP(problem.dim, embed, width, depth, key=key, dtype=dtype)
    else:
        condition = problem.condition if exact_boundary else None
        net = BoxMLP(problem.dim, width, depth, key=key, condition=condition, embed=embed,
                     dtype=dtype)
    return eqx.filter_jit(lambda m, p: fit(m, p, problem.initial(p)))(net, points)
