import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback

from jaxsci.nde import NeuralSDE

A, B = -0.5, 0.3


def _gbm_error(tol, key):
    # Stratonovich geometric Brownian motion: y(t) = y0 exp(A t + B W_t) exactly.
    sde = NeuralSDE(lambda t, y: A * y, lambda t, y: B * y,
                    stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol),
                    max_steps=50_000, brownian_tol=1e-8)
    sol = sde(jnp.ones(2), jnp.array([0.0, 1.0]), key, dt0=0.01, heuristics=True)
    w1 = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-8, shape=(2,), key=key).evaluate(0.0, 1.0)
    return float(jnp.max(jnp.abs(sol.ys[-1] - jnp.exp(A + B * w1)))), sol


def test_adaptive_sde_converges_strongly_to_the_exact_path(x64, key):
    coarse, sol_c = _gbm_error(1e-3, key)
    fine, sol_f = _gbm_error(1e-5, key)
    assert fine < 1e-4 and fine < coarse / 5
    assert int(sol_f.num_steps) > int(sol_c.num_steps)
    assert float(sol_c.heuristics.error) > 0


def test_sde_nfe_counts_drift_evaluations(x64, key):
    count = [0]

    def tick(t):
        count[0] += 1
        return np.zeros((), np.float64)

    def drift(t, y):
        return A * y + io_callback(tick, jax.ShapeDtypeStruct((), jnp.float64), t, ordered=True)

    sde = NeuralSDE(drift, lambda t, y: B * y, max_steps=10_000,
                    stepsize_controller=diffrax.PIDController(rtol=1e-3, atol=1e-3))
    sol = sde(jnp.ones(2), jnp.array([0.0, 1.0]), key, dt0=0.01)
    jax.block_until_ready(sol.ys)
    assert int(sol.nfe) == count[0] and int(sol.num_rejected) >= 0


def test_sde_error_regularizer_has_gradients(x64, key):
    def reg(b):
        sde = NeuralSDE(jax.tree_util.Partial(lambda th, t, y: -th * y, 1.0),
                        jax.tree_util.Partial(lambda th, t, y: th * y, b), max_steps=10_000,
                        stepsize_controller=diffrax.PIDController(rtol=1e-3, atol=1e-3))
        return sde(jnp.ones(2), jnp.array([0.0, 1.0]), key, dt0=0.01, heuristics=True).heuristics.error

    g = jax.grad(reg)(0.4)
    assert np.isfinite(float(g)) and float(g) > 0  # more noise, larger error estimates
