"""Time steppers: the TENG steps (Chen et al., ICML 2024, Sec. 3.2, Eqs. 7-9; Algorithms
1-2) and the base class the baselines share.

A TENG step forms a target from the PDE, ``u_n + dt L[u_n]`` (TENG-Euler) or
``u_n + dt/2 (L[u_n] + L[u_tmp])`` (TENG-Heun, ``u_tmp`` the fitted Euler stage), and fits
the network to it at the points with a fit strategy (Gauss-Newton by default). Any
explicit Runge-Kutta tableau works the same way: every stage value is a fitted network.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import taylor
from ..core import RESULTS
from ..internal import check_key, nonfinite
from ._boundary import BoundaryRows, check_rows
from ._checks import check_box_model, check_step_inputs
from ._fit import AbstractFit, FitSolution, GaussNewton
from ._tableau import HEUN, Tableau


def operator_values(model, problem, points: Float[Array, "n d"], *, backend=None,
                    key: Array | None = None) -> Float[Array, " n"]:
    """``L[u](x_i)`` at every point (``problem.operator``, by Taylor-mode differentiation).

    ``backend`` is a :mod:`jaxsci.taylor` backend (default ``taylor.Exact(mode="jet")``); a
    stochastic one (``taylor.SparseSTDE(...)``) needs ``key`` (one fresh key per point).

    Example:
        >>> from jaxsci.pde.evolution import Heat2D
        >>> operator_values(lambda x: jnp.sin(x[0]), Heat2D(), jnp.ones((3, 2))).shape
        (3,)
    """
    if key is None:
        return jax.vmap(lambda x: problem.operator(model, x, backend=backend))(points)
    keys = jax.random.split(key, points.shape[0])
    return jax.vmap(lambda x, k: problem.operator(model, x, backend=backend, key=k))(points, keys)


class StepSolution(eqx.Module):
    """What one time step returns.

    Attributes:
        model: the network ``u_{n+1}``.
        residual: the step's relative residual: the last fit's ``|target - u| / |target|``
            (TENG, OBTI) or the projection residual ``|J theta' - L[u]| / |L[u]|`` (TDVP).
        result: a :class:`jaxsci.core.RESULTS` code.
    """

    model: Any
    residual: Float[Array, ""]
    result: RESULTS


class AbstractStepper(eqx.Module):
    """A time stepper ``stepper(problem, model, points, t, dt, *, key=None, throw=True)``.

    Subclasses implement :meth:`step` (the step without argument checks, traceable) and
    :meth:`failure_message`; calling the stepper checks the arguments (``dt > 0``,
    floating points of shape ``(n, 2)`` in ``[0, 2pi)^2``, a periodic network, an
    evolution problem), takes the step and, with ``throw``, raises a failure with that
    message (inside ``jit`` too). :func:`evolve` takes many steps in one compiled loop.
    """

    @abc.abstractmethod
    def step(self, problem, model, points: Float[Array, "n 2"], t, dt, *,
             key: Array | None = None) -> StepSolution:
        """One step from ``t`` to ``t + dt`` (no argument checks; never raises on failure)."""

    @abc.abstractmethod
    def failure_message(self, dtype) -> str:
        """The error message of a failed step in ``dtype``: names the setting and the fix."""

    def check_setup(self, problem, model, key) -> None:
        """Python-time checks of the stepper against the problem, model and key: boundary
        rows match the problem, and a stochastic ``backend`` has a ``key``."""
        rows = getattr(self, "boundary", None)
        check_rows(rows, problem)
        check_box_model(problem, model, rows)
        backend = getattr(self, "backend", None)
        if backend is not None and not isinstance(backend, taylor.AbstractBackend):
            raise TypeError("`backend` must be a jaxsci.taylor backend (e.g. taylor.Exact() or "
                            f"taylor.SparseSTDE(...)), got {type(backend).__name__}.")
        if backend is not None and backend.stochastic and key is None:
            raise TypeError(f"the stochastic backend {type(backend).__name__} draws random "
                            "directions, so `key` is required: pass key=jax.random.key(seed).")

    def __call__(self, problem, model, points: Float[Array, "n 2"], t: float | Array,
                 dt: float | Array, *, key: Array | None = None,
                 throw: bool = True) -> StepSolution:
        points, dt = check_step_inputs(problem, model, points, dt)
        self.check_setup(problem, model, key)
        if key is not None:
            key = check_key(key)
        sol = self.step(problem, model, points, t, dt, key=key)
        if throw:
            params, static = eqx.partition(sol.model, eqx.is_inexact_array)
            params = eqx.error_if(params, sol.result != RESULTS.successful,
                                  self.failure_message(points.dtype))
            sol = eqx.tree_at(lambda s: s.model, sol, eqx.combine(params, static))
        return sol


def as_time(dt, dtype):
    """``dt`` as an array of the model's dtype (strict promotion safe)."""
    return jnp.asarray(dt).astype(dtype)


