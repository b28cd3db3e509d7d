import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import core, pde, pinn, taylor
from jaxsci.pde.highdim import BallProblem


@pytest.mark.parametrize(
    "domain",
    [pde.Box([0.0, -1.0, 2.0], [1.0, 1.0, 3.0]), pde.Ball(7), pde.Sphere(5, 2.0),
     pde.SpaceTime(pde.Ball(3), 0.0, 2.0)],
    ids=["box", "ball", "sphere", "space-time"],
)
def test_samplers_stay_inside_their_domains(domain):
    key = jax.random.key(0)
    assert bool(jnp.all(domain.contains(pinn.uniform(domain, 500, key=key))))
    if not isinstance(domain, pde.Sphere):
        assert bool(jnp.all(domain.contains(domain.sample_boundary(200, key=key))))
    if isinstance(domain, (pde.Box, pde.SpaceTime)) and not isinstance(getattr(domain, "space", None), pde.Ball):
        assert bool(jnp.all(domain.contains(pinn.halton(domain, 300))))
        assert bool(jnp.all(domain.contains(pinn.sobol(domain, 256, key=key))))


def test_box_and_sobol_accept_traced_arguments():
    key = jax.random.key(0)

    def sample(lower, width):
        box = pde.Box(lower, lower + width)
        return box.sample(64, key=key), pinn.sobol(box, 16, key=jax.random.key(3))

    lower, width = jnp.array([[0.0, -1.0], [2.0, 5.0]]), jnp.array([[1.0, 2.0], [0.5, 0.25]])
    batched = jax.jit(jax.vmap(sample))(lower, width)
    for i in range(2):  # each member equals the concrete construction, inside its own box
        box = pde.Box(lower[i], lower[i] + width[i])
        assert all(bool(jnp.all(box.contains(points[i]))) for points in batched)
        np.testing.assert_allclose(batched[0][i], box.sample(64, key=key), rtol=1e-6)
        np.testing.assert_allclose(batched[1][i], pinn.sobol(box, 16, key=jax.random.key(3)), rtol=1e-6)
    # traced keys: one SciPy call per key, the same points as the concrete key
    keys = jax.random.split(jax.random.key(0), 3)
    seeds = jax.vmap(lambda k: pinn.sobol(pde.Box([0.0], [1.0]), 8, key=k))(keys)
    for s in range(3):
        np.testing.assert_allclose(seeds[s], pinn.sobol(pde.Box([0.0], [1.0]), 8, key=keys[s]))
    assert not np.allclose(seeds[0], seeds[1])


def test_ball_sampler_is_uniform_in_radius():
    x = pde.Ball(4).sample(40000, key=jax.random.key(1))
    r = np.linalg.norm(np.asarray(x), axis=1)
    # P(r <= s) = s^d for the uniform ball
    for s in (0.5, 0.8, 0.95):
        assert abs(np.mean(r <= s) - s**4) < 0.01
    # the STDE paper's sampling: a uniform radius
    r = np.linalg.norm(np.asarray(pde.Ball(50, radial="uniform").sample(40000, key=jax.random.key(2))), axis=1)
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
    new = pinn.r3_resample(box, points, residuals, key=jax.random.key(0))
    assert new.shape == points.shape
    np.testing.assert_array_equal(new[8:], points[8:])
    assert bool(jnp.all(box.contains(new)))
    added = pinn.rar_add(points[:2], points, residuals, 2)
    np.testing.assert_array_equal(added[2:], points[jnp.array([9, 8])])


def _small_problem():
    problem = BallProblem(4, "two_body", "allen_cahn", seed=0)
    net = eqx.nn.MLP(4, "scalar", 32, 2, activation=jnp.tanh, key=jax.random.key(0))
    test = problem.domain.sample(1000, key=jax.random.key(9))
    return problem, net, test, jax.vmap(problem.solution)(test)


@pytest.mark.parametrize("backend", [taylor.SparseSTDE(2), taylor.Exact()], ids=["stde", "exact"])
def test_short_training_lowers_the_error_tenfold(backend):
    problem, net, test, exact = _small_problem()

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key=key)

    def error(model):
        return core.relative_l2(jax.vmap(problem.hard_constraint(model))(test), exact)

    before = float(error(net))
    result = pinn.train(net, loss, optax.adam(optax.linear_schedule(3e-3, 0.0, 1500)), steps=1500,
                        key=jax.random.key(1), sample=lambda k: pinn.uniform(problem.domain, 64, key=k),
                        evaluate=error, chunk=500, progress=False)
    assert isinstance(result, core.FitResult) and result.result == core.RESULTS.successful
    assert result.history_error[-1] < before / 10, (before, result.history_error)
    assert result.history_step.tolist() == [500, 1000, 1500]


