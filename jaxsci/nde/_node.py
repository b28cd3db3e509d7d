"""Neural ODE on diffrax with explicit Runge-Kutta solvers: true NFE; solver heuristics."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from jaxsci.nde._heuristics import (
    check_stiffness_tableau,
    initial_step_size,
    scaled_error,
    stability_boundary,
)
from jaxsci.nde._nfe import EXPLICIT_RK, FirstAcceptCounter, evals_per_step, is_fsal, nfe_count
from jaxsci.nde._solver import Heuristics, HeuristicsSolver


class ODESolution(eqx.Module):
    """What one solve returns.

    Attributes:
        ys: the state at the requested times (leading axis = times).
        nfe: vector-field evaluations of the forward solve, the initial step size
            selection and rejected steps included.
        num_steps, num_accepted, num_rejected: diffrax's step statistics.
        heuristics: running totals over accepted steps (``Heuristics``) when
            requested, else None.
    """

    ys: PyTree[Array]
    nfe: Int[Array, ""]
    num_steps: Int[Array, ""]
    num_accepted: Int[Array, ""]
    num_rejected: Int[Array, ""]
    heuristics: Heuristics | None = None


def check_max_steps(max_steps) -> None:
    """A clear error unless ``max_steps`` is a positive int (it is required)."""
    if max_steps is None:
        raise ValueError(
            "max_steps is missing: pass max_steps=<positive int>, the cap on solver steps "
            "(e.g. max_steps=4096)."
        )
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps <= 0:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}.")


def solution_from(sol: diffrax.Solution, nfe: Int[Array, ""], *, heuristics: bool) -> ODESolution:
    """``ODESolution`` from a ``throw=False`` diffrax solve; raises (under jit) if it hit
    max_steps. ``heuristics``: the solver state holds ``HeuristicsSolver`` totals."""
    ys = eqx.error_if(
        sol.ys,
        sol.result == diffrax.RESULTS.max_steps_reached,
        "the solve hit max_steps; raise max_steps or loosen rtol/atol.",
    )
    return ODESolution(
        ys=ys,
        nfe=nfe,
        num_steps=sol.stats["num_steps"],
        num_accepted=sol.stats["num_accepted_steps"],
        num_rejected=sol.stats["num_rejected_steps"],
        heuristics=sol.solver_state[1] if heuristics else None,
    )


def controller_tolerances(controller: diffrax.AbstractStepSizeController) -> tuple[float, float]:
    """(rtol, atol) of a PID controller, or of the PID controller inside a clipping one."""
    inner = getattr(controller, "controller", controller)
    if not isinstance(inner, diffrax.PIDController):
        raise ValueError(
            f"solver heuristics, the local regularizer and the automatic first step (dt0=None) "
            f"need a diffrax.PIDController, alone or inside diffrax.ClipStepSizeController "
            f"(its rtol/atol scale the error estimate); got {type(controller).__name__}. Pass "
            f"stepsize_controller=diffrax.PIDController(rtol=..., atol=...)."
        )
    return inner.rtol, inner.atol


def check_solver_and_controller(solver, controller) -> None:
    """A clear error for controllers NeuralODE/NeuralSDE do not support, and for adaptive
    steps with a solver that has no error estimate."""
    if not isinstance(
        controller, (diffrax.ConstantStepSize, diffrax.AbstractAdaptiveStepSizeController)
    ):
        raise ValueError(
            f"stepsize_controller must be diffrax.ConstantStepSize() (with dt0) or an adaptive "
            f"controller such as diffrax.PIDController; got {type(controller).__name__}."
        )
    adaptive = isinstance(controller, diffrax.AbstractAdaptiveStepSizeController)
    if adaptive and not isinstance(solver, diffrax.AbstractAdaptiveSolver):
        raise ValueError(
            f"{type(solver).__name__} has no embedded error estimate, so it cannot take "
            f"adaptive steps: pass stepsize_controller=diffrax.ConstantStepSize() and a dt0, "
            f"or an adaptive explicit Runge-Kutta solver ({EXPLICIT_RK})."
        )


def check_heuristics_adjoint(adjoint: diffrax.AbstractAdjoint) -> None:
    """The heuristics' totals are differentiated only through RecursiveCheckpointAdjoint."""
    if not isinstance(adjoint, diffrax.RecursiveCheckpointAdjoint):
        raise ValueError(
            f"solver heuristics (heuristics=True, stiffness=True) are differentiable only "
            f"under diffrax.RecursiveCheckpointAdjoint (the default); with "
            f"{type(adjoint).__name__} their gradient would be lost (BacksolveAdjoint drops "
            f"it) or the solve fails. Use adjoint=diffrax.RecursiveCheckpointAdjoint(), or "
            f"local_regularization, which also works under BacksolveAdjoint."
        )


