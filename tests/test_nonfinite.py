"""NaN/inf injected into the shared primitives under jit: a clear error, or a result code with
``throw=False``. The families' own injections are in ``tests/nonfinite/``."""

import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import pytest

from jaxsci import core


@pytest.mark.parametrize("solver", [lx.SVD(), lx.QR(), lx.Normal(lx.Cholesky())])
def test_least_squares_nan_matrix_under_jit(solver):
    a = jnp.eye(4, 3).at[1, 1].set(jnp.nan)
    solve = jax.jit(lambda a: core.least_squares(a, jnp.ones(4), solver=solver, throw=False))
    assert solve(a).result == core.RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN or infinity"):
        jax.jit(lambda a: core.least_squares(a, jnp.ones(4), solver=solver).value)(a)


def test_least_squares_vmapped_member_fails_alone():
    mats = jnp.stack([jnp.eye(3), jnp.eye(3).at[0, 0].set(jnp.inf), 2 * jnp.eye(3)])
    sols = jax.jit(jax.vmap(lambda a: core.least_squares(a, jnp.ones(3), throw=False)))(mats)
    ok = np.asarray(jax.vmap(lambda r: r == core.RESULTS.successful)(sols.result))
    assert ok.tolist() == [True, False, True]
    np.testing.assert_allclose(sols.value[2], 0.5, rtol=1e-6)


def test_fit_nan_in_the_data_is_reported_with_the_step():
    data = jnp.array([1.0, jnp.nan])
    with pytest.raises(FloatingPointError, match="between steps 0 and 10"):
        core.fit(lambda m, b, key: jnp.sum((m - b) ** 2), jnp.zeros(2), optax.adam(0.1), steps=30,
                 chunk=10, data=data, key=jax.random.key(0), progress=False)


def test_fit_nan_at_the_first_step_keeps_the_initial_model():
    def loss(m, b, key):
        return jnp.sum(jnp.log(m - 0.5) ** 2)  # log of a negative number: NaN at once

    out = core.fit(loss, jnp.zeros(2), optax.adam(0.1), steps=20, chunk=10,
                   key=jax.random.key(0), progress=False, throw=False)
    assert out.result == core.RESULTS.nonfinite_values and out.num_steps == 0
    np.testing.assert_array_equal(out.model, jnp.zeros(2))


def test_fit_nan_appearing_mid_training_stops_at_that_chunk():
    def loss(m, b, key):  # m grows by 0.01 a step; the loss is NaN once m passes 0.505
        return -jnp.sum(m) + jnp.sum(jnp.where(m > 0.505, jnp.nan, 0.0))

    out = core.fit(loss, jnp.zeros(2), optax.sgd(0.01), steps=400, chunk=10,
                   key=jax.random.key(0), progress=False, throw=False)
    assert out.result == core.RESULTS.nonfinite_values
    assert out.num_steps == 50  # the last chunk boundary before the NaN
    np.testing.assert_allclose(out.model, 0.5, rtol=1e-5)
