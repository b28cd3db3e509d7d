"""The semilinear parabolic family: sampler statistics, the residual against nested
jax.jacfwd, and a short PINN solve against the published reference value of u(0, 0)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import pinn, taylor
from jaxsci.pde.parabolic import SemilinearParabolic


def test_brownian_points_have_the_process_law():
    dim, n = 50, 4000
    domain = SemilinearParabolic(dim, "heat").domain
    pts = domain.sample(n, key=jax.random.key(0))
    x, t = pts[:, :dim], pts[:, dim]
    assert pts.shape == (n, dim + 1)
    assert float(t.min()) >= 0.0 and float(t.max()) <= 0.3
    # x / sqrt(2 t) is standard normal in every coordinate
    z = np.asarray(x / jnp.sqrt(2.0 * t)[:, None])
    assert abs(z.mean()) < 0.01
    assert abs(z.var() - 1.0) < 0.01
    ends = domain.sample_terminal(n, key=jax.random.key(1))
    np.testing.assert_allclose(ends[:, dim], 0.3)
    assert abs(float(jnp.mean(ends[:, :dim] ** 2)) / (2 * 0.3) - 1.0) < 0.02
    assert bool(jnp.all(domain.contains(pts)))


@pytest.mark.parametrize("kind", ["heat", "allen_cahn", "sine_gordon"])
def test_residual_matches_nested_jacfwd(kind, x64):
    dim = 6
    problem = SemilinearParabolic(dim, kind)
    net = eqx.nn.MLP(dim + 1, "scalar", 16, 2, activation=jnp.tanh, key=jax.random.key(3))
    pts = problem.domain.sample(5, key=jax.random.key(4)).astype(jnp.float64)
    got = pinn.pointwise_residuals(problem, net, pts, taylor.Exact())

    scale = float(dim) if kind == "sine_gordon" else 1.0
    f = {
        "heat": lambda u: (1 - u**2) / (1 + u**2),
        "allen_cahn": lambda u: u - u**3,
        "sine_gordon": jnp.sin,
    }[kind]

    def by_hand(p):
        hess = jax.jacfwd(jax.jacfwd(net))(p)
        u_t = jax.jacfwd(net)(p)[dim]
        lap = jnp.trace(hess[:dim, :dim])
        return u_t + lap + scale * f(net(p) / scale)

    np.testing.assert_allclose(got, jax.vmap(by_hand)(pts), rtol=1e-10, atol=1e-12)


def test_terminal_condition_values():
    x = jnp.array([0.5, -1.0, 2.0, 0.0])
    point = jnp.concatenate([x, jnp.array([0.3])])
    heat = SemilinearParabolic(4, "heat")
    np.testing.assert_allclose(heat.terminal_condition(point), 5.0 / (10.0 + 2.0 * 5.25), rtol=1e-6)
    sine = SemilinearParabolic(4, "sine_gordon")
    np.testing.assert_allclose(sine.terminal_condition(point), 4 * 5.0 / (10.0 + 2.0 * 5.25), rtol=1e-6)
    allen = SemilinearParabolic(4, "allen_cahn")
    np.testing.assert_allclose(allen.terminal_condition(point), np.arctan(2.0), rtol=1e-6)


def test_pinn_reaches_the_published_value_at_d10():
    """A short STDE-free solve (d = 10, exact Laplacian) lands within 1% of the multilevel
    Picard value u(0, 0) = 0.47006, from an untrained value far from it."""
    problem = SemilinearParabolic(10, "heat")
    net = eqx.nn.MLP(11, "scalar", 64, 3, activation=jnp.tanh, key=jax.random.key(0))
    steps = 1500

    def loss(model, pts, key):
        inner, ends = pts
        residual = pinn.residual_loss(problem, model, inner, taylor.Exact(), key=key)
        terminal = pinn.data_loss(model, ends, jax.vmap(problem.terminal_condition)(ends))
        return residual + 20.0 * terminal

    optimizer = optax.adam(optax.linear_schedule(1e-3, 0.0, steps))
    params, static = eqx.partition(net, eqx.is_inexact_array)
    step = pinn.make_step(loss, optimizer, static)

    @jax.jit
    def run(params, key):
        def body(carry, _):
            params, state, key = carry
            key, k1, k2, k3 = jax.random.split(key, 4)
            pts = (problem.domain.sample(100, key=k1), problem.domain.sample_terminal(100, key=k2))
            params, state, _ = step(params, state, pts, k3)
            return (params, state, key), None

        (params, _, _), _ = jax.lax.scan(body, (params, optimizer.init(params), key), None, length=steps)
        return params

    ref = problem.reference_value()
    before = abs(float(net(problem.origin())) - ref) / ref
    after_model = eqx.combine(run(params, jax.random.key(1)), static)
    after = abs(float(after_model(problem.origin())) - ref) / ref
    assert before > 0.1
    assert after < 1e-2, after


def test_reference_table_lookup():
    assert SemilinearParabolic(100, "allen_cahn").reference_value() == pytest.approx(1.04510)
    assert SemilinearParabolic(1000, "sine_gordon").reference_value() == pytest.approx(1000 * 0.0055896)
    with pytest.raises(ValueError, match="d in"):
        SemilinearParabolic(7, "heat").reference_value()
