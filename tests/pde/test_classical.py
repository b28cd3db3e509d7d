import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor
from jaxsci.pde.classical import Burgers1D, KdVSoliton, Poisson2D


def exact_residuals(problem, points, backend):
    def at(p):
        values, u = [], None
        for op in problem.operators:
            u, v = backend(op, problem.solution, p)
            values.append(v)
        return problem.residual(p, u, tuple(values))

    return eqx.filter_jit(jax.vmap(at))(points)


@pytest.mark.parametrize("make", [Poisson2D, lambda: KdVSoliton(speed=1.5)], ids=["poisson", "kdv"])
def test_exact_solution_has_zero_residual(x64, make):
    problem = make()  # built under x64, so its domain samples float64 points
    points = problem.domain.sample(64, key=jax.random.key(0))
    for backend in (taylor.Exact(), taylor.Exact(mode="jet")):
        assert np.max(np.abs(exact_residuals(problem, points, backend))) < 1e-10


def test_poisson_forcing_matches_autodiff(x64):
    problem = Poisson2D()
    points = problem.domain.sample(16, key=jax.random.key(1))
    lap = jax.vmap(lambda p: jnp.trace(jax.hessian(problem.solution)(p)))(points)
    np.testing.assert_allclose(-lap, jax.vmap(problem.forcing)(points), rtol=1e-12, atol=1e-12)


def test_kdv_dispersive_term_matches_nested_jacfwd(x64):
    problem = KdVSoliton()
    p = jnp.array([-1.3, 0.4])
    u_xxx = jax.jacfwd(jax.jacfwd(jax.grad(problem.solution)))(p)[0, 0, 0]
    u_t = jax.grad(problem.solution)(p)[1]
    got = taylor.Exact()(problem.operators[0], problem.solution, p)[1]
    np.testing.assert_allclose(got, u_t + u_xxx, rtol=1e-11)


@pytest.mark.parametrize("make", [Poisson2D, KdVSoliton, Burgers1D], ids=["poisson", "kdv", "burgers"])
def test_hard_constraints_hold_exactly(x64, make):
    problem = make()
    net = eqx.nn.MLP(2, "scalar", 8, 2, key=jax.random.key(0))
    u = problem.hard_constraint(net)
    if isinstance(problem, Poisson2D):
        s = jnp.linspace(0, 1, 7)
        edges = jnp.concatenate([jnp.stack([s, 0 * s], 1), jnp.stack([s, 1 + 0 * s], 1),
                                 jnp.stack([0 * s, s], 1), jnp.stack([1 + 0 * s, s], 1)])
        np.testing.assert_allclose(jax.vmap(u)(edges), jax.vmap(problem.solution)(edges), atol=1e-12)
    else:
        x = jnp.linspace(problem.domain.space.lower[0], problem.domain.space.upper[0], 9)
        initial = jnp.stack([x, 0 * x], 1)
        np.testing.assert_allclose(jax.vmap(u)(initial), jax.vmap(problem.initial_value)(initial), atol=1e-12)
    if isinstance(problem, Burgers1D):
        t = jnp.linspace(0, 1, 5)
        walls = jnp.concatenate([jnp.stack([-1 + 0 * t, t], 1), jnp.stack([1 + 0 * t, t], 1)])
        np.testing.assert_allclose(jax.vmap(u)(walls), 0.0, atol=1e-12)


def test_burgers_reference_converges_and_solves_the_pde(x64):
    coarse, fine = Burgers1D(num_nodes=2001), Burgers1D(num_nodes=8001, width=16.0)
    grid = fine.test_points()[::37]
    diff = jax.vmap(coarse.solution)(grid) - jax.vmap(fine.solution)(grid)
    assert np.max(np.abs(diff)) < 1e-9
    # the quadrature formula satisfies the PDE: residual by autodiff through it, at points
    # away from the steep front near x = 0 and late times where it is at its sharpest
    pts = jnp.array([[-0.7, 0.3], [0.5, 0.2], [0.2, 0.8], [-0.3, 0.6], [0.9, 0.9]])
    residuals = exact_residuals(fine, pts, taylor.Exact())
    assert np.max(np.abs(residuals)) < 1e-7
    # known properties: odd in x, zero at x = 0 and at the walls, -sin(pi x) at t -> 0
    x = jnp.linspace(-0.9, 0.9, 7)
    u_pos = jax.vmap(fine.solution)(jnp.stack([x, 0.5 + 0 * x], 1))
    u_neg = jax.vmap(fine.solution)(jnp.stack([-x, 0.5 + 0 * x], 1))
    np.testing.assert_allclose(u_pos, -u_neg, atol=1e-12)
    np.testing.assert_allclose(fine.solution(jnp.array([0.3, 1e-6])), -np.sin(0.3 * np.pi), atol=1e-4)


def test_burgers_shock_steepness_matches_the_literature(x64):
    # Basdevant et al. (1986), Table: the steepest slope at x = 0 is 152.00516, at
    # t = 1.6037 / pi
    problem = Burgers1D(num_nodes=16001, width=20.0)
    slope = jax.grad(lambda x: problem.solution(jnp.stack([x, 1.6037 / jnp.pi])))(0.0)
    assert abs(float(slope) + 152.00516) < 1e-4


@pytest.mark.heavy
def test_allen_cahn_reference_converges_under_refinement(x64):
    from jaxsci.pde.classical import AllenCahn1D

    base = AllenCahn1D(num_modes=512, dt=2e-4)
    finer_t = AllenCahn1D(num_modes=512, dt=1e-4)
    finer_x = AllenCahn1D(num_modes=1024, dt=2e-4)
    # compare the snapshots (identical times) on the coarse grid; points are x-major
    grid = base.test_points()
    a = jax.jit(jax.vmap(base.solution))(grid).reshape(512, -1)
    b = jax.jit(jax.vmap(finer_t.solution))(grid).reshape(512, -1)
    c = jax.jit(jax.vmap(finer_x.solution))(grid).reshape(512, -1)
    assert np.max(np.abs(a - b)) < 1e-8  # ETDRK4 in time: converged
    # in space the periodic extension of u0 has a kink at x = +-1 (u0' jumps from -2 to
    # 2), so Fourier convergence is algebraic until diffusion smooths it out
    assert np.max(np.abs(a - c)) < 3e-3
    assert np.max(np.abs(a - c)[:, 100:]) < 1e-5  # t >= 0.5
    # the grid values by inverse FFT equal the pointwise Fourier series
    np.testing.assert_allclose(base.grid_values().reshape(512, -1), a, atol=1e-12)
    # initial condition and interpolation between saved times
    x = -1.0 + 2.0 * jnp.array([0.0, 64.0, 128.0, 300.0]) / 512  # grid points (u0 has a kink)
    np.testing.assert_allclose(jax.vmap(base.solution)(jnp.stack([x, 0 * x], 1)), x**2 * jnp.cos(jnp.pi * x), atol=1e-12)
    # the reference satisfies the PDE: residual by autodiff through the interpolant, at
    # times where the cubic interpolation error in t is small
    pts = jnp.array([[0.3, 0.3], [-0.55, 0.45], [0.8, 0.7]])
    def residual(p):
        u_t = jax.grad(base.solution)(p)[1]
        u_xx = jax.hessian(base.solution)(p)[0, 0]
        u = base.solution(p)
        return u_t - 1e-4 * u_xx + 5 * u**3 - 5 * u
    assert np.max(np.abs(jax.vmap(residual)(pts))) < 1e-3
