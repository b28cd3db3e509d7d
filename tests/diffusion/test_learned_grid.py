"""Learned step grids: the parametrization keeps every grid valid, the fit lowers the endpoint
error against the exact probability-flow endpoint on start-noises it never saw, and grids
survive a save and load."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D


@pytest.mark.parametrize("schedule", [D.VPLinear(), D.VPCosine(), D.EDM()], ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("kind", D.GRID_KINDS)
def test_from_grid_reproduces_the_grid(x64, schedule, kind):
    grid = D.time_grid(schedule, 7, kind)
    learned = D.LearnedGrid.from_grid(schedule, grid, min_fraction=0.0)
    np.testing.assert_allclose(learned.times(schedule), grid, rtol=1e-9, atol=1e-12)


def test_zero_logits_are_the_log_snr_grid(x64):
    s = D.VPLinear()
    learned = D.LearnedGrid(jnp.zeros(6), 1.0, 1e-3)
    np.testing.assert_allclose(learned.times(s), D.time_grid(s, 6, "logSNR", t_end=1e-3), rtol=1e-9)


@pytest.mark.parametrize("scale", [1.0, 30.0, 300.0])
def test_any_logits_give_a_strictly_decreasing_grid_inside_the_range(scale):
    # float32, logits far apart: softmax underflows to 0 for most steps, min_fraction keeps them apart
    s = D.VPLinear()
    for seed in range(5):
        logits = scale * jax.random.normal(jax.random.key(seed), (8,))
        grid = np.asarray(D.LearnedGrid(logits, 0.9, 2e-3).times(s))
        assert grid[0] == np.float32(0.9) and grid[-1] == np.float32(2e-3)
        assert np.all(np.diff(grid) < 0), grid
        D.validate_grid(s, grid)


def test_times_and_endpoint_mse_under_jit_and_vmap(x64):
    s = D.VPLinear()
    logits = jax.random.normal(jax.random.key(0), (3, 5))
    batched = jax.jit(jax.vmap(lambda w: D.LearnedGrid(w, 1.0, 1e-3).times(s)))(logits)
    for row, w in zip(batched, logits):
        np.testing.assert_allclose(row, D.LearnedGrid(w, 1.0, 1e-3).times(s), rtol=1e-12)
    model = D.GaussianEps(s, jnp.array([0.5, -1.0]), 0.3)
    x_T = jax.random.normal(jax.random.key(1), (4, 2))
    exact = jax.vmap(lambda x: model.exact_flow(x, 1.0, 1e-3))(x_T)
    mse = jax.jit(jax.vmap(lambda g: D.endpoint_mse(D.UniPC(order=2), model, s, x_T, exact, g)))(batched)
    for value, grid in zip(mse, batched):
        np.testing.assert_allclose(value, D.endpoint_mse(D.UniPC(order=2), model, s, x_T, exact, grid),
                                   rtol=1e-10)
    # random grids are poor (measured 0.002-0.033) but land far closer than the flow moves a sample
    assert bool(jnp.all(mse < 0.1 * jnp.mean((x_T - exact) ** 2))), (mse, jnp.mean((x_T - exact) ** 2))


@pytest.mark.heavy  # 20 s: keeps the default suite under 15 minutes on 2 cores
def test_grid_is_differentiable_and_the_gradient_matches_finite_differences(x64):
    s = D.VPLinear()
    mix = D.GaussianMixture.random(3, 2, std=0.3, key=jax.random.key(0))
    model = mix.noise_model(s)
    x_T = jax.random.normal(jax.random.key(1), (8, 2))
    ref = jax.vmap(lambda x: mix.flow_endpoint(s, x, s.t_max, s.t_min))(x_T)
    learned = D.LearnedGrid.from_grid(s, D.time_grid(s, 4, "quadratic"))

    def loss(logits):
        grid = D.LearnedGrid(logits, learned.t_start, learned.t_end).times(s)
        return D.endpoint_mse(D.DPMSolverPP(order=2), model, s, x_T, ref, grid)

    g = jax.grad(loss)(learned.logits)
    direction = jnp.array([0.3, -0.2, 0.5, -0.6])
    h = 1e-5
    fd = (loss(learned.logits + h * direction) - loss(learned.logits - h * direction)) / (2 * h)
    np.testing.assert_allclose(g @ direction, fd, rtol=1e-5)


@pytest.mark.heavy  # 21-25 s each: keeps the default suite under 15 minutes on 2 cores
@pytest.mark.parametrize("sampler", [D.DPMSolverPP(order=2), D.UniPC(order=2)], ids=lambda s: type(s).__name__)
def test_fit_lowers_the_held_out_endpoint_error(x64, sampler):
    s = D.VPLinear()
    mix = D.GaussianMixture.random(4, 4, std=0.3, key=jax.random.key(0))
    model = mix.noise_model(s)
    k_train, k_test = jax.random.split(jax.random.key(1))
    x_train = jax.random.normal(k_train, (128, 4))
    x_test = jax.random.normal(k_test, (256, 4))
    endpoint = jax.jit(jax.vmap(lambda x: mix.flow_endpoint(s, x, s.t_max, 1e-3)))
    initial = D.time_grid(s, 4, "logSNR", t_end=1e-3)
    out = D.fit_grid(sampler, model, s, x_train, endpoint(x_train), initial, steps=150,
                     key=jax.random.key(2))
    assert out.grid.shape == (5,) and bool(jnp.all(jnp.diff(out.grid) < 0))
    assert float(out.grid[0]) == 1.0 and float(out.grid[-1]) == 1e-3
    np.testing.assert_allclose(out.initial_grid, initial, rtol=1e-9)
    before = D.endpoint_mse(sampler, model, s, x_test, endpoint(x_test), initial)
    after = D.endpoint_mse(sampler, model, s, x_test, endpoint(x_test), out.grid)
    assert after < 0.7 * before, (float(before), float(after))
    assert out.losses[-10:].mean() < out.losses[:10].mean()
    # the returned grid is the best checked iterate, its training MSE recomputed here
    train_ref = endpoint(x_train)
    np.testing.assert_allclose(out.training_mse, D.endpoint_mse(sampler, model, s, x_train, train_ref, out.grid),
                               rtol=1e-10)
    np.testing.assert_allclose(out.initial_training_mse,
                               D.endpoint_mse(sampler, model, s, x_train, train_ref, initial), rtol=1e-10)
    assert out.training_mse < out.initial_training_mse and 0 < out.best_step <= 150


def test_save_and_load_round_trip(tmp_path, x64):
    s = D.VPLinear()
    grid = D.LearnedGrid(jnp.array([0.3, -1.0, 2.0, 0.1]), 1.0, 1e-3).times(s)
    path = D.save_grid(tmp_path / "g.json", grid, schedule=s, sampler=D.UniPC(order=2), nfe=4)
    back = D.load_grid(path, schedule=s)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(grid))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        D.save_grid(path, grid, schedule=s)
    D.save_grid(path, grid[::2], schedule=s, overwrite=True)
    assert D.load_grid(path).shape == (3,)
    with pytest.raises(ValueError, match="not for"):
        D.load_grid(path, schedule=D.VPCosine())
    (tmp_path / "other.json").write_text('{"times": [1.0, 0.5]}')
    with pytest.raises(ValueError, match="not a grid file"):
        D.load_grid(tmp_path / "other.json")
