"""Gotta Go Fast (Jolicoeur-Martineau et al., arXiv 2105.14080, Algorithm 1) and the fixed-grid
Euler-Maruyama baseline on the reverse-time SDE."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D
from jaxsci.core import RESULTS
from jaxsci.diffusion._common import gaussian_noise, split_keys

N = 4096  # samples of the moment tests: the standard error of a mean is std / 64


def _vp_coefficients(t, beta_min=0.1, beta_max=20.0):
    """VPLinear's SDE in closed form (Song et al. 2021, eq. 11): f = -beta / 2, g^2 = beta."""
    beta = beta_min + t * (beta_max - beta_min)
    return -0.5 * beta, beta


def test_reverse_sde_coefficients_match_closed_forms(x64):
    """f = (log alpha)' and g^2 = -2 sigma^2 lambda' (by AD of the schedule) against the closed
    forms of the VP SDE (f = -beta/2, g^2 = beta) and of the VE SDE (f = 0, g^2 = d sigma^2/dt)."""
    from jaxsci.diffusion._euler_maruyama import reverse_sde

    x = jnp.array([0.3, -1.2])
    eps = jnp.array([0.7, 0.1])
    const = lambda x, t: eps
    for t in (1e-3, 0.3, 1.0):
        t = jnp.asarray(t, jnp.float64)
        s = D.VPLinear()
        drift, g, _ = reverse_sde(s, const)(x, t)
        f, g2 = _vp_coefficients(t)
        np.testing.assert_allclose(g**2, g2, rtol=1e-10)
        np.testing.assert_allclose(drift, f * x + g2 * eps / s.sigma(t), rtol=1e-10)
        ve = D.VE()
        drift, g, _ = reverse_sde(ve, const)(x, t)
        g2 = 2.0 * ve.sigma(t) ** 2 * np.log(ve.sigma_max / ve.sigma_min)
        np.testing.assert_allclose(g**2, g2, rtol=1e-10)
        np.testing.assert_allclose(drift, g2 * eps / ve.sigma(t), rtol=1e-10)


def test_one_attempt_is_the_papers_step(x64):
    """One attempt (max_steps = 1) from t = 1 with step h: the Euler-Maruyama proposal x' and the
    improved-Euler x'' with the same z (Algorithm 1), computed here with the closed-form VP
    coefficients; accepted, it returns x''; with a huge first step it is rejected and x stays."""
    s = D.VPLinear()
    model = D.GaussianEps(s, jnp.array([1.0, -0.5]), 0.5)
    x, key, h = jnp.array([0.4, -0.9]), jax.random.key(3), 1e-3
    z = gaussian_noise(jax.random.fold_in(key, 0), x)

    def stage(x_at, t):
        f, g2 = _vp_coefficients(t)
        return -h * (f * x_at + g2 * model(x_at, t) / s.sigma(t)) + np.sqrt(h * g2) * z

    k1 = stage(x, 1.0)
    want = x + 0.5 * (k1 + stage(x + k1, 1.0 - h))
    run = jax.jit(lambda h_init: D.GottaGoFast(h_init=h_init, max_steps=1, denoise_to_zero=False, throw=False)(
        model, s, x, D.time_grid(s, 1), key=key))  # h_init traced: one compilation
    out = run(h)
    assert int(out.num_accepted) == 1 and int(out.nfe) == 2
    np.testing.assert_allclose(out.x, want, rtol=1e-12)
    out = run(0.9)
    assert int(out.num_rejected) == 1 and int(out.nfe) == 2
    np.testing.assert_array_equal(out.x, x)


def _moments_case(schedule, d):
    mean = jnp.linspace(-1.0, 1.0, d)
    model = D.GaussianEps(schedule, mean, 0.5)
    x_T = jax.random.normal(jax.random.key(0), (N, d)) * schedule.sigma(schedule.t_max)
    keys = jax.random.split(jax.random.key(1), N)
    return mean, model, x_T, keys


def _check_moments(x, mean, var_bias):
    """Per coordinate: mean within 5 standard errors (0.5 / 64 each) and variance within 5
    standard errors (0.25 sqrt(2 / N) each) plus ``var_bias``; pooled over the coordinates the
    variance within ``var_bias`` plus 5 of its (sqrt(d) times smaller) standard errors."""
    se_mean, se_var = 0.5 / np.sqrt(N), 0.25 * np.sqrt(2.0 / N)
    np.testing.assert_allclose(x.mean(0), mean, atol=5 * se_mean)
    np.testing.assert_allclose(x.var(0), 0.25, atol=5 * se_var + var_bias)
    pooled = float(x.var(0).mean())
    assert abs(pooled - 0.25) < var_bias + 5 * se_var / np.sqrt(x.shape[1]), pooled


