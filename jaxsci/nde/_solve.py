"""``diffrax.diffeqsolve`` with one source of tolerances, the SaveAt handled, and its NFE.

The heuristics of ``HeuristicsSolver`` live in the solver state, which a solve returns
only with ``SaveAt(solver_state=True)``; their scaling needs the controller's rtol/atol,
and an FSAL tableau's first-stage evaluations need a controller wrapper. ``solve`` does
all three from the arguments of one ``diffeqsolve`` call, so that nothing is given twice.
"""

from __future__ import annotations

from typing import Any

import diffrax
import equinox as eqx
import jax
from jaxtyping import PRNGKeyArray, PyTree

from ..core._results import RESULTS
from ..internal import check_key
from ._count import EvaluationCounter, NFEReport, is_explicit, nfe_report
from ._nfe import FirstAcceptCounter, is_fsal
from ._solver import Heuristics, HeuristicsSolver, controller_tolerances, resolve_root_finder


class Solve(eqx.Module):
    """What ``solve`` returns.

    Attributes:
        solution: diffrax's ``Solution`` (``ys``, ``ts``, ``stats``, ...), saved where the
            caller's ``SaveAt`` asked.
        heuristics: the ``Heuristics`` totals (R_E, R_S, accepted steps) when the solver
            is a ``HeuristicsSolver`` (or ``heuristics``/``stiffness`` was asked), else None.
        nfe: the ``NFEReport`` (accepted/rejected steps, field and Jacobian evaluations;
            ``field_evals`` is -1 for an implicit solver solved without ``count=True``).
        result: the solve's ``jaxsci.core.RESULTS`` code.
    """

    solution: diffrax.Solution
    heuristics: Heuristics | None
    nfe: NFEReport
    result: RESULTS


def _count_terms(terms, counter: EvaluationCounter):
    if isinstance(terms, diffrax.ODETerm):
        return diffrax.ODETerm(counter.wrap(terms.vector_field))
    if isinstance(terms, diffrax.MultiTerm) and all(
        isinstance(t, diffrax.ODETerm) for t in terms.terms
    ):
        return diffrax.MultiTerm(*(diffrax.ODETerm(counter.wrap(t.vector_field)) for t in terms.terms))
    raise ValueError(
        f"count=True counts ODE fields: pass diffrax.ODETerm(f) or, for an IMEX solver, "
        f"diffrax.MultiTerm(ODETerm(explicit), ODETerm(implicit)); got {type(terms).__name__}."
    )


def _with_state(saveat: diffrax.SaveAt | None, solver_state: bool, controller_state: bool):
    if saveat is None:
        saveat = diffrax.SaveAt(t1=True)
    if not isinstance(saveat, diffrax.SaveAt):
        raise TypeError(f"`saveat` must be a diffrax.SaveAt, got {type(saveat).__name__}.")
    return diffrax.SaveAt(
        subs=saveat.subs,
        dense=saveat.dense,
        solver_state=saveat.solver_state or solver_state,
        controller_state=saveat.controller_state or controller_state,
        made_jump=saveat.made_jump,
    )