def _field_from_args(t, y, field):
    # The field travels as diffrax's `args`, so every adjoint (BacksolveAdjoint included)
    # sees its parameters as explicit inputs rather than closed-over values.
    return field(t, y)


class NeuralODE(eqx.Module):
    """dy/dt = f(t, y) solved by diffrax with an explicit Runge-Kutta solver.

    Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018. With an
    adaptive controller and no ``dt0`` the first step is chosen by Hairer's algorithm
    (Solving ODEs I, Sec. II.4; two evaluations, counted in the NFE).

    Supported (checked here, with an error that says what to use otherwise):

    - solvers: diffrax's explicit Runge-Kutta solvers, whose tableau gives the true NFE:
      Tsit5, Dopri5, Dopri8, Bosh3, Heun, Midpoint, Ralston (embedded error estimate,
      adaptive or constant steps) and Euler (constant steps only). Implicit, IMEX,
      reversible and SDE-specific solvers are rejected.
    - controllers: ``diffrax.PIDController`` (alone or inside
      ``ClipStepSizeController``), or ``diffrax.ConstantStepSize()`` with ``dt0``;
      other adaptive controllers need ``dt0``.
    - heuristics (``heuristics``/``stiffness``/``sample_key``): an adaptive solver with a
      PID controller; ``stiffness`` needs a tableau whose last two stages lie at the end
      of the step (Tsit5, Dopri5, Dopri8); R_E and R_S are differentiated under
      RecursiveCheckpointAdjoint only.
    - adjoints without heuristics: RecursiveCheckpointAdjoint, BacksolveAdjoint,
      DirectAdjoint (not ImplicitAdjoint: the solve saves at ``ts``); ``sample_key``
      not with DirectAdjoint.

    Args:
        vector_field: callable ``f(t, y)`` (usually an ``equinox`` module).
        solver: an explicit Runge-Kutta diffrax solver (default Tsit5).
        stepsize_controller: a diffrax controller (default PID, rtol=atol=1e-3).
        adjoint: a diffrax adjoint (default RecursiveCheckpointAdjoint).
        max_steps: positive int, the cap on solver steps. Required: it sets the memory
            of the default adjoint and failing loudly beats a silent truncation.

    Example:
        >>> node = NeuralODE(lambda t, y: -y, max_steps=64)
        >>> sol = node(jnp.ones(2), jnp.array([0.0, 1.0]))
        >>> sol.ys[-1], sol.nfe
    """

    vector_field: Callable
    solver: diffrax.AbstractSolver = eqx.field(static=True)
    stepsize_controller: diffrax.AbstractStepSizeController = eqx.field(static=True)
    adjoint: diffrax.AbstractAdjoint = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        vector_field: Callable,
        solver: diffrax.AbstractSolver | None = None,
        stepsize_controller: diffrax.AbstractStepSizeController | None = None,
        adjoint: diffrax.AbstractAdjoint | None = None,
        *,
        max_steps: int | None = None,
    ):
        if not callable(vector_field):
            raise TypeError("vector_field must be a callable f(t, y); pass a function or module.")
        check_max_steps(max_steps)
        self.vector_field = vector_field
        self.solver = diffrax.Tsit5() if solver is None else solver
        evals_per_step(self.solver)  # a clear error now for solvers without an NFE count
        self.stepsize_controller = (
            diffrax.PIDController(rtol=1e-3, atol=1e-3)
            if stepsize_controller is None
            else stepsize_controller
        )
        check_solver_and_controller(self.solver, self.stepsize_controller)
        self.adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
        self.max_steps = max_steps

    @property
    def adaptive(self) -> bool:
        return not isinstance(self.stepsize_controller, diffrax.ConstantStepSize)

    def initial_step(self, t0, y0) -> tuple[Float[Array, ""], int]:
        """Hairer's initial step for (t0, y0) and its cost in evaluations (2)."""
        rtol, atol = controller_tolerances(self.stepsize_controller)
        order = self.solver.order(diffrax.ODETerm(lambda t, y, args: y))
        return initial_step_size(self.vector_field, t0, y0, order, rtol, atol), 2

    def heuristics_solver(
        self, *, stiffness: bool = False, sample_key: PRNGKeyArray | None = None
    ) -> HeuristicsSolver:
        """This ODE's solver wrapped to accumulate its error (and stiffness) estimates."""
        rtol, atol = controller_tolerances(self.stepsize_controller)
        radius = stability_boundary(check_stiffness_tableau(self.solver)) if stiffness else 1.0
        return HeuristicsSolver(
            self.solver, rtol, atol, stiffness, stability_radius=radius, sample_key=sample_key
        )

    def __call__(
        self,
        y0: PyTree[Array],
        ts: Float[Array, " n"],
        dt0: float | None = None,
        *,
        heuristics: bool = False,
        stiffness: bool = False,
        sample_key: PRNGKeyArray | None = None,
    ) -> ODESolution:
        """Solve from ts[0] to ts[-1], saving at ts.

        Args:
            y0: initial state (array or PyTree of arrays).
            ts: increasing save times; the solve runs over [ts[0], ts[-1]].
            dt0: first step; None picks it by Hairer's algorithm (adaptive only).
            heuristics: accumulate R_E (and R_S with ``stiffness``) over accepted steps;
                differentiable under RecursiveCheckpointAdjoint.
            stiffness: also accumulate the stiffness estimate (Tsit5, Dopri5).
            sample_key: also keep one uniformly drawn accepted step (for the biased
                local regularizer).

        Raises (under jit, via ``equinox.error_if``) if max_steps is exceeded.
        """
        if not self.adaptive and dt0 is None:
            raise ValueError("a constant step size needs dt0: pass dt0=<float>.")
        if (heuristics or stiffness or sample_key is not None) and not self.adaptive:
            raise ValueError(
                "solver heuristics need an error estimate from an adaptive solve; pass an "
                "adaptive solver (Tsit5, Dopri5, ...) with diffrax.PIDController."
            )
        if heuristics or stiffness:
            check_heuristics_adjoint(self.adjoint)
        if sample_key is not None and isinstance(self.adjoint, diffrax.DirectAdjoint):
            raise ValueError(
                "sample_key (the biased local draw) wraps the solver, which DirectAdjoint "
                "cannot handle: use RecursiveCheckpointAdjoint or BacksolveAdjoint, or "
                "local_regularization(..., sampling='unbiased')."
            )
        ts = jnp.asarray(ts)
        initial_evals = 0
        if dt0 is None:
            dt0, initial_evals = self.initial_step(ts[0], y0)
        track = heuristics or stiffness or sample_key is not None
        solver = (
            self.heuristics_solver(stiffness=stiffness, sample_key=sample_key)
            if track
            else self.solver
        )
        count_first = self.adaptive and is_fsal(self.solver)
        controller = (
            FirstAcceptCounter(self.stepsize_controller) if count_first else self.stepsize_controller
        )
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(_field_from_args),
            solver,
            ts[0],
            ts[-1],
            dt0,
            y0,
            args=self.vector_field,
            saveat=diffrax.SaveAt(ts=ts, solver_state=track, controller_state=count_first),
            stepsize_controller=controller,
            adjoint=self.adjoint,
            max_steps=self.max_steps,
            throw=False,
        )
        nfe = nfe_count(
            self.solver,
            sol.stats["num_steps"],
            first_stage_evals=sol.controller_state[1] if count_first else None,
            initial_step_evals=initial_evals,
        )
        return solution_from(sol, nfe, heuristics=track)


def one_step_error(
    node: NeuralODE, t0: Float[Array, ""], y0: PyTree[Array], dt: Float[Array, ""]
) -> tuple[Float[Array, ""], int]:
    """E(t0, y0, dt) * dt for one fresh step of the node's solver, and its evaluations.

    The local regularizer's penalty (Pal et al., ICML 2023, Sec. 3, eq. (5)).
    """
    rtol, atol = controller_tolerances(node.stepsize_controller)
    term = diffrax.ODETerm(lambda t, y, args: node.vector_field(t, y))
    state = node.solver.init(term, t0, t0 + dt, y0, None)
    y1, y_error, _, _, _ = node.solver.step(term, t0, t0 + dt, y0, None, state, True)
    evals = evals_per_step(node.solver) + (1 if is_fsal(node.solver) else 0)
    return scaled_error(y0, y1, y_error, rtol, atol) * dt, evals
