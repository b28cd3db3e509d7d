import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from jaxsci.pde.evolution import Heat2D, grid_points
from jaxsci.teng import PeriodicMLP, gauss_newton_fit, rel_l2, teng_euler, teng_heun


def test_periodic_network_is_exactly_periodic(x64, key):
    net = PeriodicMLP(2, 4, 8, 2, key=key)
    x = jax.random.uniform(key, (16, 2), minval=0.0, maxval=6.0)
    for shift in (jnp.array([2 * jnp.pi, 0.0]), jnp.array([0.0, -2 * jnp.pi])):
        assert jnp.allclose(jax.vmap(net)(x), jax.vmap(net)(x + shift), atol=1e-12)


def test_heat_operator_matches_closed_form(x64):
    p = Heat2D()
    x = grid_points(5)
    # u_t of the exact solution by finite difference in time vs nu * Laplacian by AD
    h = 1e-5
    ut = (p.exact(x, h) - p.exact(x, -h)) / (2 * h)
    lu = jax.vmap(lambda xi: p.operator(lambda z: p.exact(z[None], 0.0)[0], xi))(x)
    assert jnp.allclose(ut, lu, atol=1e-8)


def test_teng_heun_tracks_heat_exact_solution(x64, key):
    p = Heat2D()
    pts = grid_points(12)
    net = PeriodicMLP(2, 4, 10, 2, key=key)
    fit = eqx.filter_jit(
        lambda m, d: gauss_newton_fit(m, pts, p.initial(pts), iterations=8, damping=d)
    )
    for d in (1e-1, 1e-3, 1e-8):
        net = fit(net, d)
    e0 = rel_l2(jax.vmap(net)(pts), p.initial(pts))
    dt, n = 0.05, 3
    step = eqx.filter_jit(lambda m: teng_heun(m, 0.0, p, pts, dt, iterations=2))
    for _ in range(n):
        net = step(net)
    u = jax.vmap(net)(pts)
    err = rel_l2(u, p.exact(pts, n * dt))
    moved = rel_l2(p.initial(pts), p.exact(pts, n * dt))
    assert e0 < 1e-2
    # the network followed the PDE: much closer to u(T) than to u(0), error not amplified
    assert err < 2 * e0 + 1e-6
    assert err < 0.2 * moved
    # TENG-Euler has an O(dt) error: worse than Heun but still tracking
    assert jnp.isfinite(rel_l2(jax.vmap(teng_euler(net, 0.0, p, pts, dt, iterations=1))(pts), u))


def test_bad_arguments(key):
    p = Heat2D()
    net = PeriodicMLP(2, 2, 4, 1, key=key)
    pts = grid_points(4)
    with pytest.raises(ValueError, match="dt"):
        teng_euler(net, 0.0, p, pts, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 2pi\)"):
        teng_heun(net, 0.0, p, pts + 7.0, 0.1)
    mlp = eqx.nn.MLP(2, "scalar", 4, 1, key=key)
    with pytest.raises(ValueError, match="periodic"):
        teng_euler(mlp, 0.0, p, pts, 0.1)


def test_levenberg_marquardt_fit_converges_where_plain_gauss_newton_stalls(x64):
    """On a 533-parameter periodic network started at random, plain Gauss-Newton steps with
    tiny damping make no progress, while the adaptive (Levenberg-Marquardt) fit lowers the
    error monotonically below 1e-3."""
    p = Heat2D()
    pts = grid_points(16)
    target = p.initial(pts)
    start = PeriodicMLP(2, 6, 16, 2, key=jax.random.key(0))
    plain = eqx.filter_jit(lambda m: gauss_newton_fit(m, pts, target, iterations=10, damping=1e-8))(start)
    assert rel_l2(jax.vmap(plain)(pts), target) > 0.5
    fit = eqx.filter_jit(lambda m: gauss_newton_fit(m, pts, target, iterations=5, damping=1e-2, adaptive=True))
    net, errors = start, []
    for _ in range(6):
        net = fit(net)
        errors.append(float(rel_l2(jax.vmap(net)(pts), target)))
    assert all(b <= a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-3, errors
