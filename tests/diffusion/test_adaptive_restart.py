"""Adaptive DPM-Solver-12/23 and Restart sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D


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
        x, nfe = jax.jit(jax.vmap(lambda x: D.dpm_solver_adaptive(model, s, x, order=order, rtol=rtol, atol=1e-4)))(x_T)
        errors.append(float(jnp.sqrt(jnp.mean((x - exact) ** 2))))
        nfes.append(float(jnp.mean(nfe)))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 2e-3, errors
    assert nfes[0] < nfes[1] < nfes[2], nfes


def test_adaptive_23_needs_fewer_evaluations_than_12(case):
    s, gm, x_T, _ = case
    model = gm.noise_model(s)
    nfe = {order: float(jnp.mean(jax.vmap(lambda x: D.dpm_solver_adaptive(model, s, x, order=order, rtol=1e-3,
                                                                           atol=1e-4)[1])(x_T))) for order in (2, 3)}
    assert nfe[3] < nfe[2], nfe


def test_adaptive_reports_max_steps(case):
    s, gm, x_T, _ = case
    with pytest.raises(Exception, match="max_steps"):
        jax.block_until_ready(D.dpm_solver_adaptive(gm.noise_model(s), s, x_T[0], rtol=1e-6, atol=1e-8, max_steps=5))


def test_restart_without_restarts_is_the_split_ode_solve(case):
    s, gm, x_T, _ = case
    model = gm.noise_model(s)
    got = D.restart(model, s, x_T[0], jax.random.key(0), main_steps=10, t_lo=0.05, t_hi=0.2, num_restarts=0)
    lam = [float(s.lambda_(v)) for v in (s.t_max, 0.05, s.t_min)]
    before = round(10 * (lam[1] - lam[0]) / (lam[2] - lam[0]))
    x = D.dpm_solver_pp_2m(model, s, x_T[0], D.time_grid(s, before, t_end=0.05))
    want = D.dpm_solver_pp_2m(model, s, x, D.time_grid(s, 10 - before, t_start=0.05))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_restart_keeps_the_marginals(x64):
    """With an accurate ODE solver, restarting (noising from t_lo to t_hi and solving back)
    leaves the data law N(m, 0.5^2 I) intact: mean and variance over 4000 samples."""
    s = D.VPLinear()
    mean = jnp.array([1.0, -0.5])
    model = D.GaussianEps(s, mean, 0.5)
    x_T = jax.random.normal(jax.random.key(0), (4000, 2))
    keys = jax.random.split(jax.random.key(1), 4000)
    out = jax.jit(jax.vmap(lambda x, k: D.restart(model, s, x, k, main_steps=20, t_lo=0.05, t_hi=0.3,
                                                  num_restarts=2, restart_steps=8)))(x_T, keys)
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
    run = lambda lo, hi: D.restart(model, s, x_T[0], key, main_steps=6, t_lo=lo, t_hi=hi,
                                   main_steps_above=3, num_restarts=1, restart_steps=2)
    los = jnp.array([0.05, 0.1, 0.2])
    got = jax.jit(jax.vmap(run, in_axes=(0, None)))(los, 0.4)
    np.testing.assert_allclose(got[1], run(0.1, 0.4), rtol=1e-10)  # concrete t_lo, t_hi
    assert float(jnp.max(jnp.abs(got[0] - got[2]))) > 1e-3  # t_lo really changes the sample
    with pytest.raises(TypeError, match="main_steps_above"):
        jax.jit(lambda lo: D.restart(model, s, x_T[0], key, main_steps=6, t_lo=lo, t_hi=0.4))(0.1)
    with pytest.raises(Exception, match="t_lo < t_hi"):
        jax.block_until_ready(jax.jit(run)(0.5, 0.4))
