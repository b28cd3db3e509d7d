"""The true number of vector-field evaluations (NFE) of an explicit Runge-Kutta solve."""

import diffrax
import jax.numpy as jnp
from jaxtyping import Array, Int

# diffrax's explicit Runge-Kutta solvers with an embedded error estimate (adaptive steps).
EXPLICIT_RK = "Tsit5, Dopri5, Dopri8, Bosh3, Heun, Midpoint, Ralston"


def evals_per_step(solver: diffrax.AbstractSolver) -> int:
    """Vector-field evaluations one step costs, accepted or rejected: the number of
    stages, less one for a first-same-as-last (FSAL) method, whose first stage is the
    previous step's last.
    """
    if isinstance(solver, diffrax.Euler):
        return 1
    if not isinstance(solver, diffrax.AbstractERK):
        raise ValueError(
            f"jaxsci.nde supports diffrax's explicit Runge-Kutta solvers only ({EXPLICIT_RK}; "
            f"Euler with a constant step), whose tableau gives the true NFE; got "
            f"{type(solver).__name__}. Reversible solvers (ReversibleHeun, LeapfrogMidpoint) "
            f"and the SDE solvers (SRK, Milstein, EulerHeun, ...) are not supported: use an "
            f"explicit solver (e.g. diffrax.Tsit5(); BacksolveAdjoint for O(1) memory). "
            f"Implicit solvers (ImplicitEuler, Kvaerno*) have no tableau count: NeuralODE "
            f"takes them and counts their NFE with count=True; for IMEX solvers (KenCarp*) "
            f"use nde.solve(terms, solver, ..., count=True)."
        )
    stages = len(solver.tableau.c) + 1
    return stages - 1 if solver.tableau.fsal else stages


def is_fsal(solver: diffrax.AbstractSolver) -> bool:
    """Whether the solver reuses its last stage as the next step's first (FSAL)."""
    return isinstance(solver, diffrax.AbstractERK) and bool(solver.tableau.fsal)


def nfe_count(
    solver: diffrax.AbstractSolver,
    num_steps: Int[Array, ""],
    *,
    first_stage_evals: Int[Array, ""] | int | None = None,
    initial_step_evals: int = 0,
) -> Int[Array, ""]:
    """NFE = evals per step x steps (accepted + rejected) + the FSAL method's first-stage
    evaluations + the evaluations spent choosing the initial step (2 for Hairer's
    algorithm, Solving ODEs I, Sec. II.4).

    ``num_steps`` is diffrax's ``sol.stats["num_steps"]``, which counts rejected steps.
    An FSAL method evaluates its first stage once per attempt until the first step is
    accepted: ``first_stage_evals`` is that number of attempts (``FirstAcceptCounter``
    measures it); None assumes the first attempt is accepted (1).
    """
    evals = evals_per_step(solver) * num_steps + initial_step_evals
    if is_fsal(solver):
        evals = evals + (1 if first_stage_evals is None else first_stage_evals)
    return evals


class FirstAcceptCounter(diffrax.AbstractAdaptiveStepSizeController):
    """Wraps an adaptive controller and counts the attempts up to the first accepted step.

    An FSAL method evaluates its first stage afresh on every attempt until a step is
    accepted (later steps reuse the previous step's last stage), so these attempts are
    its initial evaluations. The count lives in the controller state, which diffrax keeps
    whether a step is accepted or rejected; read it with ``SaveAt(controller_state=True)``.
    """

    controller: diffrax.AbstractAdaptiveStepSizeController

    @property
    def rtol(self):
        return self.controller.rtol

    @property
    def atol(self):
        return self.controller.atol

    @property
    def norm(self):  # pyright: ignore
        return self.controller.norm

    def wrap(self, direction):
        return FirstAcceptCounter(self.controller.wrap(direction))

    def init(self, terms, t0, t1, y0, dt0, args, func, error_order):
        t1, inner = self.controller.init(terms, t0, t1, y0, dt0, args, func, error_order)
        return t1, (inner, jnp.zeros((), jnp.int32), jnp.array(False))

    def adapt_step_size(self, t0, t1, y0, y1_candidate, args, y_error, error_order, state):
        inner, attempts, accepted_any = state
        keep, next_t0, next_t1, made_jump, inner, result = self.controller.adapt_step_size(
            t0, t1, y0, y1_candidate, args, y_error, error_order, inner
        )
        attempts = jnp.where(accepted_any, attempts, attempts + 1)
        return keep, next_t0, next_t1, made_jump, (inner, attempts, accepted_any | keep), result