def rk_fit_step(problem, model, points, dt, tableau: Tableau, fit: AbstractFit,
                keys, *, rows=None, backend=None, operator_keys=None) -> StepSolution:
    """The explicit Runge-Kutta step of TENG and OBTI with a pluggable fit.

    Stage ``i`` fits a network to ``u_n + dt sum_j a_ij k_j`` with ``k_j = L[u_j]``, and the
    step fits ``u_{n+1}`` to ``u_n + dt sum_i b_i k_i``, each fit started from the previous
    fitted network (with the boundary ``rows``, if any); ``keys[i]`` is the key of fit ``i``
    and ``operator_keys[i]`` the key of slope ``i`` under a stochastic ``backend`` (or
    ``None``).
    """
    operator_keys = [None] * tableau.stages if operator_keys is None else operator_keys

    def slope(m, i):
        return operator_values(m, problem, points, backend=backend, key=operator_keys[i])

    u_n = jax.vmap(model)(points)
    dt = as_time(dt, u_n.dtype)
    slopes = [slope(model, 0)]
    bad = nonfinite(u_n) | nonfinite(slopes[0])
    result = RESULTS.where(bad, RESULTS.nonfinite_values, RESULTS.successful)
    current = model
    sol: FitSolution | None = None
    for i in range(1, tableau.stages + 1):
        coeffs = tableau.b if i == tableau.stages else tableau.a[i]
        incr = sum(c * k for c, k in zip(coeffs, slopes) if c != 0)
        sol = fit(current, points, u_n + dt * incr, key=keys[i - 1], throw=False, rows=rows)
        current = sol.model
        result = RESULTS.where(result == RESULTS.successful, sol.result, result)
        if i < tableau.stages:
            slopes.append(slope(current, i))
    assert sol is not None
    return StepSolution(current, sol.residual, result)


class TENG(AbstractStepper):
    """TENG with an explicit Runge-Kutta ``tableau`` (Chen et al. 2024, Sec. 3.2).

    Every stage value and the step's result is a network fitted by ``fit`` to the Runge-Kutta
    combination of the slopes ``L[u_j]``; ``TENG(EULER)`` and ``TENG(HEUN)`` are TENG-Euler
    (Eq. 8) and TENG-Heun (Eq. 9).

    The Jacobian is very ill-conditioned and ``L[u]`` needs its small singular directions,
    so accuracy is set by the damping and the number of iterations: the default
    ``GaussNewton()`` (normal equations, damping 1e-12, 10 iterations) was 10-40x more
    accurate than damping 1e-10 with 2 iterations on the periodic benchmarks
    (docs/teng.md). It needs float64 (``jax.config.update("jax_enable_x64", True)``).

    On a bounded problem (:class:`jaxsci.pde.evolution.AbstractBoxProblem`) the network
    either satisfies the boundary condition exactly (:class:`BoxMLP` with the problem's
    ``condition``) or the condition enters every fit as weighted rows (``boundary``).

    Args:
        tableau: the explicit Runge-Kutta method (default :data:`HEUN`).
        fit: the fit strategy of every stage (default :class:`GaussNewton`); with
            ``GaussNewton(num_columns=...)`` the step needs a ``key``.
        boundary: :class:`BoundaryRows` added to every fit (bounded problems only).
        backend: the :mod:`jaxsci.taylor` backend of ``L[u]`` (default exact jets); a
            stochastic one (``taylor.SparseSTDE(...)``) needs a ``key``.

    Example:
        >>> from jaxsci.pde.evolution import Heat2D, grid_points
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> import lineax as lx
        >>> fit = GaussNewton(iterations=1, solver=lx.SVD(rcond=1e-4), damping=0.0)
        >>> teng = TENG(jaxsci.teng.EULER, fit=fit)
        >>> sol = teng(Heat2D(), net, grid_points(4), 0.0, 0.01)
        >>> sol.model(jnp.zeros(2)).shape
        ()
    """

    tableau: Tableau = HEUN
    fit: AbstractFit = GaussNewton()
    boundary: BoundaryRows | None = None
    backend: taylor.AbstractBackend | None = None

    def __check_init__(self):
        if not isinstance(self.tableau, Tableau):
            raise TypeError("`tableau` must be a jaxsci.teng.Tableau (EULER, HEUN, RK4 or your "
                            f"own), got {type(self.tableau).__name__}.")
        if not isinstance(self.fit, AbstractFit):
            raise TypeError("`fit` must be a jaxsci.teng fit strategy (GaussNewton(...), "
                            f"OptaxFit(...)), got {type(self.fit).__name__}.")

    def failure_message(self, dtype) -> str:
        if isinstance(self.fit, GaussNewton):
            return f"TENG ({self.tableau.name}): " + self.fit.failure_message(dtype)
        return (f"TENG ({self.tableau.name}) failed: a NaN/inf appeared. Check the network's "
                "parameters and the initial condition for NaN/inf, or lower dt.")

    def step(self, problem, model, points, t, dt, *, key=None) -> StepSolution:
        del t  # the problems are autonomous
        keys, operator_keys = stage_keys(key, self.tableau.stages)
        return rk_fit_step(problem, model, points, dt, self.tableau, self.fit, keys,
                           rows=self.boundary, backend=self.backend, operator_keys=operator_keys)


def stage_keys(key, stages: int):
    """``(fit keys, slope keys)``, ``stages`` of each from ``key`` (all ``None`` without)."""
    if key is None:
        return [None] * stages, [None] * stages
    keys = list(jax.random.split(key, 2 * stages))
    return keys[:stages], keys[stages:]
