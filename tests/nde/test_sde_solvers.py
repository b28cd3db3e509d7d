"""NeuralSDE with the reversible and stochastic Runge-Kutta solvers diffrax offers with an
error estimate: ReversibleHeun and SPaRK. Checked against the exact Stratonovich path of
geometric Brownian motion on the same Brownian tree, and the NFE against counted
evaluations."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback

from jaxsci.nde import NeuralSDE
from jaxsci.nde._sde import levy_area

A, B = -0.5, 0.3
SOLVERS = [diffrax.ReversibleHeun(), diffrax.SPaRK()]


def _counted(fn, count):
    def tick(t):
        count[0] += 1
        return np.zeros((), np.float64)

    return lambda t, y: fn(t, y) + io_callback(tick, jax.ShapeDtypeStruct((), jnp.float64), t, ordered=True)


def _solve(solver, tol, key, drift=None, diffusion=None, heuristics=True):
    sde = NeuralSDE(drift or (lambda t, y: A * y), diffusion or (lambda t, y: B * y), solver,
                    stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol),
                    max_steps=50_000, brownian_tol=1e-8)
    return sde(jnp.ones(2), jnp.array([0.0, 1.0]), key=key, dt0=0.01, heuristics=heuristics)


def _exact(solver, key):
    # y(1) = exp(A + B W_1) (Stratonovich), W from the tree NeuralSDE builds for this solver
    tree = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-8, shape=(2,), key=key, levy_area=levy_area(solver))
    w1 = tree.evaluate(0.0, 1.0)
    return jnp.exp(A + B * getattr(w1, "W", w1))


@pytest.mark.heavy  # 14 s for SPaRK: keeps the default suite under 15 minutes on 2 cores
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: type(s).__name__)
def test_converges_strongly_to_the_exact_path(x64, key, solver):
    exact = _exact(solver, key)
    errors = [float(jnp.max(jnp.abs(_solve(solver, tol, key).ys[-1] - exact))) for tol in (1e-3, 1e-5)]
    assert errors[1] < 1e-3 and errors[1] < errors[0] / 5, errors


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: type(s).__name__)
def test_nfe_equals_the_counted_drift_evaluations(x64, key, solver):
    drifts, diffusions = [0], [0]
    sol = _solve(solver, 1e-3, key, _counted(lambda t, y: A * y, drifts), _counted(lambda t, y: B * y, diffusions))
    jax.block_until_ready(sol.ys)
    steps = int(sol.num_steps)
    assert int(sol.nfe) == drifts[0]
    if isinstance(solver, diffrax.ReversibleHeun):
        assert drifts[0] == diffusions[0] == steps + 1  # one per attempt, one at the start
    else:
        assert drifts[0] == 3 * steps and diffusions[0] == 6 * steps  # W and Levy-area contractions
    assert float(sol.heuristics.error) > 0


@pytest.mark.heavy  # 10-17 s per solver: keeps the default suite under 15 minutes on 2 cores
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: type(s).__name__)
def test_error_regularizer_has_gradients(x64, key, solver):
    def reg(b):
        sol = _solve(solver, 1e-3, key, jax.tree_util.Partial(lambda th, t, y: -th * y, 1.0),
                     jax.tree_util.Partial(lambda th, t, y: th * y, b))
        return sol.heuristics.error

    g = jax.grad(reg)(0.4)
    assert np.isfinite(float(g)) and float(g) > 0  # more noise, larger error estimates

