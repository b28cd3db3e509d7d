"""NaN injected into jaxsci.taylor backends and jaxsci.pde problems under jit.

The chosen behaviour: the backends pass NaN/inf through as the formulas say (documented on
``taylor.AbstractBackend``): a NaN in the point or in the network's output gives a NaN value,
exact or stochastic, never a finite number; a stochastic estimate is NaN when any operator
coefficient is, sampled or not. Problems propagate NaN in the same way; domains refuse
non-finite bounds (at Python time, or under jit through ``equinox.error_if``).
"""

import importlib.util

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import pde, taylor
from jaxsci.pde.highdim import BallProblem

DIM = 3
BACKENDS = {
    "exact-collapsed": taylor.Exact(),
    "exact-jet": taylor.Exact(mode="jet"),
    "hessian-trace": taylor.HessianTrace(),
    "sparse-stde": taylor.SparseSTDE(2),
    "sdgd": taylor.SDGD(2),
    "dense-stde": taylor.DenseSTDE(2),
    "hutchinson": taylor.Hutchinson(2),
}
if importlib.util.find_spec("folx") is not None:
    BACKENDS["folx"] = taylor.ForwardLaplacian()


def _network():
    return eqx.nn.MLP(DIM, "scalar", 8, 2, activation=jnp.tanh, key=jax.random.key(0))


def _poisoned(net):
    """The same network with one NaN weight in its first layer."""
    return eqx.tree_at(lambda m: m.layers[0].weight, net, net.layers[0].weight.at[0, 0].set(jnp.nan))


@pytest.mark.parametrize("name", list(BACKENDS))
def test_nan_point_and_nan_network_give_nan(name):
    backend, net = BACKENDS[name], _network()
    op = taylor.laplacian(DIM)

    @eqx.filter_jit
    def values(x, good, bad, key):
        at_nan_point = backend(op, good, x.at[1].set(jnp.nan), key=key)
        of_nan_network = backend(op, bad, x, key=key)
        return at_nan_point, of_nan_network

    (u1, v1), (u2, v2) = values(0.3 * jnp.ones(DIM), net, _poisoned(net), jax.random.key(1))
    for value in (u1, v1, u2, v2):
        assert bool(jnp.isnan(value)), (name, value)


@pytest.mark.parametrize("num_samples", [1, 2])
def test_sparse_estimate_keeps_a_nan_coefficient_it_did_not_sample(num_samples):
    """One of five terms has a NaN coefficient; a sample of one or two terms usually misses
    it, and the estimate must still be NaN (it would otherwise be finite and wrong)."""
    u = lambda x: jnp.sum(jnp.sin(x))

    @jax.jit
    def estimates(coeffs, keys):
        op = taylor.directional(jnp.eye(5), 2, coeffs)
        return jax.vmap(lambda k: taylor.SparseSTDE(num_samples)(op, u, jnp.ones(5), key=k)[1])(keys)

    coeffs = jnp.ones(5).at[3].set(jnp.nan)
    out = np.asarray(estimates(coeffs, jax.random.split(jax.random.key(0), 16)))
    assert np.all(np.isnan(out))
    assert np.all(np.isfinite(np.asarray(estimates(jnp.ones(5), jax.random.split(jax.random.key(0), 4)))))


def test_dense_estimate_with_an_infinite_scale_is_not_finite():
    u = lambda x: jnp.sum(jnp.sin(x))
    f = jax.jit(lambda s, k: taylor.DenseSTDE(2)(s * taylor.laplacian(DIM), u, jnp.ones(DIM), key=k)[1])
    assert not bool(jnp.isfinite(f(jnp.inf, jax.random.key(0))))


def test_problem_residual_at_a_nan_point_is_nan():
    problem = BallProblem(DIM)
    u = problem.hard_constraint(_network())

    @jax.jit
    def residual(x):
        values = tuple(taylor.Exact()(op, u, x)[1] for op in problem.operators)
        return problem.residual(x, u(x), values)

    assert bool(jnp.isnan(residual(jnp.full(DIM, jnp.nan))))
    assert bool(jnp.isfinite(residual(jnp.full(DIM, 0.1))))


def test_box_with_nan_bounds_under_jit_raises():
    make = jax.jit(lambda lo: pde.Box(lo, lo + 1.0).sample(4, key=jax.random.key(0)))
    assert make(jnp.zeros(2)).shape == (4, 2)
    with pytest.raises(Exception, match="finite bounds"):
        jax.block_until_ready(make(jnp.array([0.0, jnp.nan])))
