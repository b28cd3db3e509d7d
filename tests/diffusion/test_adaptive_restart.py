"""Adaptive DPM-Solver-12/23 and Restart sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D
from jaxsci.core import RESULTS


@pytest.fixture
def case(x64):
    s = D.VPLinear()
    gm = D.GaussianMixture(jnp.array([0.3, 0.7]), jnp.array([[1.0, -0.5], [-1.0, 0.8]]), jnp.array([0.5, 0.4]))
    x_T = jax.random.normal(jax.random.key(1), (32, 2))
    exact = jax.vmap(lambda x: gm.flow_endpoint(s, x, s.t_max, s.t_min))(x_T)
    return s, gm, x_T, exact


@pytest.mark.parametrize("order", [2, 3])
def test_adaptive_error_follows_the_tolerance(order, case):
    s, gm, x_T, exact = case
    model = gm.noise_model(s)
    errors, nfes = [], []
    for rtol in (0.05, 0.01, 0.001):
        sampler = D.DPMSolverAdaptive(order=order, rtol=rtol, atol=1e-4)
        out = jax.jit(jax.vmap(lambda x, f=sampler: f(model, s, x, D.time_grid(s, 1))))(x_T)
        errors.append(float(jnp.sqrt(jnp.mean((out.x - exact) ** 2))))
        nfes.append(float(jnp.mean(out.nfe)))
        # every evaluation is counted: (accepted + rejected) steps times the pair's cost
        np.testing.assert_array_equal(out.nfe, order * (out.num_accepted + out.num_rejected))
        assert bool(jnp.all(out.num_steps == out.num_accepted + out.num_rejected))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 2e-3, errors
    assert nfes[0] < nfes[1] < nfes[2], nfes


def test_adaptive_23_needs_fewer_evaluations_than_12(case):
    s, gm, x_T, _ = case
    model = gm.noise_model(s)
    run = lambda order: jax.vmap(lambda x: D.DPMSolverAdaptive(order=order, rtol=1e-3, atol=1e-4)(
        model, s, x, D.time_grid(s, 1)).nfe)(x_T)
    nfe = {order: float(jnp.mean(run(order))) for order in (2, 3)}
    assert nfe[3] < nfe[2], nfe


def test_adaptive_reports_max_steps(case):
    s, gm, x_T, _ = case
    grid = D.time_grid(s, 1)
    with pytest.raises(Exception, match="max_steps"):
        jax.block_until_ready(D.DPMSolverAdaptive(rtol=1e-6, atol=1e-8, max_steps=5)(gm.noise_model(s), s, x_T[0], grid).x)
    out = D.DPMSolverAdaptive(rtol=1e-6, atol=1e-8, max_steps=5, throw=False)(gm.noise_model(s), s, x_T[0], grid)
    assert out.result == RESULTS.max_steps_reached and int(out.num_steps) == 5


def test_restart_without_restarts_is_the_split_ode_solve(case):
    """No restarts: the inner sampler on the main grid split at the node nearest t_lo in
    log-SNR, that node moved to t_lo."""
    s, gm, x_T, _ = case
    model = gm.noise_model(s)
    grid = D.time_grid(s, 10)
    got = D.Restart(D.DPMSolverPP(), t_lo=0.05, t_hi=0.2, num_restarts=0)(model, s, x_T[0], grid, key=jax.random.key(0))
    k = int(np.argmin(np.abs(np.asarray(s.lambda_(grid)) - float(s.lambda_(0.05)))))
    x = D.DPMSolverPP()(model, s, x_T[0], grid[: k + 1].at[k].set(0.05)).x
    want = D.DPMSolverPP()(model, s, x, grid[k:].at[0].set(0.05)).x
    np.testing.assert_allclose(got.x, want, rtol=1e-12)
    assert int(got.nfe) == 10


def test_restart_keeps_the_marginals(x64):
    """With an accurate ODE solver, restarting (noising from t_lo to t_hi and solving back)
    leaves the data law N(m, 0.5^2 I) intact: mean and variance over 4000 samples."""
    s = D.VPLinear()
    mean = jnp.array([1.0, -0.5])
    model = D.GaussianEps(s, mean, 0.5)
    x_T = jax.random.normal(jax.random.key(0), (4000, 2))
    keys = jax.random.split(jax.random.key(1), 4000)
    sampler = D.Restart(D.DPMSolverPP(), t_lo=0.05, t_hi=0.3, num_restarts=2, restart_steps=8)
    out = jax.jit(jax.vmap(lambda x, k: sampler(model, s, x, D.time_grid(s, 20), key=k).x))(x_T, keys)
    np.testing.assert_allclose(out.mean(0), mean, atol=0.03)
    np.testing.assert_allclose(out.var(0), 0.25, atol=0.02)
    # the restarts really changed the samples (they are not the plain ODE map of x_T)
    plain = jax.vmap(lambda x: model.exact_flow(x, s.t_max, s.t_min))(x_T)
    assert float(jnp.mean(jnp.abs(out - plain))) > 0.05


def test_restart_with_traced_interval_under_jit_and_vmap(x64):
    """t_lo and t_hi may be traced (here vmap over t_lo) once the split of the main steps is
    given; the vmapped result equals the call with concrete values, and a traced interval
    without the split, or outside the schedule, is refused."""
    s = D.VPLinear()
    gm = D.GaussianMixture(jnp.array([0.3, 0.7]), jnp.array([[1.0, -0.5], [-1.0, 0.8]]), jnp.array([0.5, 0.4]))
    model, key, x_T = gm.noise_model(s), jax.random.key(0), jnp.array([[0.3, -1.1]])
    grid = D.time_grid(s, 6)
    run = lambda lo, hi: D.Restart(D.DPMSolverPP(), t_lo=lo, t_hi=hi, main_steps_above=3, num_restarts=1,
                                   restart_steps=2)(model, s, x_T[0], grid, key=key).x
    los = jnp.array([0.1, 0.2, 0.3])  # all between grid[2] = 0.60 and grid[4] = 0.075
    got = jax.jit(jax.vmap(run, in_axes=(0, None)))(los, 0.4)
    np.testing.assert_allclose(got[1], run(0.2, 0.4), rtol=1e-10)  # concrete t_lo, t_hi
    assert float(jnp.max(jnp.abs(got[0] - got[2]))) > 1e-3  # t_lo really changes the sample
    with pytest.raises(TypeError, match="main_steps_above"):
        jax.jit(lambda lo: D.Restart(D.DPMSolverPP(), t_lo=lo, t_hi=0.4)(model, s, x_T[0], grid, key=key))(0.1)
    with pytest.raises(Exception, match="t_lo < t_hi"):
        jax.block_until_ready(jax.jit(run)(0.5, 0.4))