@pytest.mark.heavy
def test_loss_is_jit_vmap_and_grad_able(x64):
    problem, net, test, _ = _small_problem()
    points = test[:16]
    u = problem.hard_constraint(net)

    def loss(model, key, backend, unbiased=False):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key=key,
                                  unbiased=unbiased)

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


def test_lbfgs_swaps_in_for_adam_by_changing_one_object():
    problem, net, test, exact = _small_problem()

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, taylor.Exact(), key=key)

    fixed = problem.domain.sample(64, key=jax.random.key(3))
    for optimizer in (optax.adam(1e-3), optax.lbfgs()):
        result = pinn.train(net, loss, optimizer, steps=20, key=jax.random.key(1),
                            sample=lambda k: fixed, chunk=10, progress=False)
        assert result.history_loss[-1] < result.history_loss[0]


def test_legacy_prng_key_is_accepted():
    # a legacy uint32[2] key used to fail with "cannot reshape array of shape (8, 2)"
    problem = BallProblem(3, "two_body", "poisson")
    net = eqx.nn.MLP(3, "scalar", 4, 1, activation=jnp.tanh, key=jax.random.key(0))
    legacy = jax.random.PRNGKey(0)
    typed = jax.random.wrap_key_data(legacy)
    points = pinn.uniform(problem.domain, 4, key=legacy)
    np.testing.assert_array_equal(points, pinn.uniform(problem.domain, 4, key=typed))
    loss = jax.jit(lambda k: pinn.residual_loss(problem, problem.hard_constraint(net), points, taylor.SparseSTDE(2),
                                                key=k))
    np.testing.assert_array_equal(loss(legacy), loss(typed))
    box = pde.Box([0.0, 0.0], [1.0, 1.0])
    np.testing.assert_array_equal(pinn.halton(box, 4, key=legacy), pinn.halton(box, 4, key=typed))
    np.testing.assert_array_equal(pinn.sobol(box, 4, key=legacy), pinn.sobol(box, 4, key=typed))

    def train_loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, taylor.SparseSTDE(2), key=key)

    out = pinn.train(net, train_loss, optax.adam(1e-3), steps=2, key=legacy, chunk=2, progress=False,
                     sample=lambda k: pinn.uniform(problem.domain, 4, key=k))
    assert out.result == core.RESULTS.successful and np.all(np.isfinite(out.losses))


def test_finite_loss_with_nan_gradient_is_caught():
    # sqrt at 0: a finite loss whose gradient is NaN; the parameters become NaN after one step
    net = eqx.nn.MLP(1, "scalar", 4, 1, key=jax.random.key(0))
    loss = lambda m, x, key: jnp.mean(jnp.sqrt(0.0 * jax.vmap(m)(x) ** 2))
    sample = lambda k: jax.random.uniform(k, (4, 1))
    with pytest.raises(FloatingPointError, match="NaN/inf"):
        pinn.train(net, loss, optax.adam(1e-3), steps=4, key=jax.random.key(1), sample=sample, chunk=2,
                   progress=False)
    out = pinn.train(net, loss, optax.adam(1e-3), steps=4, key=jax.random.key(1), sample=sample, chunk=2,
                     progress=False, throw=False)
    assert out.result == core.RESULTS.nonfinite_values
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree_util.tree_leaves(eqx.filter(out.model, eqx.is_array)))


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


def test_train_compiles_one_chunk_per_chunk_length():
    # the step counter is data: 7 steps in chunks of 2 compile two programs (lengths 2 and 1),
    # not one per chunk
    import logging

    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler, logger = Collect(), logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        net = eqx.nn.MLP(1, "scalar", 4, 1, key=jax.random.key(0))
        with jax.log_compiles():
            result = pinn.train(net, lambda m, p, key: jnp.mean(jax.vmap(m)(p) ** 2), optax.adam(1e-3),
                                steps=7, key=jax.random.key(1), sample=lambda k: jax.random.uniform(k, (4, 1)),
                                chunk=2, progress=False)
    finally:
        logger.removeHandler(handler)
    assert sum("Compiling jit(run_chunk)" in m for m in messages) == 2
    assert list(result.history_step) == [2, 4, 6, 7]
