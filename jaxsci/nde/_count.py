"""True NFE of any diffrax solve: accepted/rejected steps, field and Jacobian evaluations.

For an explicit Runge-Kutta solver the field evaluations follow from its tableau and the
step statistics (``_nfe.nfe_count``). An implicit or IMEX solver spends a variable number
of Newton (chord) iterations on every implicit stage, which diffrax does not report, so
its evaluations are counted as they happen: ``EvaluationCounter.wrap`` puts a host
callback (``jax.debug.callback``) into the field, one tick per evaluation, and its
custom JVP rule ticks a separate counter, so that the linearizations behind the Newton
Jacobians are counted apart from plain evaluations.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Int

from ._nfe import nfe_count


class NFEReport(eqx.Module):
    """The cost of one solve.

    Attributes:
        accepted, rejected, steps: diffrax's step statistics (steps = accepted + rejected).
        field_evals: vector-field evaluations, rejected steps and Newton iterations
            included (for an implicit solver: counted; for an explicit one: from the
            tableau, exact).
        jacobian_evals: linearizations of the field (the Jacobians of the Newton
            iterations; 0 for explicit solvers). Each costs about ``dim(y)`` directional
            derivatives when materialized.
        counted: whether ``field_evals`` was counted (True) or derived from the tableau.
    """

    accepted: Int[Array, ""]
    rejected: Int[Array, ""]
    steps: Int[Array, ""]
    field_evals: Int[Array, ""]
    jacobian_evals: Int[Array, ""]
    counted: bool = eqx.field(static=True)


class EvaluationCounter:
    """Counts vector-field evaluations and linearizations (JVPs) on the host.

    ``wrap(f)`` returns a diffrax field ``f(t, y, args)`` that ticks ``field_evals`` on every
    evaluation and ``jacobian_evals`` on every linearization (a JVP through it, e.g. the
    Jacobian of an implicit solver's Newton iteration; the JVP's own primal evaluation is
    not counted twice). The ticks are host callbacks, run when the compiled solve runs;
    call ``jax.effects_barrier()`` (``read`` does) before reading. For measuring cost only:
    do not train through a wrapped field.

    Example:
        >>> counter = EvaluationCounter()
        >>> term = diffrax.ODETerm(counter.wrap(lambda t, y, args: -y))
        >>> sol = diffrax.diffeqsolve(term, diffrax.Euler(), 0.0, 1.0, 0.25, jnp.ones(2))
        >>> counter.read()
        (4, 0)
    """

    def __init__(self):
        self.field_evals = 0
        self.jacobian_evals = 0

    def reset(self) -> None:
        self.field_evals = 0
        self.jacobian_evals = 0

    def read(self) -> tuple[int, int]:
        """(field evaluations, linearizations) so far, after waiting for pending ticks."""
        jax.effects_barrier()
        return self.field_evals, self.jacobian_evals

    def _tick_field(self) -> None:
        self.field_evals += 1

    def _tick_jacobian(self) -> None:
        self.jacobian_evals += 1

    def wrap(self, vector_field: Callable) -> Callable:
        """``vector_field(t, y, args)`` (diffrax's convention) with counted evaluations."""
        if not callable(vector_field):
            raise TypeError(
                f"EvaluationCounter.wrap needs a callable f(t, y, args), got "
                f"{type(vector_field).__name__}."
            )
        return _CountedField(vector_field, self)


class _CountedField(eqx.Module):
    # A module (the counter static, the field's arrays dynamic), so that solves of fields
    # with the same structure and the same counter share one compilation.
    vector_field: Callable
    counter: EvaluationCounter = eqx.field(static=True)

    def __call__(self, t, y, args):
        counter = self.counter
        # The field's and args' arrays enter as primal inputs, not as closed-over values:
        # inside diffrax's loop they are tracers, which a custom_jvp may not close over.
        dynamic, static = eqx.partition((self.vector_field, args), eqx.is_inexact_array)

        def call(t, y, dynamic):
            vector_field, args_ = eqx.combine(dynamic, static)
            return vector_field(t, y, args_)

        @jax.custom_jvp
        def f(t, y, dynamic):
            jax.debug.callback(counter._tick_field)
            return call(t, y, dynamic)

        @f.defjvp
        def f_jvp(primals, tangents):
            jax.debug.callback(counter._tick_jacobian)
            return jax.jvp(call, primals, tangents)

        return f(t, y, dynamic)


def _solver_of(solver: diffrax.AbstractSolver) -> diffrax.AbstractSolver:
    # The solver that does the work inside jaxsci's wrappers.
    while isinstance(solver, diffrax.AbstractWrappedSolver):
        solver = solver.solver  # pyright: ignore[reportAttributeAccessIssue]
    return solver


def is_explicit(solver: diffrax.AbstractSolver) -> bool:
    """Whether the tableau gives the true NFE (explicit Runge-Kutta or Euler)."""
    solver = _solver_of(solver)
    return isinstance(solver, (diffrax.Euler, diffrax.AbstractERK))


def nfe_report(
    sol: diffrax.Solution,
    solver: diffrax.AbstractSolver,
    *,
    counter: EvaluationCounter | None = None,
    first_stage_evals: Int[Array, ""] | int | None = None,
    initial_step_evals: int = 0,
) -> NFEReport:
    """The NFE of a finished ``diffrax.diffeqsolve``: steps from ``sol.stats``, field
    evaluations from the explicit solver's tableau, or from ``counter`` (required for
    implicit, IMEX and other solvers, whose Newton iterations only a count can give).

    Args:
        sol: the solve's ``diffrax.Solution``.
        solver: the solver passed to ``diffeqsolve`` (a ``HeuristicsSolver`` is looked
            through).
        counter: the ``EvaluationCounter`` whose ``wrap`` built the solve's field; its
            counts since its last ``reset`` are the solve's.
        first_stage_evals: for FSAL tableaus, the attempts up to the first accepted step
            (``FirstAcceptCounter``); None assumes 1.
        initial_step_evals: evaluations spent choosing dt0 outside the solve.

    Example:
        >>> sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, args: -y), diffrax.Heun(),
        ...                           0.0, 1.0, 0.25, jnp.ones(2))
        >>> int(nfe_report(sol, diffrax.Heun()).field_evals)
        8
    """
    if counter is not None and not isinstance(counter, EvaluationCounter):
        raise TypeError(
            f"`counter` must be an nde.EvaluationCounter (whose wrap built the field), got "
            f"{type(counter).__name__}."
        )
    if not isinstance(solver, diffrax.AbstractSolver):
        raise TypeError(
            f"nfe_report needs the solver passed to diffeqsolve, got {type(solver).__name__}."
        )
    inner = _solver_of(solver)
    if counter is None and not is_explicit(inner):
        raise ValueError(
            f"{type(inner).__name__} is not an explicit Runge-Kutta solver: its Newton "
            f"iterations make the number of evaluations vary from step to step, so it has "
            f"to be counted. Build the field with counter = nde.EvaluationCounter(); "
            f"diffrax.ODETerm(counter.wrap(f)) and pass nfe_report(sol, solver, "
            f"counter=counter)."
        )
    if not isinstance(sol, diffrax.Solution):
        raise TypeError(f"nfe_report takes a diffrax.Solution, got {type(sol).__name__}.")
    steps = jnp.asarray(sol.stats["num_steps"])
    accepted = jnp.asarray(sol.stats["num_accepted_steps"])
    rejected = jnp.asarray(sol.stats["num_rejected_steps"])
    if counter is not None:
        field, jac = counter.read()
        return NFEReport(
            accepted=accepted,
            rejected=rejected,
            steps=steps,
            field_evals=jnp.asarray(field + initial_step_evals),
            jacobian_evals=jnp.asarray(jac),
            counted=True,
        )
    evals = nfe_count(
        inner, steps, first_stage_evals=first_stage_evals, initial_step_evals=initial_step_evals
    )
    return NFEReport(
        accepted=accepted,
        rejected=rejected,
        steps=steps,
        field_evals=jnp.asarray(evals),
        jacobian_evals=jnp.zeros((), steps.dtype),
        counted=False,
    )
