"""TENG on the unit box: the bounded problems' references, the exact-constraint networks,
boundary rows in the fits, a stochastic operator backend, and progress reporting."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor
from jaxsci.pde.evolution import (
    BoxAllenCahn,
    BoxHeat,
    PeriodicHeat,
    box_boundary_points,
    box_grid,
    periodic_grid,
)
from jaxsci.teng import (
    TDVP,
    TENG,
    BoundaryRows,
    BoxMLP,
    GaussNewton,
    LevenbergMarquardt,
    evolve,
    initial_network,
    operator_values,
)

CONDITIONS = ("dirichlet", "neumann")


def _normal_derivatives(model, points, normals):
    """``n . grad u`` by a full ``jax.jacfwd`` gradient (independent of the library's JVP)."""
    return jnp.sum(jax.vmap(jax.jacfwd(model))(points) * normals, axis=-1)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_box_heat_exact_equals_spectral_solver_of_the_extension(condition):
    p = BoxHeat(2, condition)
    pts = np.random.default_rng(0).random((200, 2))
    exact = p.reference((0.5, 2.0))
    spectral = p.reference((0.5, 2.0), n=32, dt=0.01)
    for t in (0.5, 2.0):
        assert np.max(np.abs(exact(pts, t) - spectral(pts, t))) < 1e-12


@pytest.mark.parametrize("condition", CONDITIONS)
def test_box_allen_cahn_reference_converges_and_keeps_the_condition(condition):
    p = BoxAllenCahn(condition)
    pts = np.random.default_rng(1).random((200, 2))
    coarse = p.reference((2.0,), n=48, dt=0.01)
    fine = p.reference((2.0,), n=64, dt=0.005)
    u = fine(pts, 2.0)
    assert np.max(np.abs(coarse(pts, 2.0) - u)) < 1e-8 * np.max(np.abs(u))
    assert np.max(np.abs(u)) > 2 * np.max(np.abs(np.asarray(p.initial(jnp.asarray(pts)))))
    edge = np.stack([np.linspace(0.05, 0.95, 9), np.zeros(9)], axis=-1)
    if condition == "dirichlet":  # u = 0 on the face y = 0
        assert np.max(np.abs(fine(edge, 2.0))) < 1e-12
    else:  # the even extension: u(x, -h) = u(x, h), so du/dy = 0 at y = 0
        h = np.array([0.0, 1e-3])
        assert np.max(np.abs(fine(edge + h, 2.0) - fine(edge - h, 2.0))) < 1e-12


@pytest.mark.parametrize("condition", CONDITIONS)
def test_box_networks_satisfy_their_condition_exactly(x64, condition):
    net = BoxMLP(2, 8, 2, key=jax.random.key(0), condition=condition)
    pts, normals = box_boundary_points(2, 7)
    corners = jnp.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    if condition == "dirichlet":
        assert float(jnp.max(jnp.abs(jax.vmap(net)(jnp.concatenate([pts, corners]))))) == 0.0
    else:
        assert float(jnp.max(jnp.abs(_normal_derivatives(net, pts, normals)))) < 1e-13
    inside = jax.random.uniform(jax.random.key(1), (16, 2), minval=0.2, maxval=0.8)
    assert float(jnp.min(jnp.abs(jax.vmap(net)(inside)))) > 0.0
    rows = BoundaryRows.of(BoxHeat(2, condition), 7, weight=2.0)
    plain = BoxMLP(2, 8, 2, key=jax.random.key(0))
    ref = (jax.vmap(plain)(pts) if condition == "dirichlet"
           else _normal_derivatives(plain, pts, normals))
    assert jnp.allclose(rows.values(plain), 2.0 * ref, rtol=1e-12, atol=1e-14)


def _heat_error(problem, test):
    def err(model, t):
        ex = problem.exact(test, t)
        return jnp.linalg.norm(jax.vmap(model)(test) - ex) / jnp.linalg.norm(ex)
    return err


@pytest.mark.parametrize("condition", CONDITIONS)
def test_teng_with_exact_networks_keeps_the_condition_after_every_step(x64, condition):
    problem = BoxHeat(2, condition)
    pts = box_grid(2, 10)
    init = initial_network(problem, pts, key=jax.random.key(2), width=8, depth=1,
                           fit=LevenbergMarquardt(iterations=80))
    bpts, normals = box_boundary_points(2, 9)

    def boundary_error(model, t):
        if condition == "dirichlet":
            return jnp.max(jnp.abs(jax.vmap(model)(bpts)))
        return jnp.max(jnp.abs(_normal_derivatives(model, bpts, normals)))

    out = evolve(TENG(fit=GaussNewton(iterations=5)), problem, init.model, 0.02, 10,
                 points=pts, evaluate=boundary_error)
    assert float(jnp.max(out.errors)) < 1e-8
    err = _heat_error(problem, jax.random.uniform(jax.random.key(3), (300, 2)))
    e0, e_end = float(err(init.model, 0.0)), float(err(out.model, 0.2))
    assert e_end < max(10 * e0, 1e-4)
    assert e_end < float(err(init.model, 0.2)) / 3  # it evolved (the modes decay ~10%)


@pytest.mark.heavy  # 10-130 s on a shared core; test_boundary_rows_enter_the_gauss_newton_fit
@pytest.mark.parametrize("stepper_kind", ["teng", "tdvp"])  # is the default suite's check
def test_boundary_rows_hold_the_dirichlet_condition(x64, stepper_kind):
    problem = BoxHeat(2, "dirichlet")
    pts = box_grid(2, 10)
    init = initial_network(problem, pts, key=jax.random.key(4), width=10, depth=2,
                           fit=LevenbergMarquardt(iterations=200), exact_boundary=False)
    assert init.model.condition is None
    err = _heat_error(problem, jax.random.uniform(jax.random.key(5), (300, 2)))

    def run(weight):
        rows = BoundaryRows.of(problem, 10, weight=weight)
        stepper = (TENG(fit=GaussNewton(iterations=5, damping=1e-8), boundary=rows)
                   if stepper_kind == "teng" else TDVP(boundary=rows))
        out = evolve(stepper, problem, init.model, 0.02, 10, points=pts,
                     evaluate=lambda m, t: rows.error(m))
        return out, rows

    held, rows = run(10.0)
    loose, _ = run(1e-6)  # effectively no rows
    e0 = float(err(init.model, 0.0))
    b0 = float(rows.error(init.model))
    # the rows keep the boundary values at the level the initial fit left them, or lower
    assert float(jnp.max(held.errors)) < 1.2 * b0
    assert float(held.errors[-1]) < float(loose.errors[-1])
    assert float(err(held.model, 0.2)) < max(5 * e0, 1e-3)


def test_boundary_rows_enter_the_gauss_newton_fit(x64):
    """A fit of u = 1 at interior points with Dirichlet rows: the rows pull u to 0 on the
    faces, more the larger the weight; the optimum of the weighted problem is reached."""
    problem = BoxHeat(2, "dirichlet")
    pts = box_grid(2, 8)
    net = BoxMLP(2, 8, 1, key=jax.random.key(6))
    target = jnp.ones(pts.shape[0])
    errors = []
    for w in (0.1, 10.0):
        rows = BoundaryRows.of(problem, 8, weight=w)
        sol = GaussNewton(iterations=15)(net, pts, target, rows=rows)
        errors.append(float(rows.error(sol.model)))
    assert errors[1] < errors[0] / 10


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_exact_backend_equals_default_and_full_sample_is_exact(x64):
    problem = PeriodicHeat(3)
    pts = periodic_grid(3, 4)
    net = initial_network(problem, pts, key=jax.random.key(7), embed=2, width=4, depth=1,
                          fit=LevenbergMarquardt(iterations=5)).model
    fit = GaussNewton(iterations=2)
    a = TENG(fit=fit)(problem, net, pts, 0.0, 0.01).model
    b = TENG(fit=fit, backend=taylor.Exact(mode="hessian"))(problem, net, pts, 0.0, 0.01).model
    # sampling all 3 terms of the 3D Laplacian is exact whatever the key
    c = TENG(fit=fit, backend=taylor.SparseSTDE(3))(problem, net, pts, 0.0, 0.01,
                                                   key=jax.random.key(8)).model
    va, vb, vc = (jax.vmap(m)(pts) for m in (a, b, c))
    assert jnp.max(jnp.abs(va - vb)) < 1e-10 and jnp.max(jnp.abs(va - vc)) < 1e-10


@pytest.mark.heavy  # about 20 s: 400 velocity solves
def test_stochastic_backend_gives_an_unbiased_tdvp_velocity(x64):
    """TDVP's velocity is linear in L[u], so with an unbiased STDE estimate of the
    Laplacian its mean over keys is the exact velocity."""
    problem = PeriodicHeat(3)
    pts = periodic_grid(3, 3)
    net = initial_network(problem, pts, key=jax.random.key(9), embed=2, width=4, depth=1,
                          fit=LevenbergMarquardt(iterations=5)).model
    exact = TDVP().velocity(problem, net, pts).value
    stochastic = TDVP(backend=taylor.SparseSTDE(1))
    keys = jax.random.split(jax.random.key(10), 400)
    samples = jax.vmap(lambda k: stochastic.velocity(problem, net, pts, key=k).value)(keys)
    mean, sem = jnp.mean(samples, 0), jnp.std(samples, 0) / jnp.sqrt(400.0)
    assert float(jnp.max(jnp.abs(samples[0] - exact))) > 1e-3 * float(jnp.max(jnp.abs(exact)))
    assert float(jnp.max(jnp.abs(mean - exact) / (sem + 1e-12 * jnp.abs(exact).max()))) < 5.0
    rhs = operator_values(net, problem, pts, backend=taylor.SparseSTDE(1),
                          key=jax.random.key(11))
    assert rhs.shape == (pts.shape[0],)


def test_evolve_reports_progress(x64, capsys):
    problem = BoxHeat(1, "neumann")
    pts = box_grid(1, 8)
    net = BoxMLP(1, 4, 1, key=jax.random.key(12), condition="neumann")
    evolve(TDVP(), problem, net, 0.01, 40, points=pts, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("evolve TDVP:") and "40/40" in lines[-1]
    assert 2 <= len(lines) <= 25 and "residual=" in lines[-1]
    evolve(TDVP(), problem, net, 0.01, 40, points=pts)
    assert capsys.readouterr().err == ""


def test_levenberg_marquardt_reports_progress(x64, capsys):
    """The initial fit reports from inside its compiled loop, and stays silent by default."""
    problem = BoxHeat(1, "neumann")
    pts = box_grid(1, 8)
    fit = LevenbergMarquardt(iterations=60, progress=True)
    sol = initial_network(problem, pts, key=jax.random.key(13), width=4, depth=1, fit=fit)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("LevenbergMarquardt:") and "60/60" in lines[-1]
    assert 2 <= len(lines) <= 25 and "residual=" in lines[-1] and "damping=" in lines[-1]
    reported = float(lines[-1].split("residual=")[1].split()[0])
    assert abs(reported - float(sol.residual)) <= 2e-3 * float(sol.residual)
    initial_network(problem, pts, key=jax.random.key(13), width=4, depth=1,
                    fit=LevenbergMarquardt(iterations=60))
    assert capsys.readouterr().err == ""
