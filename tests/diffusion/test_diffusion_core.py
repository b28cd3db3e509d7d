import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.diffusion import GaussianEps, VPLinear, ddim, dpm_solver_pp_2m, time_grid


def test_schedule_identities(x64):
    s = VPLinear()
    t = jnp.linspace(1e-3, 1.0, 50)
    np.testing.assert_allclose(s.alpha(t) ** 2 + s.sigma(t) ** 2, 1.0, rtol=1e-12)
    # lambda against its definition, and the closed-form inverse
    np.testing.assert_allclose(s.lambda_(t), jnp.log(s.alpha(t) / s.sigma(t)), rtol=1e-10)
    np.testing.assert_allclose(s.inverse_lambda(s.lambda_(t)), t, rtol=1e-8)
    # d log alpha / dt = -beta(t) / 2 (VP-SDE definition), via autodiff
    dla = jax.vmap(jax.grad(s.log_alpha))(t)
    np.testing.assert_allclose(dla, -0.5 * (0.1 + t * 19.9), rtol=1e-12)


def test_sigma_stable_near_zero():
    s = VPLinear()
    t = jnp.float32(1e-6)
    # sigma^2 ~ beta_min t for small t
    np.testing.assert_allclose(s.sigma(t) ** 2, 0.1 * 1e-6, rtol=1e-3)


@pytest.mark.parametrize("kind", ["uniform", "logSNR", "quadratic"])
def test_grid_endpoints(kind, x64):
    s = VPLinear()
    g = time_grid(s, 7, kind)
    assert g.shape == (8,)
    np.testing.assert_allclose([g[0], g[-1]], [1.0, 1e-3], rtol=1e-9)
    assert bool(jnp.all(jnp.diff(g) < 0))


@pytest.mark.parametrize("sampler", [ddim, dpm_solver_pp_2m])
def test_exact_for_single_point_data(sampler, key, x64):
    s = VPLinear()
    mean = jnp.array([0.3, -1.2, 2.0])
    model = GaussianEps(s, mean, 0.0)
    x_T = jax.random.normal(key, (3,))
    x = sampler(model, s, x_T, time_grid(s, 3))
    np.testing.assert_allclose(x, model.exact_flow(x_T, 1.0, 1e-3), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sampler,order", [(ddim, 1), (dpm_solver_pp_2m, 2)])
def test_convergence_order(sampler, order, key, x64):
    s = VPLinear()
    model = GaussianEps(s, jnp.array([0.5, -1.0]), 0.5)
    x_T = jax.random.normal(key, (2,))
    exact = model.exact_flow(x_T, 1.0, 1e-3)
    nfes = np.array([20, 40, 80, 160])
    errs = [float(jnp.linalg.norm(sampler(model, s, x_T, time_grid(s, int(n))) - exact)) for n in nfes]
    slope = -np.polyfit(np.log(nfes), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.3, (slope, errs)


def test_exact_flow_matches_ode_solve(key, x64):
    # independent check of the closed-form flow: RK4 on dx/dt = f x + g^2/(2 sigma) eps
    s = VPLinear()
    model = GaussianEps(s, jnp.array([0.5, -1.0]), 0.5)
    x_T = jax.random.normal(key, (2,))

    def rhs(t, x):
        beta = 0.1 + t * 19.9
        return -0.5 * beta * x + 0.5 * beta / s.sigma(t) * model(x, t)

    ts = jnp.linspace(1.0, 1e-3, 4001)

    def step(x, tt):
        t, t2 = tt
        h = t2 - t
        k1 = rhs(t, x)
        k2 = rhs(t + h / 2, x + h / 2 * k1)
        k3 = rhs(t + h / 2, x + h / 2 * k2)
        k4 = rhs(t2, x + h * k3)
        return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

    x, _ = jax.lax.scan(step, x_T, (ts[:-1], ts[1:]))
    np.testing.assert_allclose(x, model.exact_flow(x_T, 1.0, 1e-3), rtol=1e-6)


@pytest.mark.parametrize("sampler", [ddim, dpm_solver_pp_2m])
@pytest.mark.parametrize("nfe", [3, 10])
def test_jit_vmap_float32_finite(sampler, nfe, key):
    s = VPLinear()
    model = GaussianEps(s, jnp.ones(4), 0.5)
    x_T = jax.random.normal(key, (8, 4))
    g = time_grid(s, nfe)
    out = jax.jit(jax.vmap(lambda x: sampler(model, s, x, g)))(x_T)
    assert out.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(out)))
    # jit+vmap agrees with the plain per-sample call
    ref = jnp.stack([sampler(model, s, x, g) for x in x_T])
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
