"""NaN/inf in a PINN's network output or collocation points never passes silently: a clear
error (also under jax.jit), or a result code with throw=False."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import core, pinn, taylor
from jaxsci.pde.highdim import BallProblem

PROBLEM = BallProblem(3, "two_body", "poisson")
NET = eqx.nn.MLP(3, "scalar", 8, 1, activation=jnp.tanh, key=jax.random.key(0))
POINTS = PROBLEM.domain.sample(6, key=jax.random.key(1))


def _nan_net():
    # NaN weights: the network's output (and its derivatives) are NaN everywhere
    return eqx.tree_at(lambda m: m.layers[-1].bias, NET, jnp.full((), jnp.nan))


def test_residual_loss_nan_network_output_under_jit():
    loss = eqx.filter_jit(lambda m, p: pinn.residual_loss(PROBLEM, PROBLEM.hard_constraint(m), p))
    with pytest.raises(RuntimeError, match="residual is NaN or inf"):
        jax.block_until_ready(loss(_nan_net(), POINTS))
    quiet = eqx.filter_jit(lambda m, p: pinn.residual_loss(PROBLEM, PROBLEM.hard_constraint(m), p, throw=False))
    assert bool(jnp.isnan(quiet(_nan_net(), POINTS)))  # passes through, for the training loop to report


def test_residual_loss_nan_points_under_jit():
    bad = POINTS.at[2, 1].set(jnp.inf)
    for backend, key in ((taylor.Exact(), None), (taylor.SparseSTDE(2), jax.random.key(0))):
        loss = jax.jit(lambda p: pinn.residual_loss(PROBLEM, NET, p, backend, key=key))
        with pytest.raises(RuntimeError, match="`points` contain NaN or inf"):
            jax.block_until_ready(loss(bad))


def test_pointwise_residuals_nan_network_output_under_jit():
    fn = eqx.filter_jit(lambda m: pinn.pointwise_residuals(PROBLEM, PROBLEM.hard_constraint(m), POINTS,
                                                           taylor.SparseSTDE(2), key=jax.random.key(0)))
    with pytest.raises(RuntimeError, match="residual is NaN or inf"):
        jax.block_until_ready(fn(_nan_net()))


def _loss(model, points, key):
    return pinn.residual_loss(PROBLEM, PROBLEM.hard_constraint(model), points, key=key, throw=False)


def _sample(key):
    return pinn.uniform(PROBLEM.domain, 8, key=key)


def test_train_nan_network_output_raises_or_reports():
    kwargs = dict(steps=4, key=jax.random.key(2), sample=_sample, chunk=2, progress=False)
    with pytest.raises(FloatingPointError, match="NaN/inf"):
        pinn.train(_nan_net(), _loss, optax.adam(1e-3), **kwargs)
    out = pinn.train(_nan_net(), _loss, optax.adam(1e-3), **kwargs, throw=False)
    assert out.result == core.RESULTS.nonfinite_values
    assert out.num_steps == 0


def test_train_nan_points_under_jit_is_a_clear_error():
    loss = lambda m, p, key: pinn.residual_loss(PROBLEM, PROBLEM.hard_constraint(m), p, key=key)
    sample = lambda k: _sample(k).at[0, 0].set(jnp.nan)
    with pytest.raises(RuntimeError, match="`points` contain NaN or inf"):
        pinn.train(NET, loss, optax.adam(1e-3), steps=2, key=jax.random.key(2), sample=sample, chunk=2,
                   progress=False)


def test_train_divergence_keeps_the_last_finite_model():
    # sqrt(w) with a step that jumps below 0: the loss becomes NaN in the second chunk
    loss = lambda m, x, key: jnp.sqrt(m[0]) + 0.0 * jnp.sum(x)
    kwargs = dict(steps=6, key=jax.random.key(0), sample=lambda k: jnp.zeros(1), chunk=2, progress=False)
    out = pinn.train(jnp.array([9.0]), loss, optax.sgd(10.0), **kwargs, throw=False)
    assert out.result == core.RESULTS.nonfinite_values
    assert bool(jnp.all(jnp.isfinite(out.model))) and out.num_steps < 6
    assert np.all(np.isfinite(out.losses))
    with pytest.raises(FloatingPointError):
        pinn.train(jnp.array([9.0]), loss, optax.sgd(10.0), **kwargs)
