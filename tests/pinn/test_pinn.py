import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import pde, pinn, taylor
from jaxsci.pde.highdim import BallProblem


@pytest.mark.parametrize(
    "domain",
    [pde.Box([0.0, -1.0, 2.0], [1.0, 1.0, 3.0]), pde.Ball(7), pde.Sphere(5, 2.0),
     pde.SpaceTime(pde.Ball(3), 0.0, 2.0)],
    ids=["box", "ball", "sphere", "space-time"],
)
def test_samplers_stay_inside_their_domains(domain):
    key = jax.random.key(0)
    assert bool(jnp.all(domain.contains(pinn.uniform(domain, key, 500))))
    if not isinstance(domain, pde.Sphere):
        assert bool(jnp.all(domain.contains(domain.sample_boundary(key, 200))))
    if isinstance(domain, (pde.Box, pde.SpaceTime)) and not isinstance(getattr(domain, "space", None), pde.Ball):
        assert bool(jnp.all(domain.contains(pinn.halton(domain, 300))))
        assert bool(jnp.all(domain.contains(pinn.sobol(domain, 256))))


def test_ball_sampler_is_uniform_in_radius():
    x = pde.Ball(4).sample(jax.random.key(1), 40000)
    r = np.linalg.norm(np.asarray(x), axis=1)
    # P(r <= s) = s^d for the uniform ball
    for s in (0.5, 0.8, 0.95):
        assert abs(np.mean(r <= s) - s**4) < 0.01
    # the STDE paper's sampling: a uniform radius
    r = np.linalg.norm(np.asarray(pde.Ball(50, radial="uniform").sample(jax.random.key(2), 40000)), axis=1)
    for s in (0.2, 0.5, 0.9):
        assert abs(np.mean(r <= s) - s) < 0.01


def test_halton_has_low_discrepancy():
    box = pde.Box([0.0, 0.0], [1.0, 1.0])
    pts = np.asarray(pinn.halton(box, 1024))
    # first Halton points in base 2 and 3 are known values
    np.testing.assert_allclose(pts[:3, 0], [0.5, 0.25, 0.75])
    np.testing.assert_allclose(pts[:3, 1], [1 / 3, 2 / 3, 1 / 9])
    counts = np.histogram2d(pts[:, 0], pts[:, 1], bins=4, range=[[0, 1], [0, 1]])[0]
    assert counts.min() >= 60 and counts.max() <= 68  # 64 per cell, far tighter than random


def test_r3_retains_high_residual_points_and_rar_adds_worst():
    box = pde.Box([0.0], [1.0])
    points = jnp.linspace(0, 1, 10)[:, None]
    residuals = jnp.array([0, 0, 0, 0, 0, 0, 0, 0, 5.0, 9.0])
    new = pinn.r3_resample(box, jax.random.key(0), points, residuals)
    assert new.shape == points.shape
    np.testing.assert_array_equal(new[8:], points[8:])
    assert bool(jnp.all(box.contains(new)))
    added = pinn.rar_add(points[:2], points, residuals, 2)
    np.testing.assert_array_equal(added[2:], points[jnp.array([9, 8])])


def _small_problem():
    problem = BallProblem(4, "two_body", "allen_cahn", seed=0)
    net = eqx.nn.MLP(4, "scalar", 32, 2, activation=jnp.tanh, key=jax.random.key(0))
    test = problem.domain.sample(jax.random.key(9), 1000)
    return problem, net, test, jax.vmap(problem.solution)(test)


@pytest.mark.parametrize("backend", [taylor.SparseSTDE(2), taylor.Exact()], ids=["stde", "exact"])
def test_short_training_lowers_the_error_tenfold(backend):
    problem, net, test, exact = _small_problem()

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key)

    def error(model):
        return pinn.relative_l2(problem.hard_constraint(model), exact, test)

    before = float(error(net))
    result = pinn.train(net, loss, optax.adam(optax.linear_schedule(3e-3, 0.0, 1500)), 1500,
                        key=jax.random.key(1), sample_points=lambda k: problem.domain.sample(k, 64),
                        evaluate=error, eval_every=500, progress=False)
    assert result.error[-1] < before / 10, (before, result.error)
    assert result.steps.tolist() == [500, 1000, 1500]


def test_loss_is_jit_vmap_and_grad_able(x64):
    problem, net, test, _ = _small_problem()
    points = test[:16]
    u = problem.hard_constraint(net)

    def loss(model, key, backend, unbiased=False):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key, unbiased=unbiased)

    keys = jax.random.split(jax.random.key(0), 6)
    # over seeds
    values = eqx.filter_jit(jax.vmap(lambda k: loss(net, k, taylor.SparseSTDE(2))))(keys)
    assert values.shape == (6,) and bool(jnp.all(jnp.isfinite(values)))
    # the gradient of the exact loss equals the gradient with a Hessian-trace backend
    g1 = eqx.filter_jit(eqx.filter_grad(lambda m: loss(m, None, taylor.Exact())))(net)
    g2 = eqx.filter_jit(eqx.filter_grad(lambda m: loss(m, None, taylor.HessianTrace())))(net)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # the unbiased loss is unbiased: its mean over draws matches the exact loss
    many = jax.random.split(jax.random.key(5), 1000)
    draws = np.asarray(eqx.filter_jit(jax.vmap(lambda k: loss(net, k, taylor.SparseSTDE(1), True)))(many))
    exact = float(loss(net, None, taylor.Exact()))
    assert abs(draws.mean() - exact) < 4 * draws.std() / np.sqrt(len(draws))
    assert u(points[0]).shape == ()


def test_lbfgs_runs_through_the_same_step():
    problem, net, test, exact = _small_problem()

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, taylor.Exact(), key)

    fixed = problem.domain.sample(jax.random.key(3), 64)
    result = pinn.train(net, loss, optax.lbfgs(), 20, key=jax.random.key(1),
                        sample_points=lambda k: fixed, eval_every=10, progress=False)
    assert result.loss[-1] < result.loss[0]


def test_causal_and_grad_norm_weights():
    w = pinn.causal_weights(jnp.array([1.0, 2.0, 0.5]), epsilon=0.5)
    np.testing.assert_allclose(w, np.exp(-0.5 * np.array([0.0, 1.0, 3.0])))
    params = jnp.array([1.0, 2.0])
    fns = [lambda p: jnp.sum(p**2), lambda p: 10.0 * p[0]]
    weights = pinn.grad_norm_weights(fns, params)
    norms = [float(jnp.linalg.norm(wi * jax.grad(f)(params))) for wi, f in zip(weights, fns)]
    np.testing.assert_allclose(norms[0], norms[1], rtol=1e-6)
    times = jnp.array([0.05, 0.15, 0.95])
    res = jnp.array([1.0, 0.0, 3.0])
    loss = pinn.causal_residual_loss(res, times, num_slices=2, t0=0.0, t1=1.0, epsilon=1.0)
    slices = np.array([0.5, 9.0])
    np.testing.assert_allclose(loss, np.mean(np.exp(-np.array([0.0, 0.5])) * slices), rtol=1e-6)