@pytest.mark.heavy
@pytest.mark.parametrize("schedule", [D.VPLinear(), D.VE()], ids=["vp", "ve"])
def test_gotta_go_fast_reaches_the_data_law(schedule):
    """Data N(m, 0.5^2 I) in d = 256 (exact eps): over 4096 samples at rtol = 0.02 the mean and
    variance of every coordinate match within 5 standard errors, and the pooled variance within
    0.004 (measured +0.0010 on VP, +0.0004 on VE). Rejecting a step and drawing fresh noise (the
    paper's Algorithm 1) selects the noise, which biases the law where the RMS error of a step
    is itself noisy, in few dimensions: measured +0.006 pooled in d = 64, +0.1 in d = 2."""
    mean, model, x_T, keys = _moments_case(schedule, 256)
    sampler = D.GottaGoFast(rtol=0.02, max_steps=4000)
    out = jax.jit(jax.vmap(lambda x, k: sampler(model, schedule, x, D.time_grid(schedule, 1), key=k)))(x_T, keys)
    assert bool(jnp.all(out.result == RESULTS.successful))
    _check_moments(out.x, mean, var_bias=0.004)


@pytest.mark.heavy
def test_euler_maruyama_reaches_the_data_law_and_converges_weakly():
    """Euler-Maruyama on the uniform grid: at 200 steps the mean and variance of N(m, 0.5^2 I)
    match (d = 16, 4096 samples); the pooled variance error (first order in h) shrinks from 10 to
    40 to 200 steps (measured 0.075, 0.008, 0.002; its standard error is 0.0014)."""
    s = D.VPLinear()
    mean, model, x_T, keys = _moments_case(s, 16)
    sampler = D.EulerMaruyama(denoise_to_zero=True)
    run = lambda n: jax.jit(jax.vmap(lambda x, k: sampler(model, s, x, D.time_grid(s, n, "uniform"), key=k)))(x_T, keys)
    out = run(200)
    assert bool(jnp.all(out.nfe == 201))
    _check_moments(out.x, mean, var_bias=0.004)
    errors = [abs(float(run(n).x.var(0).mean()) - 0.25) for n in (10, 40)] + [abs(float(out.x.var(0).mean()) - 0.25)]
    assert errors[1] < 0.3 * errors[0] and errors[2] < errors[1], errors


def test_euler_maruyama_step_is_the_closed_form(x64):
    """One step on VPLinear: x - h (f x + g^2 eps / sigma) + sqrt(h) g z with f = -beta/2, g^2 = beta."""
    s = D.VPLinear()
    model = D.GaussianEps(s, jnp.array([1.0, -0.5]), 0.5)
    x, key, grid = jnp.array([0.4, -0.9]), jax.random.key(2), jnp.array([0.8, 0.75])
    z = gaussian_noise(split_keys(key, 1)[0], x)
    f, g2 = _vp_coefficients(0.8)
    want = x - 0.05 * (f * x + g2 * model(x, 0.8) / s.sigma(0.8)) + np.sqrt(0.05 * g2) * z
    np.testing.assert_allclose(D.EulerMaruyama()(model, s, x, grid, key=key).x, want, rtol=1e-12)


@pytest.mark.heavy
def test_error_and_nfe_follow_the_tolerance():
    """On an 8-component mixture (d = 16, component std 0.05) the sliced W1 distance to fresh
    data falls as rtol falls from 2 to 1 to 0.5, and the NFE rises (measured W1 0.24, 0.07, 0.03;
    the sample-size floor is about 0.02)."""
    s = D.VPLinear()
    gm = D.GaussianMixture.random(8, 16, std=0.05, key=jax.random.key(0))
    model = gm.noise_model(s)
    n = 2048
    x_T = jax.random.normal(jax.random.key(1), (n, 16))
    keys = jax.random.split(jax.random.key(4), n)
    data = gm.sample(n, key=jax.random.key(2))
    # rtol traced: one compilation for the three tolerances
    run = jax.jit(lambda rtol: jax.vmap(lambda x, k: D.GottaGoFast(rtol=rtol)(model, s, x, D.time_grid(s, 1), key=k))(
        x_T, keys))
    distances, nfes = [], []
    for rtol in (2.0, 1.0, 0.5):
        out = run(rtol)
        np.testing.assert_array_equal(out.nfe, 2 * (out.num_accepted + out.num_rejected) + 1)
        np.testing.assert_array_equal(out.num_steps, out.num_accepted + out.num_rejected)
        distances.append(float(D.sliced_wasserstein(out.x, data, key=jax.random.key(3), num_projections=256)))
        nfes.append(float(out.nfe.mean()))
    assert distances[0] > 1.5 * distances[1] > 2.25 * distances[2], distances
    assert nfes[0] < nfes[1] < nfes[2], nfes


