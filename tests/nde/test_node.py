import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from jaxsci.nde import NeuralODE


def _counting(count):
    def f(t, y):
        jax.debug.callback(lambda: count.__setitem__(0, count[0] + 1))
        return -2.0 * y + jnp.sin(3.0 * t)

    return f


@pytest.mark.parametrize("solver", [diffrax.Tsit5(), diffrax.Dopri5(), diffrax.Heun()])
def test_nfe_matches_counting_vector_field_fixed_dt0(solver):
    count = [0]
    node = NeuralODE(_counting(count), solver, max_steps=1000)
    ys, nfe = node(jnp.ones(3), jnp.linspace(0.0, 3.0, 5), dt0=0.1)
    jax.block_until_ready(ys)
    assert int(nfe) == count[0]


def test_nfe_initial_step_selection_adds_two():
    # diffrax's automatic initial step (Hairer et al. II.4) costs 2 evaluations,
    # which the debug callback does not observe (they run inside a scan trick).
    count = [0]
    node = NeuralODE(_counting(count), max_steps=1000)
    ys, nfe = node(jnp.ones(3), jnp.linspace(0.0, 3.0, 5))
    jax.block_until_ready(ys)
    assert int(nfe) == count[0] + 2


def test_solution_matches_exact(x64):
    node = NeuralODE(
        lambda t, y: -y,
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-10),
        max_steps=10_000,
    )
    ts = jnp.linspace(0.0, 2.0, 5)
    ys, _ = jax.jit(node)(jnp.array([1.0, 2.0]), ts)
    exact = jnp.exp(-ts)[:, None] * jnp.array([1.0, 2.0])
    assert jnp.max(jnp.abs(ys - exact)) < 1e-8


def test_vmap_and_grad():
    node = NeuralODE(lambda t, y: -y, max_steps=256)
    ts = jnp.array([0.0, 1.0])
    ys, nfe = jax.vmap(lambda y0: node(y0, ts))(jnp.ones((4, 2)))
    assert ys.shape == (4, 2, 2) and nfe.shape == (4,)
    g = jax.grad(lambda y0: node(y0, ts)[0][-1].sum())(jnp.ones(2))
    assert jnp.allclose(g, jnp.exp(-1.0), rtol=1e-2)


def test_max_steps_exceeded_raises():
    node = NeuralODE(lambda t, y: -1000.0 * y, max_steps=3)
    with pytest.raises(eqx.EquinoxRuntimeError, match="max_steps"):
        jax.block_until_ready(node(jnp.ones(2), jnp.array([0.0, 10.0]))[0])
