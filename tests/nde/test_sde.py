import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback

from jaxsci.nde import NeuralSDE

A, B = -0.5, 0.3


def _gbm_error(tol, key):
    # Stratonovich geometric Brownian motion: y(t) = y0 exp(A t + B W_t) exactly.
    sde = NeuralSDE(lambda t, y: A * y, lambda t, y: B * y,
                    stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol),
                    max_steps=50_000, brownian_tol=1e-8)
    sol = sde(jnp.ones(2), jnp.array([0.0, 1.0]), key=key, dt0=0.01, heuristics=True)
    w1 = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-8, shape=(2,), key=key).evaluate(0.0, 1.0)
    return float(jnp.max(jnp.abs(sol.ys[-1] - jnp.exp(A + B * w1)))), sol


def test_adaptive_sde_converges_strongly_to_the_exact_path(x64, key):
    coarse, sol_c = _gbm_error(1e-3, key)
    fine, sol_f = _gbm_error(1e-5, key)
    assert fine < 1e-4 and fine < coarse / 5
    assert int(sol_f.num_steps) > int(sol_c.num_steps)
    assert float(sol_c.heuristics.error) > 0


def _counted(fn, count):
    """fn(t, y) plus an ordered host callback that counts its evaluations (rejected steps too)."""

    def tick(t):
        count[0] += 1
        return np.zeros((), np.float64)

    return lambda t, y: fn(t, y) + io_callback(tick, jax.ShapeDtypeStruct((), jnp.float64), t, ordered=True)


def test_sde_rejects_steps_and_nfe_counts_every_drift_evaluation(x64, key):
    # A fast drift (rate 20) and a first step over the whole interval (20 x 0.5 = 10, far
    # outside Heun's stability region): the controller must reject steps (about 40% of
    # the ~530 attempts here), and the NFE must still equal the counted drift evaluations.
    lam, span = -20.0, 0.5
    drifts, diffusions = [0], [0]
    sde = NeuralSDE(_counted(lambda t, y: lam * y, drifts), _counted(lambda t, y: B * y, diffusions),
                    stepsize_controller=diffrax.PIDController(rtol=1e-3, atol=1e-7),
                    max_steps=10_000, brownian_tol=1e-8)
    ts = jnp.array([0.0, span])
    sol = sde(jnp.ones(2), ts, key=key, dt0=span, heuristics=True)
    jax.block_until_ready(sol.ys)
    rejected, steps = int(sol.num_rejected), int(sol.num_steps)
    assert rejected > 0
    assert steps == int(sol.num_accepted) + rejected
    assert int(sol.nfe) == drifts[0] == diffusions[0] == 2 * steps
    # R_E sums accepted steps only; the rejected ones were still paid for in the NFE.
    assert int(sol.heuristics.accepted) == int(sol.num_accepted) < steps
    # The accepted path is still the exact one: y = exp(lam t + B W_t) (Stratonovich).
    w = diffrax.VirtualBrownianTree(0.0, span, tol=1e-8, shape=(2,), key=key).evaluate(0.0, span)
    exact = jnp.exp(lam * span + B * w)
    assert float(jnp.max(jnp.abs(sol.ys[-1] / exact - 1))) < 1e-2


def test_sde_error_regularizer_has_gradients(x64, key):
    def reg(b):
        sde = NeuralSDE(jax.tree_util.Partial(lambda th, t, y: -th * y, 1.0),
                        jax.tree_util.Partial(lambda th, t, y: th * y, b), max_steps=10_000,
                        stepsize_controller=diffrax.PIDController(rtol=1e-3, atol=1e-3))
        return sde(jnp.ones(2), jnp.array([0.0, 1.0]), key=key, dt0=0.01, heuristics=True).heuristics.error

    g = jax.grad(reg)(0.4)
    assert np.isfinite(float(g)) and float(g) > 0  # more noise, larger error estimates