def solve(
    terms: PyTree,
    solver: diffrax.AbstractSolver,
    t0,
    t1,
    dt0,
    y0: PyTree,
    args: Any = None,
    *,
    stepsize_controller: diffrax.AbstractStepSizeController,
    saveat: diffrax.SaveAt | None = None,
    heuristics: bool = False,
    stiffness: bool = False,
    key: PRNGKeyArray | None = None,
    count: bool = False,
    **diffeqsolve_kwargs,
) -> Solve:
    """``diffrax.diffeqsolve`` plus the solver's heuristics and the solve's true NFE.

    The arguments are diffrax's (``adjoint``, ``max_steps``, ``throw``, ... pass through).
    Tolerances come from ``stepsize_controller`` alone: a ``HeuristicsSolver`` built
    without a controller gets them from it, one built with a different rtol/atol is
    refused. The solver state (where the heuristics live) and the controller state (the
    FSAL first-stage count) are saved whatever ``saveat`` says; ``saveat`` (default
    ``SaveAt(t1=True)``) says only where ``ys`` is saved.

    Args:
        terms, solver, t0, t1, dt0, y0, args: as for ``diffrax.diffeqsolve``; ``solver``
            may be a ``HeuristicsSolver`` or a plain solver.
        stepsize_controller: the controller (required; a ``PIDController`` for heuristics).
        saveat: where to save ``ys``.
        heuristics: wrap a plain solver in ``HeuristicsSolver`` (R_E).
        stiffness: also accumulate R_S (implies ``heuristics``).
        key: keep one accepted step drawn uniformly (implies ``heuristics``).
        count: count field evaluations and linearizations on the host
            (``EvaluationCounter``), the only way to the true NFE of an implicit or IMEX
            solver (Newton iterations vary). Counting is for measurement: do not
            differentiate a counted solve.

    Example:
        >>> pid = diffrax.PIDController(rtol=1e-4, atol=1e-4)
        >>> out = solve(diffrax.ODETerm(lambda t, y, args: -y), diffrax.Tsit5(), 0.0, 1.0,
        ...             0.1, jnp.ones(2), stepsize_controller=pid, heuristics=True)
        >>> bool(out.heuristics.error > 0), int(out.nfe.field_evals) > 0
        (True, True)
    """
    if not isinstance(solver, diffrax.AbstractSolver):
        raise TypeError(f"`solver` must be a diffrax solver, got {type(solver).__name__}.")
    if not isinstance(stepsize_controller, diffrax.AbstractStepSizeController):
        raise TypeError(
            f"`stepsize_controller` must be a diffrax step-size controller (e.g. "
            f"diffrax.PIDController(rtol=..., atol=...)), got {type(stepsize_controller).__name__}."
        )
    for name, flag in (("heuristics", heuristics), ("stiffness", stiffness), ("count", count)):
        if not isinstance(flag, bool):
            raise TypeError(f"`{name}` must be True or False, got {flag!r}.")
    if key is not None:
        key = check_key(key)
    if "stepsize_controller" in diffeqsolve_kwargs or "saveat" in diffeqsolve_kwargs:
        raise TypeError("pass stepsize_controller and saveat once, as keywords.")
    if isinstance(solver, HeuristicsSolver):
        if heuristics or stiffness or key is not None:
            raise ValueError(
                "`solver` is already a HeuristicsSolver: set stiffness and key on it, or pass "
                "the plain solver with heuristics=/stiffness=/key= here, not both."
            )
        rtol, atol = controller_tolerances(stepsize_controller)
        if solver.rtol is None:
            solver = eqx.tree_at(
                lambda s: (s.rtol, s.atol, s.solver),
                solver,
                (rtol, atol, resolve_root_finder(solver.solver, stepsize_controller)),
                is_leaf=lambda x: x is None,
            )
        elif (solver.rtol, solver.atol) != (rtol, atol):
            raise ValueError(
                f"the HeuristicsSolver was built with rtol={solver.rtol}, atol={solver.atol} "
                f"but the stepsize_controller has rtol={rtol}, atol={atol}: its error estimates "
                f"would be scaled by other tolerances than the controller's. Build "
                f"HeuristicsSolver(solver) without a controller and let solve take them."
            )
    elif heuristics or stiffness or key is not None:
        solver = HeuristicsSolver(solver, stepsize_controller, stiffness=stiffness, key=key)
    track = isinstance(solver, HeuristicsSolver)
    adaptive = isinstance(stepsize_controller, diffrax.AbstractAdaptiveStepSizeController)
    inner = solver.solver if isinstance(solver, HeuristicsSolver) else solver
    count_first = adaptive and is_fsal(inner) and not count
    controller = FirstAcceptCounter(stepsize_controller) if count_first else stepsize_controller
    counter = None
    if count:
        if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves((y0, args, t0, t1))):
            raise ValueError(
                "count=True reads the evaluation counts on the host after the solve has run, "
                "so solve must be called outside jax.jit/vmap/grad (diffeqsolve compiles "
                "itself); inside a transformation use count=False."
            )
        counter = EvaluationCounter()
        terms = _count_terms(terms, counter)
    sol = diffrax.diffeqsolve(
        terms,
        solver,
        t0,
        t1,
        dt0,
        y0,
        args,
        saveat=_with_state(saveat, track, count_first),
        stepsize_controller=controller,
        **diffeqsolve_kwargs,
    )
    if counter is not None or is_explicit(inner):
        first = None
        if count_first:
            assert sol.controller_state is not None
            first = sol.controller_state[1]
        report = nfe_report(sol, inner, counter=counter, first_stage_evals=first)
    else:
        stats = sol.stats
        report = NFEReport(
            accepted=stats["num_accepted_steps"],
            rejected=stats["num_rejected_steps"],
            steps=stats["num_steps"],
            field_evals=-1 + 0 * stats["num_steps"],
            jacobian_evals=-1 + 0 * stats["num_steps"],
            counted=False,
        )
    totals = None
    if track:
        assert sol.solver_state is not None
        totals = sol.solver_state[1]
    return Solve(solution=sol, heuristics=totals, nfe=report, result=RESULTS.promote(sol.result))
