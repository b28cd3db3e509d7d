"""A diffrax solver wrapper that accumulates the solver's own heuristics in its state.

diffrax keeps a step's new solver state only when the controller accepts the step, so
whatever this wrapper adds to its state counts accepted steps only. The totals are read
back with ``SaveAt(solver_state=True)`` and are differentiable under
``RecursiveCheckpointAdjoint`` (the recipe of diffrax issue #196).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from ..internal import check_key, check_positive
from ._heuristics import (
    check_stiffness_tableau,
    implicit_term,
    jacobian_spectral_radius,
    scaled_error,
    stability_boundary,
    stiffness_estimate,
)


class Heuristics(eqx.Module):
    """Running totals over accepted steps (Pal et al., ICML 2021, Sec. 3).

    Attributes:
        error: R_E = sum_j E_j |dt_j|, E_j the scaled RMS local error estimate.
        stiffness: R_S = sum_j S_j, S_j = |dt_j| rho_j / r, Hairer's eigenvalue estimate
            rho_j relative to the stability boundary r (0 when not requested).
        accepted: number of accepted steps.
        sample_t, sample_y, sample_dt: one accepted step drawn uniformly at random by
            reservoir sampling (only when the wrapper has a ``key``): the
            "biased" draw of the local regularizer (Pal et al., ICML 2023, Sec. 3.2).
    """

    error: Float[Array, ""]
    stiffness: Float[Array, ""]
    accepted: Int[Array, ""]
    sample_t: Float[Array, ""]
    sample_y: PyTree[Array]
    sample_dt: Float[Array, ""]


def _uses_controller_tols(root_finder, attr: str) -> bool:
    return type(getattr(root_finder, attr, None)).__name__ == "_UseStepSizeTol"


def resolve_root_finder(
    solver: diffrax.AbstractSolver, controller: diffrax.AbstractStepSizeController
) -> diffrax.AbstractSolver:
    """An implicit solver with the Newton tolerances diffrax would take from the
    controller filled in now (diffrax does it only for an unwrapped solver); other
    solvers unchanged."""
    root_finder = getattr(solver, "root_finder", None)
    if not isinstance(solver, diffrax.AbstractImplicitSolver) or root_finder is None:
        return solver
    inner = controller.controller if isinstance(controller, diffrax.ClipStepSizeController) else controller
    attrs = [a for a in ("rtol", "atol", "norm") if _uses_controller_tols(root_finder, a)]
    if not attrs:
        return solver
    return eqx.tree_at(
        lambda s: tuple(getattr(s.root_finder, a) for a in attrs),
        solver,
        tuple(getattr(inner, a) for a in attrs),
    )


def controller_tolerances(controller: diffrax.AbstractStepSizeController) -> tuple[float, float]:
    """(rtol, atol) of a PID controller, or of the PID controller inside a clipping one."""
    inner = controller
    if isinstance(inner, diffrax.ClipStepSizeController):
        inner = inner.controller
    if not isinstance(inner, diffrax.PIDController):
        raise ValueError(
            f"solver heuristics, the local regularizer and the automatic first step (dt0=None) "
            f"need a diffrax.PIDController, alone or inside diffrax.ClipStepSizeController "
            f"(its rtol/atol scale the error estimate); got {type(controller).__name__}. Pass "
            f"stepsize_controller=diffrax.PIDController(rtol=..., atol=...)."
        )
    return inner.rtol, inner.atol  # pyright: ignore[reportReturnType]


class HeuristicsSolver(diffrax.AbstractAdaptiveSolver, diffrax.AbstractWrappedSolver):
    """Wraps an adaptive diffrax solver and sums its error (and stiffness) estimates.

    The tolerances come from the step-size controller, the one source of them. Simplest:
    ``nde.solve(terms, HeuristicsSolver(solver), ..., stepsize_controller=pid)``, which
    takes them from ``pid``, saves the solver state itself and returns the totals. With a
    plain ``diffrax.diffeqsolve``, pass the controller here too, save the solver state
    (``SaveAt(..., solver_state=True)``) and read the totals with ``read_heuristics(sol)``.

    Explicit Runge-Kutta, implicit (ImplicitEuler, Kvaerno3/4/5) and IMEX (KenCarp3/4/5)
    solvers are accepted: all of them return an embedded error estimate, which E_j
    scales. For the stiffness estimate see ``stiffness``.

    Args:
        solver: the adaptive solver that does the work (e.g. ``diffrax.Tsit5()``).
        stepsize_controller: the ``diffrax.PIDController`` (alone or inside
            ``ClipStepSizeController``) of the solve; its rtol/atol scale E_j, so that E_j
            is the number the controller compares with 1. None: ``nde.solve`` fills it in
            from its own ``stepsize_controller`` (a plain diffeqsolve then fails with a
            message saying so).
        stiffness: also accumulate a stiffness estimate: Hairer's stage-based one for
            explicit tableaus whose last two stages lie at the end of the step (Tsit5,
            Dopri5, Dopri8); for implicit and IMEX solvers (whose stages give no such
            pair) the power-method estimate ``jacobian_spectral_radius`` of the
            (implicit) term's Jacobian at the step's start, ``stiffness_iterations``
            JVPs per step.
        stability_radius: r in S_j; None: ``stability_boundary(solver.tableau)`` for an
            explicit solver with ``stiffness``, else 1 (implicit solvers are A-stable:
            no boundary; S_j is then h_j rho_j itself).
        stiffness_iterations: power-method steps of the implicit stiffness estimate.
        key: if given, also keep one uniformly drawn accepted step (PRNG key).
        differentiate_denominator: let gradients through the stiffness estimate's
            denominator (see ``stiffness_estimate``).

    Example:
        >>> pid = diffrax.PIDController(rtol=1e-4, atol=1e-4)
        >>> sol = diffrax.diffeqsolve(
        ...     diffrax.ODETerm(lambda t, y, args: -y), HeuristicsSolver(diffrax.Tsit5(), pid),
        ...     0.0, 1.0, 0.1, jnp.ones(2), stepsize_controller=pid,
        ...     saveat=diffrax.SaveAt(t1=True, solver_state=True))
        >>> bool(read_heuristics(sol).error > 0)
        True
    """

    solver: diffrax.AbstractSolver
    rtol: float | None
    atol: float | None
    stiffness: bool = eqx.field(static=True)
    stability_radius: float
    key: PRNGKeyArray | None
    differentiate_denominator: bool = eqx.field(static=True)
    stiffness_iterations: int = eqx.field(static=True)

    def __init__(
        self,
        solver: diffrax.AbstractSolver,
        stepsize_controller: diffrax.AbstractStepSizeController | None = None,
        *,
        stiffness: bool = False,
        stability_radius: float | None = None,
        key: PRNGKeyArray | None = None,
        differentiate_denominator: bool = False,
        stiffness_iterations: int = 6,
    ):
        if not isinstance(solver, diffrax.AbstractAdaptiveSolver):
            raise ValueError(
                f"HeuristicsSolver wraps an adaptive solver with an error estimate (Tsit5, "
                f"Dopri5, Bosh3, Kvaerno5, ImplicitEuler, KenCarp4, ...); got "
                f"{type(solver).__name__}."
            )
        if isinstance(solver, HeuristicsSolver):
            raise ValueError(
                "HeuristicsSolver is already wrapped in a HeuristicsSolver: wrap the plain "
                "solver once."
            )
        if stepsize_controller is None:
            self.rtol = self.atol = None
        elif not isinstance(stepsize_controller, diffrax.AbstractStepSizeController):
            raise TypeError(
                f"HeuristicsSolver(solver, stepsize_controller) reads rtol/atol from the "
                f"controller, so that they are the controller's own: pass the "
                f"diffrax.PIDController you give diffrax.diffeqsolve, not "
                f"{type(stepsize_controller).__name__} {stepsize_controller!r}."
            )
        else:
            self.rtol, self.atol = controller_tolerances(stepsize_controller)
            solver = resolve_root_finder(solver, stepsize_controller)
        if (
            isinstance(stiffness_iterations, bool)
            or not isinstance(stiffness_iterations, int)
            or stiffness_iterations < 1
        ):
            raise ValueError(
                f"stiffness_iterations must be a positive integer (power-method steps), got "
                f"{stiffness_iterations!r}."
            )
        self.solver = solver
        self.stiffness = stiffness
        self.stiffness_iterations = stiffness_iterations
        implicit = isinstance(solver, diffrax.AbstractImplicitSolver)
        if stability_radius is None:
            tableau = check_stiffness_tableau(solver) if stiffness and not implicit else None
            stability_radius = 1.0 if tableau is None else stability_boundary(tableau)
        elif stiffness and not implicit:
            check_stiffness_tableau(solver)
        check_positive(stability_radius, "stability_radius")
        self.stability_radius = stability_radius
        self.key = None if key is None else check_key(key)
        self.differentiate_denominator = differentiate_denominator

    @property
    def root_finder(self):
        # diffrax reads (and for an unset tolerance replaces) the Newton solver's
        # tolerances of an implicit solver; they are set in __init__ or by nde.solve.
        return self.solver.root_finder  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def term_structure(self):
        return self.solver.term_structure

    @property
    def interpolation_cls(self):  # pyright: ignore
        return self.solver.interpolation_cls

    @property
    def term_compatible_contr_kwargs(self):
        return self.solver.term_compatible_contr_kwargs

    def order(self, terms):
        return self.solver.order(terms)

    def strong_order(self, terms):
        return self.solver.strong_order(terms)

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def init(self, terms, t0, t1, y0, args):
        dtype = jnp.result_type(*jax.tree_util.tree_leaves(y0))
        zero = jnp.zeros((), dtype)
        totals = Heuristics(
            error=zero,
            stiffness=zero,
            accepted=jnp.zeros((), jnp.int32),
            sample_t=jnp.asarray(t0, dtype),
            sample_y=y0,
            sample_dt=zero,
        )
        return self.solver.init(terms, t0, t1, y0, args), totals

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        if self.rtol is None or self.atol is None:
            raise ValueError(
                "HeuristicsSolver has no tolerances: it was built without a step-size "
                "controller. Solve with nde.solve(terms, solver, ..., stepsize_controller=pid) "
                "(which takes them from pid), or build HeuristicsSolver(solver, pid) with the "
                "controller you pass to diffrax.diffeqsolve."
            )
        inner_state, totals = solver_state
        y1, y_error, dense_info, inner_state, result = self.solver.step(
            terms, t0, t1, y0, args, inner_state, made_jump
        )
        dt = jnp.abs(t1 - t0)
        # A failed step (e.g. diverged Newton iterations) has y_error = inf and possibly a
        # non-finite y1. Its heuristics are discarded with the rejected step, but their
        # linearization at inf/NaN (inf / inf in the RMS norm) would put NaN into the
        # backward pass, times the zero cotangent of a rejected step: evaluate them at 0.
        finite = lambda x: jnp.where(jnp.isfinite(x), x, jnp.zeros_like(x))
        error_j = scaled_error(y0, jax.tree_util.tree_map(finite, y1),
                               jax.tree_util.tree_map(finite, y_error), self.rtol, self.atol)
        if not self.stiffness:
            stiff_j = jnp.zeros_like(error_j)
        elif isinstance(self.solver, diffrax.AbstractImplicitSolver):
            term = implicit_term(terms)
            rho = jacobian_spectral_radius(
                lambda t, y: term.vf(t, y, args), t0, y0, self.stiffness_iterations
            )
            stiff_j = rho * dt.astype(rho.dtype) / self.stability_radius
        else:
            stiff_j = (
                stiffness_estimate(
                    self.solver.tableau,  # pyright: ignore[reportAttributeAccessIssue]
                    dense_info["k"],
                    self.differentiate_denominator,
                )
                / self.stability_radius
            )
        n = totals.accepted
        if self.key is None:
            take = jnp.array(False)
        else:
            u = jax.random.uniform(jax.random.fold_in(self.key, n))
            take = u * (n + 1).astype(u.dtype) < 1.0  # replace with probability 1/(n+1): a uniform draw
        choose = lambda new, old: jnp.where(take, new, old)
        totals = Heuristics(
            error=totals.error + (error_j * dt.astype(error_j.dtype)).astype(totals.error.dtype),
            stiffness=totals.stiffness + stiff_j.astype(totals.stiffness.dtype),
            accepted=n + 1,
            sample_t=choose(jnp.asarray(t0, totals.sample_t.dtype), totals.sample_t),
            sample_y=jax.tree_util.tree_map(choose, y0, totals.sample_y),
            sample_dt=choose(dt.astype(totals.sample_dt.dtype), totals.sample_dt),
        )
        return y1, y_error, dense_info, (inner_state, totals), result

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)


def read_heuristics(sol: diffrax.Solution) -> Heuristics:
    """The ``Heuristics`` totals of a ``diffrax.diffeqsolve`` with a ``HeuristicsSolver``.

    The solve must save its solver state: ``saveat=diffrax.SaveAt(..., solver_state=True)``.

    Example:
        >>> pid = diffrax.PIDController(rtol=1e-3, atol=1e-3)
        >>> sol = diffrax.diffeqsolve(
        ...     diffrax.ODETerm(lambda t, y, args: -y), HeuristicsSolver(diffrax.Tsit5(), pid),
        ...     0.0, 1.0, 0.1, jnp.ones(2), stepsize_controller=pid,
        ...     saveat=diffrax.SaveAt(t1=True, solver_state=True))
        >>> int(read_heuristics(sol).accepted) > 0
        True
    """
    if not isinstance(sol, diffrax.Solution):
        raise TypeError(f"read_heuristics takes a diffrax.Solution, got {type(sol).__name__}.")
    state = sol.solver_state
    if state is None:
        raise ValueError(
            "the solve did not save its solver state, which holds the heuristics: pass "
            "saveat=diffrax.SaveAt(..., solver_state=True) to diffrax.diffeqsolve."
        )
    if not (isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], Heuristics)):
        raise ValueError(
            "the solve's solver is not a HeuristicsSolver: pass "
            "solver=nde.HeuristicsSolver(diffrax.Tsit5(), stepsize_controller) to "
            "diffrax.diffeqsolve."
        )
    return state[1]
