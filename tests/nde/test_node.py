import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback

from jaxsci.nde import NeuralODE, evals_per_step


def _counting(count):
    """A vector field that counts its own evaluations on the host (ordered callback)."""

    def tick(t):
        count[0] += 1
        return np.zeros((), np.asarray(t).dtype)

    def f(t, y):
        z = io_callback(tick, jax.ShapeDtypeStruct((), y.dtype), t, ordered=True)
        return -2.0 * y * (1.0 + jnp.sin(3.0 * t) ** 2) + jnp.cos(5.0 * t) + z

    return f


@pytest.mark.parametrize("solver", [diffrax.Tsit5(), diffrax.Dopri5(), diffrax.Bosh3(), diffrax.Heun()])
@pytest.mark.parametrize("dt0", [0.1, None])
def test_nfe_equals_counted_evaluations(solver, dt0, x64):
    count = [0]
    node = NeuralODE(
        _counting(count), solver, diffrax.PIDController(rtol=1e-5, atol=1e-5), max_steps=4000
    )
    sol = node(jnp.ones(3), jnp.linspace(0.0, 3.0, 5), dt0=dt0)
    jax.block_until_ready(sol.ys)
    assert int(sol.nfe) == count[0]
    assert int(sol.num_rejected) > 0  # rejected steps are part of the count
    initial = 0 if dt0 is not None else 2
    if not solver.tableau.fsal:
        assert int(sol.nfe) == evals_per_step(solver) * int(sol.num_steps) + initial
    assert int(sol.num_steps) == int(sol.num_accepted) + int(sol.num_rejected)


def test_hairer_initial_step_is_used(x64):
    # A fast initial transient: Hairer's step is far below diffrax's 0.01 fallback and
    # the first step is accepted.
    node = NeuralODE(
        lambda t, y: -50.0 * y, stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6),
        max_steps=1000,
    )
    sol_auto = node(jnp.ones(2), jnp.array([0.0, 1.0]))
    dt0, evals = node.initial_step(0.0, jnp.ones(2))
    # Hairer's formulas in closed form for y' = -lam y, y0 = 1, rtol = atol = tau, order 5:
    # h0 = 0.01 / lam, h1 = (0.01 * 2 tau / lam^2)^(1/6), dt0 = min(100 h0, h1).
    lam, tau = 50.0, 1e-6
    assert evals == 2
    np.testing.assert_allclose(float(dt0), min(1.0 / lam, (0.02 * tau / lam**2) ** (1 / 6)), rtol=1e-12)
    sol_given = node(jnp.ones(2), jnp.array([0.0, 1.0]), dt0=float(dt0))
    assert int(sol_auto.num_steps) == int(sol_given.num_steps)
    assert int(sol_auto.nfe) == int(sol_given.nfe) + 2


def test_solution_matches_exact(x64):
    node = NeuralODE(
        lambda t, y: -y,
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-10),
        max_steps=10_000,
    )
    ts = jnp.linspace(0.0, 2.0, 5)
    sol = jax.jit(node)(jnp.array([1.0, 2.0]), ts)
    exact = jnp.exp(-ts)[:, None] * jnp.array([[1.0, 2.0]])
    assert jnp.max(jnp.abs(sol.ys - exact)) < 1e-8


@pytest.mark.heavy
def test_vmap_and_grad():
    node = NeuralODE(lambda t, y: -y, max_steps=256)
    ts = jnp.array([0.0, 1.0])
    sol = jax.vmap(lambda y0: node(y0, ts))(jnp.ones((4, 2)))
    assert sol.ys.shape == (4, 2, 2) and sol.nfe.shape == (4,)
    g = jax.grad(lambda y0: node(y0, ts).ys[-1].sum())(jnp.ones(2))
    assert jnp.allclose(g, jnp.exp(-1.0), rtol=1e-2)


def test_pytree_state(x64):
    node = NeuralODE(lambda t, y: (-y[0], 2.0 * y[1]), max_steps=1000,
                     stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-9))
    sol = node((jnp.ones(2), jnp.ones(())), jnp.array([0.0, 1.0]), heuristics=True)
    assert jnp.allclose(sol.ys[0][-1], jnp.exp(-1.0), rtol=1e-7)
    assert jnp.allclose(sol.ys[1][-1], jnp.exp(2.0), rtol=1e-7)
    assert float(sol.heuristics.error) > 0


def test_max_steps_exceeded_raises():
    node = NeuralODE(lambda t, y: -1000.0 * y, max_steps=3)
    with pytest.raises(eqx.EquinoxRuntimeError, match="max_steps"):
        jax.block_until_ready(node(jnp.ones(2), jnp.array([0.0, 10.0])).ys)
