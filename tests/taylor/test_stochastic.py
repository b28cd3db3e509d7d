"""Stochastic estimators: unbiased (mean within 4 standard errors of the exact value)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor

NUM_DRAWS = 4000


def draws(backend, op, u, x, num=NUM_DRAWS, seed=0):
    keys = jax.random.split(jax.random.key(seed), num)
    return np.asarray(jax.jit(jax.vmap(lambda k: backend(op, u, x, key=k)[1]))(keys))


def assert_unbiased(samples, exact, label):
    mean = samples.mean()
    stderr = samples.std(ddof=1) / np.sqrt(len(samples))
    # The variance is part of the report: `pytest -s` prints it.
    print(f"{label}: exact {float(exact):.6g} mean {mean:.6g} variance {samples.var(ddof=1):.4g}")
    assert stderr > 0 or np.isclose(mean, exact)
    assert abs(mean - exact) <= 4 * stderr + 1e-12, (label, mean, exact, stderr)


CASES = [
    ("sparse-collapsed", taylor.SparseSTDE(3)),
    ("sparse-jet", taylor.SparseSTDE(3, mode="jet")),
    ("sdgd", taylor.SDGD(3)),
    ("dense-rademacher", taylor.DenseSTDE(2)),
    ("dense-gaussian-jet", taylor.DenseSTDE(2, "gaussian", mode="jet")),
    ("hutchinson", taylor.Hutchinson(2)),
]


@pytest.mark.parametrize("label, backend", CASES, ids=[c[0] for c in CASES])
def test_laplacian_estimators_are_unbiased(x64, point, sample_function, label, backend):
    u, x = sample_function(6), point(6)
    exact = jnp.trace(jax.hessian(u)(x))
    assert_unbiased(draws(backend, taylor.laplacian(6), u, x), exact, label)


def test_dense_biharmonic_gaussian_is_unbiased(x64, point, sample_function):
    u, x = sample_function(4), point(4)
    exact = eqx.filter_jit(taylor.Exact())(taylor.biharmonic(4), u, x)[1]
    samples = draws(taylor.DenseSTDE(4, "gaussian"), taylor.biharmonic(4), u, x)
    assert_unbiased(samples, exact, "dense biharmonic")


def test_sparse_estimator_on_a_mixed_operator(x64, point, sample_function):
    u, x = sample_function(4), point(4)
    op = taylor.biharmonic(4) + taylor.partial(4, (3, 1, 0, 0)) + taylor.laplacian(4) + taylor.gradient_dot(jnp.ones(4))
    exact = eqx.filter_jit(taylor.Exact())(op, u, x)[1]
    assert_unbiased(draws(taylor.SparseSTDE(3), op, u, x), exact, "sparse mixed")


def test_dense_estimator_with_negative_weights(x64, point, sample_function):
    u, x = sample_function(5), point(5)
    op = taylor.laplacian(5) - 3.0 * taylor.partial(5, {0: 1, 2: 1})
    exact = eqx.filter_jit(taylor.Exact())(op, u, x)[1]
    assert_unbiased(draws(taylor.DenseSTDE(2), op, u, x), exact, "dense signed")


def test_dense_estimator_on_diffusion_trace(x64, point, sample_function):
    u, x = sample_function(5), point(5)
    sigma = jax.random.normal(jax.random.key(4), (5, 2))
    exact = jnp.trace(sigma @ sigma.T @ jax.hessian(u)(x))
    assert_unbiased(draws(taylor.DenseSTDE(1), taylor.diffusion_trace(sigma), u, x), exact, "dense trace")


def test_sparse_with_all_terms_is_exact(x64, point, sample_function):
    u, x = sample_function(5), point(5)
    op = taylor.laplacian(5)
    est = taylor.SparseSTDE(5)(op, u, x, key=jax.random.key(0))[1]
    np.testing.assert_allclose(est, jnp.trace(jax.hessian(u)(x)), rtol=1e-10)


def test_two_draw_product_is_unbiased_for_the_square(x64, point, sample_function):
    u, x = sample_function(6), point(6)
    exact = jnp.trace(jax.hessian(u)(x))
    source = exact + 0.3  # residual = Lap u - source; true residual = -0.3
    backend = taylor.SparseSTDE(2)

    def residual(k):
        return backend(taylor.laplacian(6), u, x, key=k)[1] - source

    keys = jax.random.split(jax.random.key(1), NUM_DRAWS)
    products = np.asarray(jax.jit(jax.vmap(lambda k: taylor.two_draw_product(residual, key=k)))(keys))
    squares = np.asarray(jax.jit(jax.vmap(lambda k: residual(k) ** 2))(keys))
    assert_unbiased(products, 0.09, "two-draw product")
    # the naive square is biased upwards by the estimator's variance
    stderr = squares.std(ddof=1) / np.sqrt(NUM_DRAWS)
    assert squares.mean() - 0.09 > 4 * stderr


@pytest.mark.full_precision  # float32 tolerances below TF32 rounding (make test-tf32)
def test_stochastic_backends_vmap_over_points_and_keys_and_differentiate(point, mlp):
    dim = 5
    net = mlp(dim)
    points = jnp.stack([point(dim, s) for s in range(4)])
    keys = jax.random.split(jax.random.key(0), 4)
    op = taylor.laplacian(dim)

    def loss(model, backend):
        return jnp.mean(jax.vmap(lambda p, k: backend(op, model, p, key=k)[1])(points, keys) ** 2)

    # with all terms sampled, sparse STDE equals the exact value, so gradients must agree
    g_sparse = eqx.filter_jit(eqx.filter_grad(loss))(net, taylor.SparseSTDE(dim))
    g_exact = eqx.filter_jit(eqx.filter_grad(loss))(net, taylor.HessianTrace())
    for a, b in zip(jax.tree_util.tree_leaves(g_sparse), jax.tree_util.tree_leaves(g_exact)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
