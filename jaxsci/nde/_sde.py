"""Neural SDE on diffrax with adaptive steps on a virtual Brownian tree.

Stratonovich SDE dy = mu(t, y) dt + sigma(t, y) o dW with diagonal noise (Kidger et al.,
"Neural SDEs as Infinite-Dimensional GANs", ICML 2021, Sec. 2). The solvers that converge
for Stratonovich SDEs and carry an embedded error estimate (explicit Runge-Kutta tableaus
applied to the (drift, diffusion) pair, ReversibleHeun, SPaRK) let a PID controller adapt
the steps, and the same ``HeuristicsSolver`` accumulates R_E as for ODEs (Pal et al., ICML
2021, Sec. 3).
"""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax.numpy as jnp
import lineax
from jaxtyping import Array, Float, PRNGKeyArray

from ..internal import check_key, check_positive
from ._field import as_field
from ._guard import NonfiniteWatch
from ._nfe import evals_per_step, is_fsal
from ._node import (
    ODESolution,
    check_dt0,
    check_heuristics_adjoint,
    check_max_steps,
    check_solver_and_controller,
    check_ts,
    check_y0,
    inputs_nonfinite,
    solution_from,
)
from ._solver import HeuristicsSolver, controller_tolerances


def _drift(t, y, fields):
    return fields[0](t, y)


def _diffusion(t, y, fields):
    return lineax.DiagonalLinearOperator(fields[1](t, y))


SDE_SOLVERS = "diffrax.Heun(), Midpoint(), Ralston(), ReversibleHeun() or SPaRK()"


def check_sde_solver(solver: diffrax.AbstractSolver) -> None:
    """Refuse a solver that does not converge for Stratonovich SDEs with an embedded error
    estimate (what the adaptive steps and R_E need)."""
    if isinstance(solver, (diffrax.ReversibleHeun, diffrax.SPaRK)):
        return
    if is_fsal(solver) or not isinstance(solver, diffrax.AbstractERK):
        raise ValueError(
            f"NeuralSDE supports the solvers that converge for Stratonovich SDEs and carry an "
            f"error estimate: {SDE_SOLVERS}; got {type(solver).__name__}. FSAL tableaus "
            f"(Tsit5, Dopri5, Bosh3), Euler (no error estimate), implicit solvers and the "
            f"fixed-step SDE solvers (ShARK, SRA1, SEA, GeneralShARK, Milstein, EulerHeun) "
            f"are not supported; solve with diffrax.diffeqsolve directly for those (with a "
            f"fixed step, or with an adaptive one through diffrax.HalfSolver's step-doubling "
            f"error estimate)."
        )


def levy_area(solver: diffrax.AbstractSolver):
    """The Brownian tree's Levy area the solver needs: space-time Levy area for the
    stochastic Runge-Kutta solvers (SPaRK), the plain increment otherwise."""
    needed = getattr(solver, "minimal_levy_area", None)
    if isinstance(needed, type) and issubclass(needed, diffrax.AbstractSpaceTimeLevyArea):
        return diffrax.SpaceTimeLevyArea
    return diffrax.BrownianIncrement


def sde_evals(solver: diffrax.AbstractSolver) -> tuple[int, int]:
    """``(per step, once)``: drift evaluations of each step attempt, accepted or rejected,
    and those made once at the start; the diffusion is evaluated at the same points.

    - Heun, Midpoint, Ralston: the tableau's stages per attempt.
    - ReversibleHeun (Kidger et al., "Efficient and Accurate Gradients for Neural SDEs",
      NeurIPS 2021, Sec. 3): one evaluation per attempt, its other stage carried over in
      the solver state, plus one at the start. A controller with ``jump_ts`` makes it
      evaluate once more after each jump, which this count leaves out.
    - SPaRK (Foster, "On the convergence of adaptive approximations for stochastic
      differential equations", arXiv 2023, Definition 1.6; strong order 0.5 for general
      Stratonovich noise): its three stages per attempt (the diffusion is
      contracted with the Brownian increment and the space-time Levy area at each stage;
      measured: two diffusion calls per stage through diffrax's ControlTerm, which XLA may
      merge).
    """
    if isinstance(solver, diffrax.ReversibleHeun):
        return 1, 1
    if isinstance(solver, diffrax.SPaRK):
        return len(solver.tableau.c) + 1, 0
    return evals_per_step(solver), 0


