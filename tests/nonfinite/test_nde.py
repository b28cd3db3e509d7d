"""NaN/inf in jaxsci.nde: a clear error with throw=True, a result code with throw=False."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import nde
from jaxsci.core import RESULTS

TS = jnp.array([0.0, 0.5, 1.0])


def _nan_above(threshold):
    # y' = y, NaN once a component exceeds the threshold (reached at t = log(threshold))
    return lambda t, y: jnp.where(y > threshold, jnp.nan, y)


def _node(field, **kwargs):
    return nde.NeuralODE(field, max_steps=kwargs.pop("max_steps", 256), **kwargs)


def test_nan_field_under_jit_raises_a_nan_message():
    node = _node(lambda t, y: y * jnp.nan)
    with pytest.raises(Exception, match="NaN or infinity"):
        jax.block_until_ready(jax.jit(lambda y: node(y, TS).ys)(jnp.ones(2)))


@pytest.mark.parametrize("dt0", [None, 0.1])
def test_nan_field_in_part_of_the_space_is_nonfinite_not_max_steps(dt0):
    sol = jax.jit(lambda y: _node(_nan_above(1.5))(y, TS, dt0, throw=False))(jnp.ones(2))
    assert sol.result == RESULTS.nonfinite_values


def test_genuine_max_steps_stays_max_steps():
    node = _node(lambda t, y: -1000.0 * y, max_steps=3)
    sol = jax.jit(lambda y: node(y, jnp.array([0.0, 10.0]), throw=False))(jnp.ones(2))
    assert sol.result == RESULTS.max_steps_reached


def test_nan_y0_traced_is_nonfinite():
    sol = jax.jit(lambda y: _node(lambda t, y: -y)(y, TS, throw=False))(jnp.array([1.0, jnp.nan]))
    assert sol.result == RESULTS.nonfinite_values


def test_nan_time_traced_is_nonfinite():
    sol = jax.jit(lambda ts: _node(lambda t, y: -y)(jnp.ones(2), ts, throw=False))(jnp.array([0.0, jnp.nan]))
    assert sol.result == RESULTS.nonfinite_values


def test_constant_steps_nan_is_nonfinite():
    node = _node(lambda t, y: y * jnp.nan, solver=diffrax.Euler(), stepsize_controller=diffrax.ConstantStepSize())
    sol = jax.jit(lambda y: node(y, TS, dt0=0.1, throw=False))(jnp.ones(2))
    assert sol.result == RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN or infinity"):
        jax.block_until_ready(jax.jit(lambda y: node(y, TS, dt0=0.1).ys)(jnp.ones(2)))


def test_one_failing_member_of_a_vmap_leaves_the_others():
    node = _node(_nan_above(10.0))
    y0 = jnp.array([[1.0], [11.0], [0.5]])  # the second member starts in the NaN region
    sols = jax.jit(jax.vmap(lambda y: node(y, TS, throw=False)))(y0)
    assert np.asarray(sols.result == RESULTS.nonfinite_values).tolist() == [False, True, False]
    for i in (0, 2):
        np.testing.assert_allclose(sols.ys[i], node(y0[i], TS).ys, rtol=1e-6)
        np.testing.assert_allclose(sols.ys[i][-1], y0[i] * np.e, rtol=1e-2)
    with pytest.raises(Exception, match="NaN or infinity"):  # throw=True: the batch fails
        jax.block_until_ready(jax.jit(jax.vmap(lambda y: node(y, TS).ys))(y0))


def test_nan_parameters_of_a_module_field():
    field = eqx.nn.MLP(2, 2, 8, 1, key=jax.random.key(0))
    field = eqx.tree_at(lambda m: m.layers[0].bias, field, jnp.full(8, jnp.nan))
    node = _node(lambda t, y: field(y))
    sol = eqx.filter_jit(lambda y: node(y, TS, throw=False))(jnp.ones(2))
    assert sol.result == RESULTS.nonfinite_values


def test_heuristics_and_local_penalty_report_nan():
    node = _node(lambda t, y: y * jnp.nan)
    sol = jax.jit(lambda y: node(y, TS, heuristics=True, throw=False))(jnp.ones(2))
    assert sol.result == RESULTS.nonfinite_values
    run = jax.jit(lambda y, k: nde.local_regularization(node, y, TS, key=k, throw=False)[0].result)
    assert run(jnp.ones(2), jax.random.key(0)) == RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN or infinity"):
        jax.block_until_ready(jax.jit(lambda y: nde.local_regularization(node, y, TS, key=jax.random.key(0))[0].ys)(jnp.ones(2)))


def test_sde_nan_drift():
    sde = nde.NeuralSDE(lambda t, y: y * jnp.nan, lambda t, y: 0.1 * jnp.ones_like(y), max_steps=256)
    solve = lambda y, throw: sde(y, TS, key=jax.random.key(0), dt0=0.1, throw=throw)
    assert jax.jit(lambda y: solve(y, False).result)(jnp.ones(2)) == RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN or infinity"):
        jax.block_until_ready(jax.jit(lambda y: solve(y, True).ys)(jnp.ones(2)))


def test_sde_vmap_over_keys_with_throw_false():
    sde = nde.NeuralSDE(lambda t, y: -y, lambda t, y: 0.1 * jnp.ones_like(y), max_steps=256)
    y0 = jnp.array([[1.0], [jnp.nan], [2.0]])
    sols = jax.jit(jax.vmap(lambda y, k: sde(y, TS, key=k, dt0=0.1, throw=False)))(y0, jax.random.split(jax.random.key(0), 3))
    assert np.asarray(sols.result == RESULTS.successful).tolist() == [True, False, True]
    assert np.asarray(sols.result == RESULTS.nonfinite_values).tolist() == [False, True, False]
    assert np.all(np.isfinite(np.asarray(sols.ys[jnp.array([0, 2])])))
