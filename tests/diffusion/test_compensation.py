"""DC-Solver's dynamic compensation: ratios of 1 are plain UniPC, the compensation is the
Lagrange interpolant it claims to be, and fitted ratios lower the endpoint error on
start-noises the fit never saw."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D
from jaxsci.core import RESULTS
from jaxsci.diffusion._unipc import compensate

T_END = 1e-3


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ratios_of_one_are_plain_unipc(x64, order):
    s = D.VPLinear()
    model = D.GaussianMixture.random(4, 3, std=0.2, key=jax.random.key(0)).noise_model(s)
    grid = D.time_grid(s, 6, t_end=T_END)
    x_T = jax.random.normal(jax.random.key(1), (3,))
    plain = D.UniPC(order=order)(model, s, x_T, grid).x
    dc = D.UniPC(order=order, compensation=jnp.ones(6))(model, s, x_T, grid).x
    np.testing.assert_allclose(dc, plain, rtol=1e-13, atol=1e-13)
    moved = D.UniPC(order=order, compensation=jnp.full(6, 0.7))(model, s, x_T, grid).x
    assert float(jnp.max(jnp.abs(moved - plain))) > 1e-4  # a ratio other than 1 acts


@pytest.mark.parametrize("dc_order", [1, 2, 3])
def test_compensation_is_the_lagrange_interpolant(x64, dc_order):
    # outputs on a polynomial of degree dc_order in t: the interpolant reproduces it exactly
    grid = jnp.array([1.0, 0.8, 0.55, 0.3, 0.12, 0.05])
    coeffs = jax.random.normal(jax.random.key(2), (dc_order + 1, 4))
    p = lambda t: sum(c * t**j for j, c in enumerate(coeffs))
    i = 4
    hist = tuple(p(grid[i - k]) for k in range(dc_order + 1))
    for ratio in (0.0, 0.6, 1.0, 1.3):
        target = ratio * grid[i] + (1 - ratio) * grid[i - 1]
        np.testing.assert_allclose(compensate(hist, grid, i, ratio, dc_order), p(target), rtol=1e-12, atol=1e-12)
    # during the warm-up the output is left alone, with a finite gradient
    early = compensate(hist, grid, dc_order - 1, 0.5, dc_order)
    np.testing.assert_array_equal(early, hist[0])
    g = jax.grad(lambda r: jnp.sum(compensate(hist, grid, dc_order - 1, r, dc_order)))(0.5)
    assert np.isfinite(g)


@pytest.mark.heavy
def test_trajectory_ends_at_the_sample_and_follows_the_flow(x64):
    s = D.VPLinear()
    model = D.GaussianEps(s, jnp.ones(2), 0.5)
    grid = D.time_grid(s, 5, t_end=T_END)
    x_T = jnp.array([0.3, -1.2])
    sampler = D.UniPC(order=2, compensation=jnp.array([1.0, 1.0, 1.2, 0.9, 0.8]))
    path = sampler.trajectory(model, s, x_T, grid)
    assert path.shape == (6, 2)
    np.testing.assert_array_equal(path[0], x_T)
    np.testing.assert_allclose(path[-1], sampler(model, s, x_T, grid).x, rtol=1e-14)
    # the whole path converges to the exact flow at every grid time (order 2: measured max
    # errors 0.081, 0.022, 0.0048 at 5, 10, 20 steps)
    errors = []
    for n in (5, 10, 20):
        g = D.time_grid(s, n, t_end=T_END)
        plain = D.UniPC(order=2).trajectory(model, s, x_T, g)
        exact = jax.vmap(lambda t, g=g: D.probability_flow_reference(model, s, x_T, t_to=t))(g)
        errors.append(float(jnp.max(jnp.abs(plain - exact))))
    assert errors[0] < 0.15 and errors[0] / errors[1] > 3 and errors[1] / errors[2] > 3, errors


def test_gradient_in_the_ratios_under_jit_and_vmap(x64):
    s = D.VPLinear()
    model = D.GaussianMixture.random(4, 3, std=0.2, key=jax.random.key(3)).noise_model(s)
    grid = D.time_grid(s, 5, t_end=T_END)
    x_T = jax.random.normal(jax.random.key(4), (8, 3))

    def loss(r):
        out = jax.vmap(lambda x: D.UniPC(order=3, compensation=r)(model, s, x, grid).x)(x_T)
        return jnp.sum(out**2)

    g = jax.jit(jax.grad(loss))(jnp.ones(5))
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[:2], 0.0)  # the warm-up ratios are unused
    assert float(jnp.max(jnp.abs(g[2:]))) > 0


def _mixture_problem(seed, n_train=16, n_test=256):
    s = D.VPLinear()
    mix = D.GaussianMixture.random(8, 16, std=0.1, key=jax.random.key(seed))
    k1, k2 = jax.random.split(jax.random.key(10_000 + seed))
    x_tr, x_te = jax.random.normal(k1, (n_train, 16)), jax.random.normal(k2, (n_test, 16))
    ref = jax.jit(jax.vmap(lambda x: mix.flow_endpoint(s, x, s.t_max, T_END)))(x_te)
    return s, mix.noise_model(s), x_tr, x_te, ref


@pytest.mark.heavy
@pytest.mark.parametrize("objective", ["trajectory", "endpoint"])
def test_fitted_ratios_beat_unipc_on_held_out_noises(x64, objective):
    s, model, x_tr, x_te, ref = _mixture_problem(101)
    grid = D.time_grid(s, 5, t_end=T_END)
    base = D.UniPC(order=2, variant="bh2")
    steps, lr = (40, 0.1) if objective == "trajectory" else (150, 0.05)
    fitted = D.fit_compensation(base, model, s, x_tr, grid, objective=objective, steps=steps, learning_rate=lr)
    assert fitted.result == RESULTS.successful
    assert fitted.ratios.shape == (5,)
    np.testing.assert_array_equal(fitted.ratios[:2], 1.0)  # warm-up ratios stay at the start
    assert float(fitted.training_mse) <= float(fitted.initial_training_mse)
    plain = float(D.endpoint_mse(base, model, s, x_te, ref, grid))
    dc = float(D.endpoint_mse(fitted.sampler, model, s, x_te, ref, grid))
    # 256 held-out start-noises, NFE 5, 16 training noises: measured 0.46x (trajectory) and
    # 0.56x (endpoint) of UniPC's endpoint MSE; ratios that do nothing give 1x
    assert dc < 0.8 * plain, (dc, plain)