class NeuralSDE(eqx.Module):
    """dy = drift(t, y) dt + diffusion(t, y) o dW (diagonal noise), solved adaptively.

    Both fields are called as ``f(t, y)``; wrap a diffrax field ``f(t, y, args)`` in
    ``DiffraxField(f, args)``.

    Args:
        drift: callable ``mu(t, y)`` with the state's shape.
        diffusion: callable ``sigma(t, y)`` with the state's shape (diagonal noise).
        solver: a solver with an error estimate that converges for Stratonovich SDEs:
            ``diffrax.Heun()`` (the default), ``Midpoint()``, ``Ralston()``,
            ``ReversibleHeun()`` (one drift evaluation per step) or ``SPaRK()``
            (stochastic Runge-Kutta with space-time Levy area, three evaluations per step).
        stepsize_controller: a ``diffrax.PIDController`` (default rtol=atol=1e-2).
        adjoint: a diffrax adjoint (default RecursiveCheckpointAdjoint).
        max_steps: positive int, the cap on solver steps. Required.
        brownian_tol: resolution of the virtual Brownian tree (below the smallest step).

    Example:
        >>> sde = NeuralSDE(lambda t, y: -y, lambda t, y: 0.1 * jnp.ones_like(y), max_steps=1000)
        >>> sol = sde(jnp.ones(2), jnp.linspace(0, 1, 5), key=jax.random.key(0), dt0=0.05)
        >>> sol.ys.shape
        (5, 2)
    """

    drift: Callable
    diffusion: Callable
    solver: diffrax.AbstractSolver = eqx.field(static=True)
    stepsize_controller: diffrax.AbstractStepSizeController = eqx.field(static=True)
    adjoint: diffrax.AbstractAdjoint = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    brownian_tol: float = eqx.field(static=True)

    def __init__(
        self,
        drift: Callable,
        diffusion: Callable,
        solver: diffrax.AbstractSolver | None = None,
        stepsize_controller: diffrax.AbstractStepSizeController | None = None,
        adjoint: diffrax.AbstractAdjoint | None = None,
        *,
        max_steps: int | None = None,
        brownian_tol: float = 1e-4,
    ):
        drift = as_field(drift, "drift", allow_term=False)
        diffusion = as_field(diffusion, "diffusion", allow_term=False)
        check_max_steps(max_steps)
        check_positive(brownian_tol, "brownian_tol")
        self.drift, self.diffusion = drift, diffusion
        self.solver = diffrax.Heun() if solver is None else solver
        check_sde_solver(self.solver)
        self.stepsize_controller = (
            diffrax.PIDController(rtol=1e-2, atol=1e-2)
            if stepsize_controller is None
            else stepsize_controller
        )
        check_solver_and_controller(self.solver, self.stepsize_controller)
        controller_tolerances(self.stepsize_controller)
        self.adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
        self.max_steps = max_steps
        self.brownian_tol = brownian_tol

    def __call__(
        self,
        y0: Float[Array, " d"],
        ts: Float[Array, " n"],
        *,
        key: PRNGKeyArray,
        dt0: float,
        heuristics: bool = False,
        throw: bool = True,
    ) -> ODESolution:
        """One sample path saved at ts; NFE counts drift evaluations (the diffusion is
        evaluated at the same points; see :func:`sde_evals`).

        Args:
            y0: initial state, shape (d,), finite.
            ts: increasing, finite save times.
            key: the Brownian path's PRNG key.
            dt0: first step (> 0; there is no automatic choice for SDEs).
            heuristics: accumulate R_E over accepted steps.
            throw: raise unless the solve succeeded; with False return the code in
                ``result`` (as ``NeuralODE``).
        """
        key = check_key(key)
        if dt0 is None:
            raise ValueError("NeuralSDE needs a first step: pass dt0=<positive float>.")
        y0 = check_y0(y0)
        ts = check_ts(ts)
        first_step = check_dt0(dt0)
        bad_inputs = inputs_nonfinite(ts, first_step)
        bm = diffrax.VirtualBrownianTree(
            ts[0], ts[-1], tol=self.brownian_tol, shape=jnp.shape(y0), key=key,
            levy_area=levy_area(self.solver),
        )
        terms = diffrax.MultiTerm(diffrax.ODETerm(_drift), diffrax.ControlTerm(_diffusion, bm))
        solver = self.solver
        if heuristics:
            check_heuristics_adjoint(self.adjoint)
            solver = HeuristicsSolver(self.solver, self.stepsize_controller)
        sol = diffrax.diffeqsolve(
            terms,
            solver,
            ts[0],
            ts[-1],
            first_step,
            y0,
            args=(self.drift, self.diffusion),
            saveat=diffrax.SaveAt(ts=ts, solver_state=heuristics, controller_state=True),
            stepsize_controller=NonfiniteWatch(self.stepsize_controller),  # type: ignore[arg-type]
            adjoint=self.adjoint,
            max_steps=self.max_steps,
            throw=False,
        )
        per_step, initial = sde_evals(self.solver)
        nfe = per_step * sol.stats["num_steps"] + initial
        return solution_from(
            sol, nfe, heuristics=heuristics, watched=True, bad_inputs=bad_inputs, throw=throw
        )