def test_nfe_is_the_number_of_model_calls():
    """Sample.nfe against a host-side count of the model's executions (jax.debug.callback inside
    the model, under jit): every attempt's two evaluations and the final denoising."""
    s = D.VPLinear()
    gm = D.GaussianMixture.random(4, 3, std=0.3, key=jax.random.key(2))
    calls = []

    def counted(x, t):
        jax.debug.callback(lambda: calls.append(1))
        return gm.noise_model(s)(x, t)

    for sampler, grid in ((D.GottaGoFast(rtol=0.05), D.time_grid(s, 1)),
                          (D.EulerMaruyama(denoise_to_zero=True), D.time_grid(s, 7))):
        calls.clear()
        out = jax.jit(lambda x, k, f=sampler, g=grid: f(counted, s, x, g, key=k))(jnp.ones(3), jax.random.key(5))
        jax.block_until_ready(out.x)
        jax.effects_barrier()
        assert int(out.nfe) == len(calls) > 0, (type(sampler).__name__, int(out.nfe), len(calls))
        if isinstance(sampler, D.GottaGoFast):
            assert int(out.nfe) == 2 * (int(out.num_accepted) + int(out.num_rejected)) + 1


def test_jit_vmap_over_x_T_and_keys(x64):
    """jit(vmap) over 4 start points with split keys: one Sample per member, equal to the
    unbatched calls; one x_T with two keys gives two samples."""
    s = D.VPLinear()
    gm = D.GaussianMixture.random(4, 3, std=0.3, key=jax.random.key(2))
    model = gm.noise_model(s)
    x_T = jax.random.normal(jax.random.key(0), (4, 3))
    keys = jax.random.split(jax.random.key(1), 4)
    for sampler, grid in ((D.GottaGoFast(rtol=0.05), D.time_grid(s, 1)), (D.EulerMaruyama(), D.time_grid(s, 8))):
        run = lambda x, k, f=sampler, g=grid: f(model, s, x, g, key=k)
        out = jax.jit(jax.vmap(run))(x_T, keys)
        ok = out.result == RESULTS.successful
        assert out.x.shape == (4, 3) and out.nfe.shape == (4,) and ok.shape == (4,) and bool(jnp.all(ok))
        single = jax.jit(run)
        for i in (0, 3):
            one = single(x_T[i], keys[i])
            np.testing.assert_allclose(out.x[i], one.x, rtol=1e-9, atol=1e-9)
            assert int(out.nfe[i]) == int(one.nfe) and int(out.num_rejected[i]) == int(one.num_rejected)
        other_key = single(x_T[0], keys[1])
        assert float(jnp.max(jnp.abs(other_key.x - out.x[0]))) > 1e-3


@pytest.mark.parametrize("name", ["ggf", "em"])
def test_nan_is_reported(name):
    """NaN in x_T: RESULTS.nonfinite_values with throw=False (only that batch member), an error
    naming it with throw=True; a model that returns NaN (for t < 0.3) stops the sampler there
    (fewer steps than the finite model's run from the same x_T and key), reported as NaN."""
    s = D.VPLinear()
    model = D.GaussianEps(s, jnp.array([0.5, -0.5]), 0.3)
    sampler, grid = {"ggf": (D.GottaGoFast(), D.time_grid(s, 1)), "em": (D.EulerMaruyama(), D.time_grid(s, 4))}[name]
    x_T = jnp.array([[0.3, -1.2], [jnp.nan, 0.1]])
    keys = jax.random.split(jax.random.key(0), 2)
    quiet = dataclasses.replace(sampler, throw=False)
    out = jax.jit(jax.vmap(lambda x, k: quiet(model, s, x, grid, key=k)))(x_T, keys)
    assert [bool(r) for r in out.result == RESULTS.nonfinite_values] == [False, True]
    assert bool(jnp.all(jnp.isfinite(out.x[0])))
    with pytest.raises(Exception, match="x_T contains NaN/inf"):
        jax.block_until_ready(jax.jit(lambda x, k: sampler(model, s, x, grid, key=k).x)(x_T[1], keys[1]))
    bad = lambda x, t: model(x, t) * jnp.where(t < 0.3, jnp.nan, 1.0).astype(x.dtype)
    stopped = jax.jit(lambda x, k: quiet(bad, s, x, grid, key=k))(x_T[0], keys[0])
    assert stopped.result == RESULTS.nonfinite_values
    if name == "ggf":
        assert int(stopped.num_steps) < int(out.num_steps[0])


def test_max_steps_reached_is_reported():
    s = D.VPLinear()
    model = D.GaussianEps(s, jnp.array([0.5, -0.5]), 0.3)
    grid, key = D.time_grid(s, 1), jax.random.key(0)
    out = D.GottaGoFast(rtol=1e-4, atol=1e-6, max_steps=5, throw=False)(model, s, jnp.ones(2), grid, key=key)
    assert out.result == RESULTS.max_steps_reached and int(out.num_steps) == 5 and int(out.nfe) == 11
    with pytest.raises(Exception, match="max_steps = 5"):
        jax.block_until_ready(D.GottaGoFast(rtol=1e-4, atol=1e-6, max_steps=5)(model, s, jnp.ones(2), grid, key=key).x)
