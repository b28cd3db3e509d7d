import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.nde import NeuralODE, TayNODEField, rnode_field, steer_end_time, total_derivative


def _mlp_field(key):
    mlp = eqx.nn.MLP(4, 3, 8, 2, activation=jnp.tanh, key=key)
    return lambda t, y: mlp(jnp.concatenate([y, jnp.atleast_1d(t)]))


def _nested_total_derivative(f, t, y, order):
    """d^K y/dt^K by the recursion h_{k+1} = (dh_k/dy) f + dh_k/dt with nested jacfwd."""
    h = f
    for _ in range(order - 1):
        h = (lambda hk: lambda tt, yy: jax.jacfwd(hk, 1)(tt, yy) @ f(tt, yy) + jax.jacfwd(hk, 0)(tt, yy))(h)
    return h(t, y)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_total_derivative_matches_nested_jacfwd(order, x64, key):
    f = _mlp_field(key)
    y, t = jnp.array([0.3, -0.7, 1.1]), 0.4
    np.testing.assert_allclose(
        total_derivative(f, t, y, order), _nested_total_derivative(f, t, y, order), rtol=1e-10, atol=1e-12
    )


def test_total_derivative_closed_form(x64):
    # y' = sin(t) y  =>  y'' = (cos t + sin^2 t) y
    y = jnp.array([1.0, 2.0])
    np.testing.assert_allclose(
        total_derivative(lambda t, y: jnp.sin(t) * y, 0.7, y, 2), (np.cos(0.7) + np.sin(0.7) ** 2) * y, rtol=1e-12
    )


def test_taynode_penalty_integrates_squared_derivative(x64):
    # y' = -y: d^2y/dt^2 = y = e^{-t}, so R_2 = int_0^T e^{-2t} dt = (1 - e^{-2T}) / 2.
    node = NeuralODE(TayNODEField(lambda t, y: -y, 2), stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-10), max_steps=4000)
    sol = node((jnp.ones(3), jnp.zeros(())), jnp.array([0.0, 1.5]))
    np.testing.assert_allclose(float(sol.ys[1][-1]), (1 - np.exp(-3.0)) / 2, rtol=1e-8)


def test_rnode_probe_estimates_the_frobenius_norm(x64, key):
    f = _mlp_field(key)
    t, y = 0.2, jnp.array([0.1, 0.5, -0.3])
    jac = jax.jacfwd(f, 1)(t, y)
    kinetic = np.mean(np.asarray(f(t, y)) ** 2)

    def density(k):
        return rnode_field(f, y, key=k)(t, (y, 0.0))[1]

    est = jax.vmap(density)(jax.random.split(key, 20000)).mean()
    want = kinetic + np.sum(np.asarray(jac) ** 2) / 3
    np.testing.assert_allclose(float(est), want, rtol=0.03)


def test_steer_end_time_range(key):
    ts = jax.vmap(lambda k: steer_end_time(1.0, 0.25, key=k))(jax.random.split(key, 2000))
    assert float(ts.min()) >= 0.75 and float(ts.max()) <= 1.25
    assert abs(float(ts.mean()) - 1.0) < 0.02
