import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.nde import NeuralODE, local_regularization, scaled_error


def _node(theta, adjoint=None, tol=1e-6):
    # A pytree (not a closure) so that BacksolveAdjoint sees theta as an input.
    field = jax.tree_util.Partial(
        lambda th, t, y: -th * y * (1.0 + jnp.sin(3.0 * t) ** 2) + jnp.cos(5.0 * t), theta
    )
    return NeuralODE(
        field, diffrax.Tsit5(), diffrax.PIDController(rtol=tol, atol=tol), adjoint, max_steps=4000
    )


def test_unbiased_penalty_is_one_step_from_the_solution_at_t_star(x64, key):
    node, y0, ts = _node(1.3), jnp.array([1.0, -0.5]), jnp.linspace(0.0, 2.0, 5)
    sol, pen = local_regularization(node, y0, ts, key=key)
    # The saved trajectory is the plain solve's.
    np.testing.assert_allclose(sol.ys, node(y0, ts).ys, rtol=1e-12, atol=1e-12)
    assert 0.0 <= float(pen.t) < 2.0
    # Independent recomputation: y(t*) by a tight solve, then one fresh Tsit5 step.
    tight = _node(1.3, tol=1e-12)(y0, jnp.array([0.0, float(pen.t)])).ys[-1]
    term = diffrax.ODETerm(lambda t, y, args: node.vector_field(t, y))
    solver = diffrax.Tsit5()
    t0, dt = pen.t, pen.dt
    y1, err, _, _, _ = solver.step(term, t0, t0 + dt, tight, None, solver.init(term, t0, t0 + dt, tight, None), True)
    want = float(scaled_error(tight, y1, err, 1e-6, 1e-6) * dt)
    np.testing.assert_allclose(float(pen.value), want, rtol=1e-3)
    assert int(pen.nfe) == 7 + 2  # one Tsit5 step with its first stage + the step-size choice


def test_t_star_is_uniform(x64):
    node, y0, ts = _node(1.0, tol=1e-3), jnp.ones(1), jnp.array([0.0, 2.0])
    draws = jax.jit(jax.vmap(lambda k: local_regularization(node, y0, ts, key=k)[1].t))(
        jax.random.split(jax.random.key(1), 400)
    )
    assert 0.0 <= float(draws.min()) and float(draws.max()) < 2.0
    assert abs(float(draws.mean()) - 1.0) < 0.1  # mean 1, std of the mean 0.03


def test_biased_draw_is_an_accepted_step(x64, key):
    node, y0, ts = _node(1.3), jnp.array([1.0, -0.5]), jnp.array([0.0, 2.0])
    sol, pen = local_regularization(node, y0, ts, key=key, sampling="biased")
    steps = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: node.vector_field(t, y)), diffrax.Tsit5(), 0.0, 2.0,
        float(node.initial_step(0.0, y0)[0]), y0, saveat=diffrax.SaveAt(t0=True, steps=True),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6), max_steps=4000,
    )
    n = int(steps.stats["num_accepted_steps"])
    t_acc = np.asarray(steps.ts[: n + 1])
    j = int(np.argmin(abs(t_acc - float(pen.t))))
    assert abs(t_acc[j] - float(pen.t)) < 1e-12 and j < n
    np.testing.assert_allclose(float(pen.dt), t_acc[j + 1] - t_acc[j], rtol=1e-10)


def test_biased_draws_cover_the_steps(x64):
    node, y0, ts = _node(1.0, tol=1e-4), jnp.ones(1), jnp.array([0.0, 2.0])
    draws = jax.jit(jax.vmap(lambda k: local_regularization(node, y0, ts, key=k, sampling="biased")[1].t))(
        jax.random.split(jax.random.key(2), 300)
    )
    accepted = int(node(y0, ts).num_accepted)
    counts = np.unique(np.asarray(draws), return_counts=True)[1]
    assert len(counts) == accepted  # every accepted step gets drawn
    assert counts.max() < 4 * 300 / accepted  # and none dominates


@pytest.mark.heavy
@pytest.mark.parametrize("sampling", ["unbiased", "biased"])
def test_local_runs_and_differentiates_under_backsolve(sampling, x64, key):
    y0, ts = jnp.array([1.0, -0.5]), jnp.array([0.0, 1.0, 2.0])

    def loss(theta, adjoint):
        sol, pen = local_regularization(_node(theta, adjoint, tol=1e-8), y0, ts, key=key, sampling=sampling)
        return pen.value + sol.ys[-1].sum()

    g_back = jax.grad(loss)(1.3, diffrax.BacksolveAdjoint())
    g_disc = jax.grad(loss)(1.3, diffrax.RecursiveCheckpointAdjoint())
    assert np.isfinite(float(g_back)) and abs(float(g_disc)) > 1e-3
    np.testing.assert_allclose(float(g_back), float(g_disc), rtol=1e-4)
