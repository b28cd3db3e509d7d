"""Quality figures and the denoising loss, against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D


@pytest.mark.parametrize("schedule", [D.VPLinear(), D.VPCosine(), D.EDM()], ids=lambda s: type(s).__name__)
def test_probability_flow_reference_equals_gaussian_closed_form(x64, schedule):
    model = D.GaussianEps(schedule, jnp.array([1.0, -0.5, 0.25]), 0.3)
    x_T = jax.random.normal(jax.random.key(0), (4, 3)) * schedule.sigma(schedule.t_max)
    got = jax.vmap(lambda x: D.probability_flow_reference(model, schedule, x))(x_T)
    exact = jax.vmap(lambda x: model.exact_flow(x, schedule.t_max, schedule.t_min))(x_T)
    np.testing.assert_allclose(got, exact, rtol=1e-7, atol=1e-7)


def test_probability_flow_reference_other_parametrizations(x64):
    schedule = D.VPLinear()
    eps_model = D.GaussianEps(schedule, jnp.array([0.5, 2.0]), 0.0)
    x0_model = lambda x, t: jnp.array([0.5, 2.0])  # point data: the data prediction
    x_T = jnp.array([0.3, -1.1])
    a = D.probability_flow_reference(eps_model, schedule, x_T)
    b = D.probability_flow_reference(x0_model, schedule, x_T, parametrization="x0")
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


def test_sliced_wasserstein_isotropic_gaussians(x64):
    # theta . x ~ N(theta . m, s^2) for unit theta, so W2^2 along theta = (theta . dm)^2 + (s1 - s2)^2
    # and the mean over uniform directions is |dm|^2 / d + (s1 - s2)^2.
    d, n = 4, 10_000
    k1, k2, k3 = jax.random.split(jax.random.key(1), 3)
    dm = jnp.array([1.0, 0.0, -1.0, 0.5])
    x = 0.5 * jax.random.normal(k1, (n, d))
    y = dm[None] + 1.2 * jax.random.normal(k2, (n, d))
    got = D.sliced_wasserstein(x, y, key=k3, num_projections=500, p=2) ** 2
    exact = jnp.sum(dm**2) / d + (0.5 - 1.2) ** 2
    assert abs(float(got) - float(exact)) < 0.03 * float(exact)
    # a pure shift along one axis in 1D: W1 = |shift|
    z = jax.random.normal(k1, (n, 1))
    np.testing.assert_allclose(D.sliced_wasserstein(z, z + 0.7, key=k3, p=1), 0.7, rtol=1e-10)


def _with_moments(key, mean, cov, n):
    """n samples whose sample mean and (unbiased) covariance are exactly `mean`, `cov`."""
    z = jax.random.normal(key, (n, mean.shape[0]))
    z = z - z.mean(0, keepdims=True)
    z = z @ jnp.linalg.inv(jnp.linalg.cholesky(jnp.cov(z, rowvar=False))).T
    return mean[None] + z @ jnp.linalg.cholesky(cov).T


def test_frechet_distance_closed_form_2x2(x64):
    # for 2x2 M = C1^1/2 C2 C1^1/2: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)), tr M = tr(C1 C2)
    m1, m2 = jnp.array([0.0, 1.0]), jnp.array([0.5, -1.0])
    c1 = jnp.array([[1.0, 0.3], [0.3, 0.5]])
    c2 = jnp.array([[2.0, -0.4], [-0.4, 0.8]])
    x = _with_moments(jax.random.key(2), m1, c1, 300)
    y = _with_moments(jax.random.key(3), m2, c2, 500)
    tr_sqrt = jnp.sqrt(jnp.trace(c1 @ c2) + 2 * jnp.sqrt(jnp.linalg.det(c1) * jnp.linalg.det(c2)))
    exact = jnp.sum((m1 - m2) ** 2) + jnp.trace(c1) + jnp.trace(c2) - 2 * tr_sqrt
    np.testing.assert_allclose(D.frechet_distance(x, y), exact, rtol=1e-9)


@pytest.mark.parametrize("parametrization", ["eps", "x0", "v", "score"])
def test_denoising_loss_vanishes_for_the_exact_point_data_model(x64, parametrization):
    # data = one point c: from x = alpha c + sigma eps, each target is known exactly
    schedule, c = D.VPLinear(), jnp.array([0.7, -0.2, 1.5])

    def exact(x, t):
        a, s = schedule.alpha(t), schedule.sigma(t)
        eps = (x - a * c) / s
        return {"eps": eps, "x0": c, "v": a * eps - s * c, "score": -eps / s}[parametrization]

    x0 = jnp.broadcast_to(c, (64, 3))
    loss = D.denoising_loss(exact, schedule, x0, key=jax.random.key(4), parametrization=parametrization)
    assert float(loss) < 1e-20
    zero = lambda x, t: jnp.zeros_like(x)
    if parametrization == "eps":  # E |eps|^2 / dim = 1
        big = D.denoising_loss(zero, schedule, jnp.zeros((20_000, 3)), key=jax.random.key(5))
        assert abs(float(big) - 1.0) < 0.03


def test_quality_bad_inputs():
    x = jnp.zeros((10, 2))
    with pytest.raises(ValueError, match="one shape"):
        D.sliced_wasserstein(x, jnp.zeros((9, 2)), key=jax.random.key(0))
    with pytest.raises(ValueError, match="frechet_distance"):
        D.frechet_distance(x, jnp.zeros((10, 3)))


def test_quality_figures_under_jit_and_grad():
    x = jax.random.normal(jax.random.key(6), (64, 2))
    y = x + 0.5
    k = jax.random.key(7)
    np.testing.assert_allclose(jax.jit(lambda a, b: D.sliced_wasserstein(a, b, key=k))(x, y),
                               D.sliced_wasserstein(x, y, key=k), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(D.frechet_distance)(x, y), D.frechet_distance(x, y), rtol=1e-5)
    # the loss is differentiable in the model: d/dc mean (c - eps)^2 = 2 (c - mean eps)
    schedule = D.VPLinear()
    loss = lambda c: D.denoising_loss(lambda z, t: jnp.full_like(z, c), schedule, x, key=k)
    g = jax.jit(jax.grad(loss))(0.0)
    eps = jax.random.normal(jax.random.split(k)[1], x.shape)
    np.testing.assert_allclose(g, -2.0 * jnp.mean(eps), rtol=1e-5, atol=1e-7)
