"""RSNG (Berman & Peherstorfer, NeurIPS 2023): random sparse parameter updates, as the
TDVP baseline ``TDVP(num_columns=...)`` and as TENG's fit ``GaussNewton(num_columns=...)``."""

import jax
import jax.numpy as jnp
import lineax as lx
import pytest

from jaxsci.core import enable_x64, ravel_model
from jaxsci.pde.evolution import Heat2D, grid_points
from jaxsci.teng import TDVP, TENG, GaussNewton, LevenbergMarquardt, evolve, initial_network


@pytest.fixture(scope="module")
def fitted():
    with enable_x64(True):
        sol = initial_network(Heat2D(), grid_points(10), key=jax.random.key(0), embed=3,
                              width=8, depth=1, fit=LevenbergMarquardt(iterations=100))
    return sol.model


def test_gauss_newton_updates_exactly_the_sampled_columns(x64, fitted):
    pts = grid_points(10)
    target = Heat2D().exact(pts, 0.05)
    theta0, _ = ravel_model(fitted)
    sol = GaussNewton(iterations=1, num_columns=7)(fitted, pts, target, key=jax.random.key(1))
    changed = jnp.sum(ravel_model(sol.model)[0] != theta0)
    assert int(changed) == 7
    # all columns: the ordinary Gauss-Newton fit (the sampled order does not matter)
    full = GaussNewton(iterations=2)(fitted, pts, target)
    every = GaussNewton(iterations=2, num_columns=theta0.size)(fitted, pts, target,
                                                               key=jax.random.key(2))
    assert jnp.max(jnp.abs(jax.vmap(full.model)(pts) - jax.vmap(every.model)(pts))) < 1e-9


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_rsng_velocity_is_the_least_squares_solution_on_its_columns(x64, fitted):
    pts = grid_points(10)
    p = ravel_model(fitted)[0].size
    rsng = TDVP(num_columns=p // 3)
    v = rsng.velocity(Heat2D(), fitted, pts, key=jax.random.key(3)).value
    cols = jnp.flatnonzero(v != 0)
    assert cols.size == p // 3
    # independent check: lstsq of the dense Jacobian restricted to those columns
    theta, rebuild = ravel_model(fitted)
    jac = jax.jacfwd(lambda t: jax.vmap(rebuild(t))(pts))(theta)
    lap = jax.vmap(lambda x: 0.1 * jnp.trace(jax.hessian(fitted)(x)))(pts)
    ref = jnp.linalg.lstsq(jac[:, cols], lap, rcond=1e-6)[0]
    assert jnp.allclose(v[cols], ref, rtol=1e-6, atol=1e-8 * jnp.max(jnp.abs(ref)))
    all_cols = TDVP(num_columns=p).velocity(Heat2D(), fitted, pts, key=jax.random.key(4)).value
    dense = TDVP().velocity(Heat2D(), fitted, pts).value
    assert jnp.max(jnp.abs(all_cols - dense)) < 1e-8 * jnp.max(jnp.abs(dense))


@pytest.mark.heavy  # about 30 s: three evolutions
def test_rsng_evolves_heat_and_needs_a_key(x64, fitted):
    pts = grid_points(10)
    test = (grid_points(13) + 0.31) % (2 * jnp.pi)

    def err(m, t):
        ex = Heat2D().exact(test, t)
        return jnp.linalg.norm(jax.vmap(m)(test) - ex) / jnp.linalg.norm(ex)

    p = ravel_model(fitted)[0].size
    solver = dict(solver=lx.SVD(rcond=1e-6))
    dense = evolve(TDVP(**solver), Heat2D(), fitted, 0.02, 10, points=pts, evaluate=err)
    sparse = evolve(TDVP(num_columns=p // 2, **solver), Heat2D(), fitted, 0.02, 10,
                    points=pts, evaluate=err, key=jax.random.key(5))
    e0 = float(err(fitted, 0.0))
    still = float(err(fitted, 0.2))
    assert float(dense.errors[-1]) < max(5 * e0, 1e-4)
    # half the columns: worse than dense, far better than not evolving
    assert float(sparse.errors[-1]) < still / 3
    with pytest.raises(TypeError, match="`key` is required"):
        TDVP(num_columns=3)(Heat2D(), fitted, pts, 0.0, 0.01)
    with pytest.raises(ValueError, match="exceeds"):
        TDVP(num_columns=10 * p)(Heat2D(), fitted, pts, 0.0, 0.01, key=jax.random.key(6))
    teng = TENG(fit=GaussNewton(iterations=3, num_columns=p // 2))
    out = evolve(teng, Heat2D(), fitted, 0.02, 5, points=pts, evaluate=err,
                 key=jax.random.key(7))
    assert float(out.errors[-1]) < still
