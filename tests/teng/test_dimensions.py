"""TENG on periodic heat in 1, 2 and 3 dimensions (``PeriodicHeat``), against the exact
Fourier decay, and the ``PeriodicHeat(2)`` right-hand side against ``Heat2D``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.pde.evolution import Heat2D, PeriodicHeat, grid_points, periodic_grid
from jaxsci.teng import (
    RK4,
    TENG,
    GaussNewton,
    LevenbergMarquardt,
    evolve,
    initial_network,
    operator_values,
)


def test_periodic_heat_2d_matches_heat2d_rhs(x64):
    net = initial_network(Heat2D(), grid_points(6), key=jax.random.key(0), embed=2, width=4,
                          depth=1, fit=LevenbergMarquardt(iterations=3)).model
    pts = grid_points(6)
    a = operator_values(net, Heat2D(), pts)
    b = operator_values(net, PeriodicHeat(2), pts)
    # independent reference: nested jacfwd trace of the Hessian
    ref = jax.vmap(lambda x: 0.1 * jnp.trace(jax.jacfwd(jax.jacfwd(net))(x)))(pts)
    assert jnp.max(jnp.abs(a - ref)) < 1e-12 and jnp.max(jnp.abs(b - ref)) < 1e-12
    assert jnp.allclose(PeriodicHeat(2).initial(pts), Heat2D().initial(pts), atol=1e-14)


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
@pytest.mark.parametrize("dim,n", [(1, 16), (3, 7)])
def test_teng_periodic_heat_any_dimension(x64, dim, n):
    problem = PeriodicHeat(dim)
    pts = periodic_grid(dim, n)
    init = initial_network(problem, pts, key=jax.random.key(1), embed=2, width=6, depth=1,
                           fit=LevenbergMarquardt(iterations=60))
    test = jax.random.uniform(jax.random.key(2), (200, dim), maxval=6.28)

    def err(m, t):
        ex = problem.exact(test, t)
        return jnp.linalg.norm(jax.vmap(m)(test) - ex) / jnp.linalg.norm(ex)

    out = evolve(TENG(fit=GaussNewton(iterations=5)), problem, init.model, 0.02, 10, points=pts,
                 evaluate=err)
    e0 = float(err(init.model, 0.0))
    assert float(out.errors[-1]) < max(10 * e0, 1e-3)
    # the evolved network beats the one that is not evolved (off by the decay of the modes)
    assert float(out.errors[-1]) < float(err(init.model, 0.2))


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_periodic_heat_held_out_keeps_shells_and_amplitudes(x64, dim):
    """``held_out()`` keeps each mode's amplitude and ``|k|^2`` (so the same decay rates),
    changes the function, and is its own held-out problem."""
    problem = PeriodicHeat(dim)
    held = problem.held_out()
    shells = sorted((a, sum(k * k for k in ks)) for a, ks, _ in problem.modes)
    assert sorted((a, sum(k * k for k in ks)) for a, ks, _ in held.modes) == shells
    x = jax.random.uniform(jax.random.key(3), (400, dim), maxval=2 * jnp.pi)
    u, v = problem.initial(x), held.initial(x)
    assert float(jnp.linalg.norm(u - v) / jnp.linalg.norm(u)) > 0.5
    assert held.held_out() == held
    t = 0.7  # the exact solution still solves the same equation: each mode decays alike
    assert jnp.allclose(held.exact(x, t), sum(
        a * jnp.exp(-0.1 * sum(k * k for k in ks) * t) * jnp.cos(x @ jnp.asarray(ks, x.dtype) + ph)
        for a, ks, ph in held.modes), atol=1e-13)


@pytest.mark.heavy  # 15 s: keeps the default suite under 15 minutes on 2 cores
def test_levenberg_marquardt_fit_lifts_the_gauss_newton_floor(x64):
    """TENG-RK4 with a Levenberg-Marquardt + variable-projection fit per stage follows the
    heat flow of its own initial network much more closely than with the fixed-damping
    Gauss-Newton fit (docs/teng.md, "What sets the error"). Reference: the network's exact
    heat flow by FFT (256 points, each mode damped by ``exp(-nu k^2 t)``), so the initial
    fit's error does not enter."""
    problem = PeriodicHeat(1)
    pts = periodic_grid(1, 96)
    net = initial_network(problem, pts, key=jax.random.key(0), embed=6, width=12, depth=2,
                          fit=LevenbergMarquardt(iterations=200)).model
    n, t = 256, 0.5
    grid = np.arange(n) * (2 * np.pi / n)
    c = np.fft.fft(np.asarray(jax.vmap(net)(jnp.asarray(grid)[:, None])))
    k = np.fft.fftfreq(n, 1.0 / n)
    x = np.linspace(0.1, 6.2, 300)
    ref = np.real(np.exp(1j * np.outer(x, k)) @ (c * np.exp(-problem.nu * k**2 * t))) / n

    def error(fit):
        out = evolve(TENG(RK4, fit=fit), problem, net, 0.05, 10, points=pts).model
        got = np.asarray(jax.vmap(out)(jnp.asarray(x)[:, None]))
        return float(np.linalg.norm(got - ref) / np.linalg.norm(ref))

    lm = error(LevenbergMarquardt(iterations=10, damping=1e-9))
    gn = error(GaussNewton(iterations=20))
    assert lm < 0.05 * gn and lm < 1e-8  # measured: 1.2e-9 against 1.6e-7
