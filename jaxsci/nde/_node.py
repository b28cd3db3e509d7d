"""Neural ODE on diffrax with explicit Runge-Kutta or implicit solvers: true NFE; solver heuristics."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from ..core._results import RESULTS, nonfinite, raise_if_failed
from ..internal import check_key
from ._count import EvaluationCounter
from ._field import as_field
from ._guard import NonfiniteWatch, stopped_by_nonfinite
from ._heuristics import initial_step_size, scaled_error
from ._nfe import EXPLICIT_RK, FirstAcceptCounter, evals_per_step, is_fsal, nfe_count
from ._solver import (
    Heuristics,
    HeuristicsSolver,
    _uses_controller_tols,
    controller_tolerances,
    resolve_root_finder,
)


class ODESolution(eqx.Module):
    """What one solve returns (``NeuralODE`` and ``NeuralSDE``).

    Attributes:
        ys: the state at the requested times (leading axis = times).
        nfe: vector-field evaluations of the forward solve, the initial step size
            selection and rejected steps included.
        num_steps, num_accepted, num_rejected: diffrax's step statistics.
        result: a :class:`jaxsci.core.RESULTS` code: ``successful``, every diffrax code
            (``max_steps_reached``, ``dt_min_reached``, ...) passed through, or
            ``nonfinite_values`` when the state, the field's output or the times became
            NaN/inf. With ``throw=True`` (the default) a failure raises instead.
        heuristics: running totals over accepted steps (``Heuristics``) when
            requested, else None.
        jacobian_evals: with ``NeuralODE(...)(..., count=True)``, the counted
            linearizations of the field (an implicit solver's Newton Jacobians; 0 for an
            explicit one), else None.

    For an implicit solver (ImplicitEuler, Kvaerno3/4/5) ``nfe`` is -1 unless the solve
    was counted (``count=True``): its Newton iterations vary from step to step and only a
    count gives them.
    """

    ys: PyTree[Array]
    nfe: Int[Array, ""]
    num_steps: Int[Array, ""]
    num_accepted: Int[Array, ""]
    num_rejected: Int[Array, ""]
    result: RESULTS
    heuristics: Heuristics | None = None
    jacobian_evals: Int[Array, ""] | None = None


def check_max_steps(max_steps) -> None:
    """A clear error unless ``max_steps`` is a positive int (it is required)."""
    if max_steps is None:
        raise ValueError(
            "max_steps is missing: pass max_steps=<positive int>, the cap on solver steps "
            "(e.g. max_steps=4096)."
        )
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps <= 0:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}.")


def _concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def check_y0(y0: PyTree) -> PyTree:
    """y0's leaves as floating arrays; a ValueError for NaN/inf entries (when concrete)
    and a TypeError for non-floating ones."""
    leaves = jax.tree_util.tree_leaves(y0)
    if not leaves:
        raise ValueError("y0 is empty: pass an array (or a pytree of arrays) of initial states.")
    for leaf in leaves:
        dtype = jnp.result_type(leaf)
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(
                f"y0 must hold floating-point arrays, got dtype {dtype}; cast it, e.g. "
                f"jnp.asarray(y0, jnp.float32)."
            )
        if _concrete(leaf) and not np.all(np.isfinite(np.asarray(leaf))):
            raise ValueError(
                "y0 contains NaN or inf; the solve would only carry them along. Check the "
                "inputs (or the encoder that produced y0) for NaN/inf."
            )
    return y0


def check_ts(ts) -> Float[Array, " n"]:
    """ts as a floating 1-D array of at least two times; when concrete, a ValueError
    unless they are finite, non-decreasing and ts[-1] > ts[0]."""
    ts = jnp.asarray(ts)
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.result_type(float))
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(
            f"ts must be a 1-D array of at least two save times (start and end), got shape "
            f"{ts.shape}; e.g. ts=jnp.array([0.0, 1.0])."
        )
    if _concrete(ts):
        values = np.asarray(ts)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"ts must be finite, got {values}; NaN/inf save times are not allowed.")
        if np.any(np.diff(values) < 0) or not values[-1] > values[0]:
            raise ValueError(
                f"ts must be increasing (non-decreasing, ts[-1] > ts[0]), got {values}; the "
                f"solve runs from ts[0] to ts[-1]."
            )
    return ts


def check_dt0(dt0):
    """None, or a positive finite first step: a ValueError when concrete, an error inside
    jit (``equinox.error_if``) for a traced dt0 <= 0."""
    if dt0 is None:
        return None
    if _concrete(dt0):
        value = np.asarray(dt0)
        if value.shape != () or not np.isrealobj(value) or not np.isfinite(value) or not value > 0:
            raise ValueError(
                f"dt0 must be a positive finite number (the first step), got {dt0!r}; pass "
                f"e.g. dt0=0.01, or dt0=None for the automatic choice (adaptive solves)."
            )
        return dt0
    return eqx.error_if(dt0, dt0 <= 0, "dt0 must be positive (the first step).")


def inputs_nonfinite(ts: Array, dt0) -> Array:
    """True where traced times or first step are NaN/inf (checked inside jit)."""
    bad = nonfinite(ts)
    if dt0 is not None:
        bad = bad | nonfinite(jnp.asarray(dt0))
    return bad


def _controller_state(sol: diffrax.Solution):
    if sol.controller_state is None:  # cannot happen: every solve here saves it
        raise RuntimeError("the solve did not save its controller state.")
    return sol.controller_state


def solution_from(
    sol: diffrax.Solution,
    nfe: Int[Array, ""],
    *,
    heuristics: bool,
    watched: bool,
    bad_inputs: Array,
    throw: bool,
    jacobian_evals: Int[Array, ""] | None = None,
) -> ODESolution:
    """``ODESolution`` from a ``throw=False`` diffrax solve with every diffrax result code
    passed through and NaN/inf reported as ``nonfinite_values``; with ``throw`` a failure
    raises (inside jit too). ``heuristics``: the solver state holds ``HeuristicsSolver``
    totals; ``watched``: the controller is a ``NonfiniteWatch``; ``bad_inputs``: traced
    inputs were NaN/inf."""
    result = RESULTS.promote(sol.result)
    failed = result != RESULTS.successful
    diagnosis = bad_inputs | (nonfinite(sol.ys) & ~failed)
    if watched:
        # A solve stopped (max_steps, dt_min) by NaN/inf attempts was stopped by the
        # NaN/inf, not by the step count.
        num_rejected = sol.stats["num_rejected_steps"]
        diagnosis = diagnosis | (failed & stopped_by_nonfinite(_controller_state(sol), num_rejected))
    result = RESULTS.where(diagnosis, RESULTS.nonfinite_values, result)
    totals = None
    if heuristics:
        if sol.solver_state is None:  # cannot happen: SaveAt(solver_state=True) is set
            raise RuntimeError("the solve did not save its solver state.")
        totals = sol.solver_state[1]
    return ODESolution(
        ys=raise_if_failed(sol.ys, result, throw),
        nfe=nfe,
        num_steps=sol.stats["num_steps"],
        num_accepted=sol.stats["num_accepted_steps"],
        num_rejected=sol.stats["num_rejected_steps"],
        result=result,
        heuristics=totals,
        jacobian_evals=jacobian_evals,
    )


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


IMEX = (diffrax.KenCarp3, diffrax.KenCarp4, diffrax.KenCarp5, diffrax.Sil3)


def is_implicit(solver: diffrax.AbstractSolver) -> bool:
    """Whether ``solver`` is an implicit (not IMEX) solver NeuralODE can take."""
    return isinstance(solver, diffrax.AbstractImplicitSolver) and not isinstance(solver, IMEX)


def check_node_solver(solver, controller) -> diffrax.AbstractSolver:
    """The solver NeuralODE will use: an explicit Runge-Kutta solver as it is, an
    implicit one with its Newton tolerances taken from the controller (as diffrax does for
    a plain solve); a clear error for IMEX solvers and for an implicit solver whose Newton
    tolerances cannot come from a constant-step controller."""
    if isinstance(solver, IMEX):
        raise ValueError(
            f"{type(solver).__name__} is an IMEX solver: it needs the field split into an "
            f"explicit and an implicit part, diffrax.MultiTerm(ODETerm(explicit), "
            f"ODETerm(implicit)), which NeuralODE's single field f(t, y) is not. Use "
            f"nde.solve(MultiTerm(...), {type(solver).__name__}(), ..., count=True), or an "
            f"implicit solver here (diffrax.Kvaerno5(), diffrax.ImplicitEuler())."
        )
    if not is_implicit(solver):
        evals_per_step(solver)  # a clear error now for solvers without an NFE count
        return solver
    root_finder = getattr(solver, "root_finder", None)
    unset = [a for a in ("rtol", "atol") if _uses_controller_tols(root_finder, a)]
    if unset and not isinstance(controller, diffrax.AbstractAdaptiveStepSizeController):
        raise ValueError(
            f"{type(solver).__name__} takes its Newton tolerances ({', '.join(unset)}) from "
            f"an adaptive step-size controller, and {type(controller).__name__} has none. "
            f"Use stepsize_controller=diffrax.PIDController(rtol=..., atol=...), or set them "
            f"on the solver: {type(solver).__name__}(root_finder=optimistix.Chord(rtol=1e-6, "
            f"atol=1e-6, norm=optimistix.rms_norm))."
        )
    return resolve_root_finder(solver, controller)


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
    """dy/dt = f(t, y) solved by diffrax with an explicit Runge-Kutta or an implicit solver.

    Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018. With an
    adaptive controller and no ``dt0`` the first step is chosen by Hairer's algorithm
    (Solving ODEs I, Sec. II.4; two evaluations, counted in the NFE).

    The field is called as ``f(t, y)``. A diffrax field ``f(t, y, args)`` goes through
    ``DiffraxField(f, args)``; a ``diffrax.ODETerm`` is accepted as it is (``args=None``).

    Supported (checked here, with an error that says what to use otherwise):

    - explicit solvers: diffrax's explicit Runge-Kutta solvers, whose tableau gives the
      true NFE: Tsit5, Dopri5, Dopri8, Bosh3, Heun, Midpoint, Ralston (embedded error
      estimate, adaptive or constant steps) and Euler (constant steps only).
    - implicit solvers for stiff fields: ImplicitEuler and Kvaerno3/4/5 (diagonally
      implicit Runge-Kutta with an embedded error estimate, Kvaerno, BIT 2004; Hairer &
      Wanner, Solving ODEs II, Sec. IV.6). Their Newton (chord) tolerances, when not set
      on the solver's ``root_finder``, are the controller's rtol/atol/norm, as diffrax
      sets them for a plain solve; with ``ConstantStepSize`` they must be set on the
      solver. Their Newton iterations vary from step to step, so ``nfe`` is -1 unless
      the solve is counted (``count=True``, outside ``jax.jit``/``grad``). Heuristics
      work with them (R_E from their error estimate; ``stiffness`` by the power-method
      estimate of the Jacobian's spectral radius, see ``HeuristicsSolver``).
      ``local_regularization`` does not (its extra step's cost comes from a tableau).
    - IMEX (KenCarp3/4/5, Sil3), reversible and SDE-specific solvers are rejected: IMEX
      needs a split field, ``nde.solve(MultiTerm(...), ...)`` takes it.
    - controllers: ``diffrax.PIDController`` (alone or inside
      ``ClipStepSizeController``), or ``diffrax.ConstantStepSize()`` with ``dt0``;
      other adaptive controllers need ``dt0``.
    - heuristics (``heuristics``/``stiffness``/``key``): an adaptive solver with a
      PID controller; ``stiffness`` with an explicit solver needs a tableau whose last
      two stages lie at the end of the step (Tsit5, Dopri5, Dopri8); R_E and R_S are
      differentiated under RecursiveCheckpointAdjoint only.
    - adjoints without heuristics: RecursiveCheckpointAdjoint, BacksolveAdjoint,
      DirectAdjoint, for explicit and implicit solvers alike (not ImplicitAdjoint: the
      solve saves at ``ts``); ``key`` not with DirectAdjoint.

    Args:
        vector_field: ``f(t, y)`` (usually an ``equinox`` module), a ``DiffraxField`` or a
            ``diffrax.ODETerm``.
        solver: an explicit Runge-Kutta or implicit diffrax solver (default Tsit5).
        stepsize_controller: a diffrax controller (default PID, rtol=atol=1e-3).
        adjoint: a diffrax adjoint (default RecursiveCheckpointAdjoint).
        max_steps: positive int, the cap on solver steps. Required: it sets the memory
            of the default adjoint and failing loudly beats a silent truncation.

    Example:
        >>> node = NeuralODE(lambda t, y: -y, max_steps=64)
        >>> sol = node(jnp.ones(2), jnp.array([0.0, 1.0]))
        >>> bool(sol.result == jaxsci.core.RESULTS.successful), int(sol.nfe) > 0
        (True, True)
    """

    vector_field: Callable
    solver: diffrax.AbstractSolver = eqx.field(static=True)
    stepsize_controller: diffrax.AbstractStepSizeController = eqx.field(static=True)
    adjoint: diffrax.AbstractAdjoint = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        vector_field: Callable | diffrax.ODETerm,
        solver: diffrax.AbstractSolver | None = None,
        stepsize_controller: diffrax.AbstractStepSizeController | None = None,
        adjoint: diffrax.AbstractAdjoint | None = None,
        *,
        max_steps: int | None = None,
    ):
        self.vector_field = as_field(vector_field)
        check_max_steps(max_steps)
        solver = diffrax.Tsit5() if solver is None else solver
        self.stepsize_controller = (
            diffrax.PIDController(rtol=1e-3, atol=1e-3)
            if stepsize_controller is None
            else stepsize_controller
        )
        check_solver_and_controller(solver, self.stepsize_controller)
        self.solver = check_node_solver(solver, self.stepsize_controller)
        self.adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
        self.max_steps = max_steps

    @property
    def adaptive(self) -> bool:
        return not isinstance(self.stepsize_controller, diffrax.ConstantStepSize)

    @property
    def implicit(self) -> bool:
        """Whether the solver is implicit (its NFE is known only from a counted solve)."""
        return is_implicit(self.solver)

    def initial_step(self, t0, y0) -> tuple[Float[Array, ""], int]:
        """Hairer's initial step for (t0, y0) and its cost in evaluations (2)."""
        rtol, atol = controller_tolerances(self.stepsize_controller)
        order = self.solver.order(diffrax.ODETerm(lambda t, y, args: y))
        return initial_step_size(self.vector_field, t0, y0, order, rtol, atol), 2

    def heuristics_solver(
        self, *, stiffness: bool = False, key: PRNGKeyArray | None = None
    ) -> HeuristicsSolver:
        """This ODE's solver wrapped to accumulate its error (and stiffness) estimates,
        with the tolerances of this ODE's controller."""
        return HeuristicsSolver(self.solver, self.stepsize_controller, stiffness=stiffness, key=key)

    def __call__(
        self,
        y0: PyTree[Array],
        ts: Float[Array, " n"],
        dt0: float | None = None,
        *,
        heuristics: bool = False,
        stiffness: bool = False,
        key: PRNGKeyArray | None = None,
        throw: bool = True,
        count: bool = False,
    ) -> ODESolution:
        """Solve from ts[0] to ts[-1], saving at ts.

        Args:
            y0: initial state (array or PyTree of floating arrays), finite.
            ts: increasing, finite save times; the solve runs over [ts[0], ts[-1]].
            dt0: first step (> 0); None picks it by Hairer's algorithm (adaptive only).
            heuristics: accumulate R_E (and R_S with ``stiffness``) over accepted steps;
                differentiable under RecursiveCheckpointAdjoint.
            stiffness: also accumulate the stiffness estimate (Tsit5, Dopri5).
            key: also keep one uniformly drawn accepted step (for the biased local
                regularizer), drawn with this PRNG key.
            throw: raise (inside jit, via ``equinox.error_if``) unless the solve
                succeeded; with False, return the code in ``result`` instead, so that
                one failing member of a ``jax.vmap`` leaves the others intact.
            count: count the field's evaluations and linearizations as they happen
                (``EvaluationCounter``): the true NFE of an implicit solver, Newton
                iterations included, with the Jacobians in ``jacobian_evals``. For
                measuring: call it outside ``jax.jit``/``vmap``/``grad``.
        """
        if not isinstance(count, bool):
            raise TypeError(f"`count` must be True or False, got {count!r}.")
        if count and any(
            isinstance(x, jax.core.Tracer)
            for x in jax.tree_util.tree_leaves((self.vector_field, y0, ts, dt0, key))
        ):
            raise ValueError(
                "count=True reads the evaluation counts on the host after the solve has run, "
                "so the NeuralODE must be called outside jax.jit/vmap/grad; inside a "
                "transformation use count=False (an implicit solve then reports nfe=-1)."
            )
        if not self.adaptive and dt0 is None:
            raise ValueError("a constant step size needs dt0: pass dt0=<float>.")
        if key is not None:
            key = check_key(key)
        if (heuristics or stiffness or key is not None) and not self.adaptive:
            raise ValueError(
                "solver heuristics need an error estimate from an adaptive solve; pass an "
                "adaptive solver (Tsit5, Dopri5, ...) with diffrax.PIDController."
            )
        if heuristics or stiffness:
            check_heuristics_adjoint(self.adjoint)
        if key is not None and isinstance(self.adjoint, diffrax.DirectAdjoint):
            raise ValueError(
                "key (the biased local draw) wraps the solver, which DirectAdjoint cannot "
                "handle: use RecursiveCheckpointAdjoint or BacksolveAdjoint, or "
                "local_regularization(..., sampling='unbiased')."
            )
        y0 = check_y0(y0)
        ts = check_ts(ts)
        dt0 = check_dt0(dt0)
        bad_inputs = inputs_nonfinite(ts, dt0)
        initial_evals = 0
        first_step = dt0
        if dt0 is None:
            first_step, initial_evals = self.initial_step(ts[0], y0)
        track = heuristics or stiffness or key is not None
        solver = self.heuristics_solver(stiffness=stiffness, key=key) if track else self.solver
        count_first = self.adaptive and is_fsal(self.solver) and not count
        counter = EvaluationCounter() if count else None
        field = _field_from_args if counter is None else counter.wrap(_field_from_args)
        controller = self.stepsize_controller
        if count_first:
            controller = FirstAcceptCounter(controller)
        if self.adaptive:
            controller = NonfiniteWatch(controller)  # type: ignore[arg-type]
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            solver,
            ts[0],
            ts[-1],
            first_step,
            y0,
            args=self.vector_field,
            saveat=diffrax.SaveAt(ts=ts, solver_state=track, controller_state=self.adaptive),
            stepsize_controller=controller,
            adjoint=self.adjoint,
            max_steps=self.max_steps,
            throw=False,
        )
        jacobian_evals = None
        if counter is not None:
            field_evals, jacobians = counter.read()
            nfe = jnp.asarray(field_evals + initial_evals)
            jacobian_evals = jnp.asarray(jacobians)
        elif self.implicit:
            nfe = jnp.full_like(sol.stats["num_steps"], -1)
        else:
            nfe = nfe_count(
                self.solver,
                sol.stats["num_steps"],
                first_stage_evals=_controller_state(sol)[0][1] if count_first else None,
                initial_step_evals=initial_evals,
            )
        return solution_from(
            sol,
            nfe,
            heuristics=track,
            watched=self.adaptive,
            bad_inputs=bad_inputs,
            throw=throw,
            jacobian_evals=jacobian_evals,
        )


def check_local_solver(node: NeuralODE) -> None:
    """The local regularizer's extra step is costed from an explicit tableau."""
    if node.implicit:
        raise ValueError(
            f"local_regularization takes one extra step whose cost comes from an explicit "
            f"tableau; {type(node.solver).__name__} is implicit (its Newton iterations vary). "
            f"With an implicit solver regularize the whole solve instead: "
            f"node(y0, ts, heuristics=True) (R_E) or stiffness=True (R_S)."
        )


def one_step_error(
    node: NeuralODE, t0: Float[Array, ""], y0: PyTree[Array], dt: Float[Array, ""]
) -> tuple[Float[Array, ""], int]:
    """E(t0, y0, dt) * dt for one fresh step of the node's solver, and its evaluations.

    The local regularizer's penalty (Pal et al., ICML 2023, Sec. 3, eq. (5)).
    """
    check_local_solver(node)
    rtol, atol = controller_tolerances(node.stepsize_controller)
    term = diffrax.ODETerm(lambda t, y, args: node.vector_field(t, y))
    state = node.solver.init(term, t0, t0 + dt, y0, None)
    y1, y_error, _, _, _ = node.solver.step(term, t0, t0 + dt, y0, None, state, True)
    evals = evals_per_step(node.solver) + (1 if is_fsal(node.solver) else 0)
    return scaled_error(y0, y1, y_error, rtol, atol) * dt, evals
