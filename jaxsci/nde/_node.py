"""Neural ODE on diffrax with a true count of vector-field evaluations (NFE)."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def _evals_per_step(solver: diffrax.AbstractSolver) -> int:
    """Vector-field evaluations one (accepted or rejected) step costs."""
    if not isinstance(solver, diffrax.AbstractERK):
        raise ValueError(
            f"NFE counting supports explicit Runge-Kutta solvers (Tsit5, Dopri5, Heun, "
            f"Bosh3, ...); got {type(solver).__name__}. Pick one of those."
        )
    stages = len(solver.tableau.c) + 1
    fsal = bool(solver.tableau.fsal)
    return stages - 1 if fsal else stages


class NeuralODE(eqx.Module):
    """dy/dt = f(t, y) solved by diffrax with any solver, controller and adjoint.

    Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018.

    Args:
        vector_field: callable ``f(t, y)`` (usually an ``equinox`` module).
        solver: a diffrax solver (default Tsit5).
        stepsize_controller: a diffrax controller (default PID, rtol=atol=1e-3).
        adjoint: a diffrax adjoint (default RecursiveCheckpointAdjoint).
        max_steps: positive int, the cap on solver steps. Required.

    Example:
        >>> node = NeuralODE(lambda t, y: -y, max_steps=64)
        >>> ys, nfe = node(jnp.ones(2), jnp.array([0.0, 1.0]))
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
        if max_steps is None:
            raise ValueError(
                "max_steps is missing: pass max_steps=<positive int>, the cap on solver steps "
                "(e.g. max_steps=4096)."
            )
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps <= 0:
            raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}.")
        self.vector_field = vector_field
        self.solver = diffrax.Tsit5() if solver is None else solver
        self.stepsize_controller = (
            diffrax.PIDController(rtol=1e-3, atol=1e-3)
            if stepsize_controller is None
            else stepsize_controller
        )
        self.adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
        self.max_steps = max_steps

    def __call__(
        self, y0: Float[Array, " d"], ts: Float[Array, " n"], dt0: float | None = None
    ) -> tuple[Float[Array, "n d"], Int[Array, ""]]:
        """Solve from ts[0] to ts[-1]; returns (ys at ts, NFE of the forward solve).

        Raises (under jit, via ``equinox.error_if``) if max_steps is exceeded.
        """
        adaptive = not isinstance(self.stepsize_controller, diffrax.ConstantStepSize)
        if not adaptive and dt0 is None:
            raise ValueError("a constant step size needs dt0: pass dt0=<float>.")
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, args: self.vector_field(t, y)),
            self.solver,
            ts[0],
            ts[-1],
            dt0,
            y0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=self.stepsize_controller,
            adjoint=self.adjoint,
            max_steps=self.max_steps,
            throw=False,
        )
        ys = eqx.error_if(
            sol.ys,
            sol.result == diffrax.RESULTS.max_steps_reached,
            "the solve hit max_steps; raise max_steps or loosen rtol/atol.",
        )
        nfe = nfe_count(self.solver, sol.stats["num_steps"], adaptive=adaptive and dt0 is None)
        return ys, nfe


def nfe_count(
    solver: diffrax.AbstractSolver, num_steps: Int[Array, ""], *, adaptive: bool
) -> Int[Array, ""]:
    """NFE = evals/step x steps (accepted + rejected) + initial evals.

    Initial evals: 1 for an FSAL first stage, plus 2 for the automatic initial
    step size (Hairer, Norsett & Wanner, Solving ODEs I, Sec. II.4) when dt0 is None.
    """
    per = _evals_per_step(solver)
    fsal = bool(solver.tableau.fsal)
    init = (1 if fsal else 0) + (2 if adaptive else 0)
    return per * num_steps + init
