import equinox as eqx
import jax
import jax.numpy as jnp
import pytest


def make_mlp(dim: int, seed: int = 0, width: int = 16, depth: int = 2):
    """A random tanh MLP R^dim -> R (float64 when x64 is on)."""
    return eqx.nn.MLP(dim, "scalar", width, depth, activation=jnp.tanh, key=jax.random.key(seed))


def _sample_function(dim: int, seed: int = 0):
    """A network composed with the nonlinearities PINN code uses: products, sin, exp, a
    hard-constraint factor and a norm, so that every Taylor rule is exercised."""
    net = make_mlp(dim, seed)
    w = jax.random.normal(jax.random.key(seed + 100), (dim,))

    def u(x):
        return (1.0 - x @ x) * net(x) + jnp.sin(w @ x) * jnp.exp(0.3 * x[0]) + 0.1 * jnp.log1p(x @ x)

    return u


@pytest.fixture
def point():
    def make(dim, seed=1):
        return 0.4 * jax.random.normal(jax.random.key(seed), (dim,))

    return make


@pytest.fixture
def sample_function():
    return _sample_function


@pytest.fixture
def mlp():
    return make_mlp
