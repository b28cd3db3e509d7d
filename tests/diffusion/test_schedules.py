"""Schedules, grids and parametrizations against their definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D

SCHEDULES = {
    "vp_linear": D.VPLinear(),
    "vp_cosine": D.VPCosine(),
    "vp_discrete_linear": D.VPDiscrete.linear(),
    "vp_discrete_scaled": D.VPDiscrete.scaled_linear(),
    "vp_discrete_cosine": D.VPDiscrete.cosine(),
    "ve": D.VE(),
    "edm": D.EDM(),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_lambda_definition_and_inverse(name, x64):
    s = SCHEDULES[name]
    t = jnp.linspace(s.t_min, s.t_max, 41)
    lam = s.lambda_(t)
    np.testing.assert_allclose(lam, jnp.log(s.alpha(t) / s.sigma(t)), rtol=1e-9, atol=1e-9)
    assert bool(jnp.all(jnp.diff(lam) < 0)), "lambda must decrease in t"
    np.testing.assert_allclose(s.inverse_lambda(lam), t, rtol=1e-7, atol=1e-7 * s.t_max)
    if name.startswith("vp"):
        np.testing.assert_allclose(s.alpha(t) ** 2 + s.sigma(t) ** 2, 1.0, rtol=1e-12)
    else:
        np.testing.assert_allclose(s.alpha(t), 1.0)


def test_generic_bisection_inverse_matches_closed_form(x64):
    s = D.VPLinear()
    lam = s.lambda_(jnp.linspace(0.01, 0.9, 7))
    generic = D.AbstractSchedule.inverse_lambda(s, lam)
    np.testing.assert_allclose(generic, s.inverse_lambda(lam), rtol=1e-10)


def test_vp_linear_derivative_of_log_alpha(x64):
    s = D.VPLinear()
    t = jnp.linspace(1e-3, 1.0, 20)
    np.testing.assert_allclose(jax.vmap(jax.grad(s.log_alpha))(t), -0.5 * (0.1 + 19.9 * t), rtol=1e-12)


def test_vp_discrete_matches_cumulative_product(x64):
    betas = np.linspace(1e-4, 0.02, 1000)
    s = D.VPDiscrete(betas)
    n = np.array([0, 1, 10, 500, 999])
    np.testing.assert_allclose(s.alpha(n) ** 2, np.cumprod(1 - betas)[n], rtol=1e-12)
    cos = D.VPDiscrete.cosine(1000)
    f = np.cos((np.arange(1001) / 1000 + 0.008) / 1.008 * np.pi / 2) ** 2
    np.testing.assert_allclose(cos.alpha(np.array([0, 100, 900])) ** 2, (f[1:] / f[0])[[0, 100, 900]], rtol=1e-6)


def test_vp_cosine_continuous_formula(x64):
    s = D.VPCosine()
    t = jnp.array([0.1, 0.5, 0.9])
    f = lambda u: np.cos((u + 0.008) / 1.008 * np.pi / 2)
    np.testing.assert_allclose(s.alpha(t), f(np.asarray(t)) / f(0.0), rtol=1e-12)


def test_sigma_stable_near_zero_in_float32():
    s = D.VPLinear()
    t = jnp.float32(1e-6)
    np.testing.assert_allclose(s.sigma(t) ** 2, 0.1 * 1e-6, rtol=1e-3)  # 1 - exp would give 0 or 1.2e-7
    assert jnp.isfinite(s.lambda_(t))


@pytest.mark.parametrize("kind", D.GRID_KINDS)
@pytest.mark.parametrize("name", ["vp_linear", "vp_discrete_linear", "edm"])
def test_grids_are_decreasing_and_pinned(kind, name, x64):
    s = SCHEDULES[name]
    g = D.time_grid(s, 9, kind)
    assert g.shape == (10,)
    np.testing.assert_allclose([g[0], g[-1]], [s.t_max, s.t_min], rtol=1e-12)
    assert bool(jnp.all(jnp.diff(g) < 0))
    D.validate_grid(s, g)


def test_logsnr_and_karras_spacing(x64):
    s = D.VPLinear()
    lam = s.lambda_(D.time_grid(s, 8, "logSNR"))
    np.testing.assert_allclose(jnp.diff(lam), jnp.diff(lam)[0], rtol=1e-6)
    edm = D.EDM()
    sig = D.time_grid(edm, 8, "karras")
    ramp = np.linspace(0, 1, 9)
    expected = (80.0 ** (1 / 7) + ramp * (0.002 ** (1 / 7) - 80.0 ** (1 / 7))) ** 7  # Karras et al. eq. 5
    np.testing.assert_allclose(sig, expected, rtol=1e-9)


def test_parametrizations_round_trip(x64):
    s = D.VPCosine()
    gm = D.GaussianMixture.random(3, 4, std=0.2, key=jax.random.key(0))
    eps, x0 = gm.noise_model(s), gm.data_model(s)
    x, t = jax.random.normal(jax.random.key(1), (4,)), 0.4
    a, sg = s.alpha(t), s.sigma(t)
    v_model = lambda x, t: s.alpha(t) * eps(x, t) - s.sigma(t) * x0(x, t)
    score_model = lambda x, t: -eps(x, t) / s.sigma(t)
    for param, m in [("eps", eps), ("x0", x0), ("v", v_model), ("score", score_model)]:
        np.testing.assert_allclose(D.to_data(m, s, param)(x, t), x0(x, t), rtol=1e-10, err_msg=param)
        np.testing.assert_allclose(D.to_noise(m, s, param)(x, t), eps(x, t), rtol=1e-10, err_msg=param)
    # and x = alpha x0 + sigma eps for the exact pair
    np.testing.assert_allclose(a * x0(x, t) + sg * eps(x, t), x, rtol=1e-10)


def test_guidance_and_thresholding():
    cond = lambda x, t: x + 1.0
    uncond = lambda x, t: x
    guided = D.classifier_free_guidance(cond, uncond, 3.0)
    np.testing.assert_allclose(guided(jnp.zeros(2), 0.5), 3.0)
    big = lambda x, t: jnp.array([4.0, -0.5, 1.0, 2.0])
    out = D.dynamic_thresholding(big, percentile=1.0, max_threshold=2.0)(jnp.zeros(4), 0.5)
    np.testing.assert_allclose(out, jnp.array([2.0, -0.5, 1.0, 2.0]) / 2.0)
    static = D.dynamic_thresholding(big, percentile=1.0, max_threshold=1.0)(jnp.zeros(4), 0.5)
    np.testing.assert_allclose(static, jnp.array([1.0, -0.5, 1.0, 1.0]))
