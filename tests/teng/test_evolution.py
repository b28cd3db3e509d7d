"""The periodic problems of jaxsci.pde.evolution: operators against closed forms, the
spectral reference against the exact heat decay, and convergence under refinement."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor
from jaxsci.pde.evolution import (
    AbstractEvolutionProblem,
    AllenCahn2D,
    Burgers2D,
    Heat2D,
    grid_points,
)
from jaxsci.teng import PeriodicMLP

from ._helpers import off_grid


def _u(p):  # u = sin x cos 2y + 0.3
    return jnp.sin(p[0]) * jnp.cos(2 * p[1]) + 0.3


def test_operators_match_hand_derivatives(x64):
    x = off_grid(5)
    sx, cx = jnp.sin(x[:, 0]), jnp.cos(x[:, 0])
    s2, c2 = jnp.sin(2 * x[:, 1]), jnp.cos(2 * x[:, 1])
    u = sx * c2 + 0.3
    lap = -5.0 * sx * c2
    ux, uy = cx * c2, -2.0 * sx * s2
    ops = {
        Heat2D(): 0.1 * lap,
        AllenCahn2D(): 0.005 * lap + u - u**3,
        Burgers2D(): 0.01 * lap - u * (ux + uy),
    }
    for problem, expected in ops.items():
        got = jax.vmap(lambda p, pr=problem: pr.operator(_u, p))(x)
        assert jnp.max(jnp.abs(got - expected)) < 1e-13, type(problem).__name__


def _hand_written(problem, u, x):
    """The right-hand sides as they were written before the jaxsci.taylor operators: nested
    jax.jacfwd for the Laplacian, jax.grad for the gradient."""
    lap = jnp.trace(jax.jacfwd(jax.jacfwd(u))(x))
    v, g = jax.value_and_grad(u)(x)
    if isinstance(problem, Heat2D):
        return problem.nu * lap
    if isinstance(problem, AllenCahn2D):
        return problem.eps * lap + v - v**3
    return problem.nu * lap - v * (g[0] + g[1])


@pytest.mark.parametrize("backend", [None, taylor.Exact(mode="hessian")], ids=["default", "hessian"])
def test_taylor_operator_problems_equal_the_hand_written_ones(x64, backend):
    """At random points and for a random periodic network, the problems written with
    jaxsci.taylor operators equal the hand-written nested-jacfwd right-hand sides to 1e-10."""
    net = PeriodicMLP(2, 3, 8, 2, key=jax.random.key(7))
    x = jax.random.uniform(jax.random.key(8), (25, 2), jnp.float64, 0.0, 2 * jnp.pi)
    for problem in (Heat2D(nu=0.3), AllenCahn2D(), Burgers2D()):
        assert isinstance(problem, AbstractEvolutionProblem)
        got = jax.vmap(lambda p, pr=problem: pr.operator(net, p, backend=backend))(x)
        want = jax.vmap(lambda p, pr=problem: _hand_written(pr, net, p))(x)
        assert got.dtype == jnp.float64
        assert jnp.max(jnp.abs(got - want)) < 1e-10 * (1 + jnp.max(jnp.abs(want)))


def test_abstract_problem_cannot_be_instantiated_and_coefficients_are_checked():
    with pytest.raises(TypeError):
        AbstractEvolutionProblem()
    for bad in (lambda: Heat2D(nu=-1.0), lambda: AllenCahn2D(eps=0.0),
                lambda: Burgers2D(nu=float("nan"))):
        with pytest.raises(ValueError, match="positive"):
            bad()


def test_heat_exact_solves_the_pde(x64):
    p = Heat2D()
    x = off_grid(6)
    h = 1e-4
    ut = (p.exact(x, 0.5 + h) - p.exact(x, 0.5 - h)) / (2 * h)
    lu = jax.vmap(lambda xi: p.operator(lambda z: p.exact(z[None], 0.5)[0], xi))(x)
    assert jnp.max(jnp.abs(ut - lu)) < 1e-8


def test_spectral_solver_reproduces_heat_decay(x64):
    p = Heat2D()
    x = np.asarray(off_grid(13))
    ref = p.reference((0.5, 4.0), n=32, dt=0.05)  # ETDRK4 instead of the closed form
    for t in (0.5, 4.0):
        assert np.max(np.abs(np.asarray(ref(x, t)) - np.asarray(p.exact(jnp.asarray(x), t)))) < 1e-12


@pytest.mark.parametrize("problem", [AllenCahn2D(), Burgers2D()], ids=["allen_cahn", "burgers"])
def test_reference_at_t0_is_the_initial_condition(x64, problem):
    x = off_grid(11)
    ref = problem.reference((0.0,), n=32)
    assert jnp.max(jnp.abs(ref(x, 0.0) - problem.initial(x))) < 1e-14


@pytest.mark.parametrize("problem", [AllenCahn2D(), Burgers2D()], ids=["allen_cahn", "burgers"])
def test_reference_converges_under_refinement(x64, problem):
    """Halving the grid spacing and, separately, the time step changes the solution at
    t = 0.5 and 1 by less than 1e-8 (the T = 4 check is the slow test below)."""
    x = np.asarray(off_grid(17))
    times = (0.5, 1.0)
    base = problem.reference(times, n=48, dt=0.02)
    finer_x = problem.reference(times, n=96, dt=0.02)
    finer_t = problem.reference(times, n=48, dt=0.01)
    for t in times:
        assert np.max(np.abs(np.asarray(base(x, t) - finer_x(x, t)))) < 1e-8
        assert np.max(np.abs(np.asarray(base(x, t) - finer_t(x, t)))) < 1e-8
    # and the solution did evolve
    change = np.asarray(base(x, 1.0) - problem.initial(jnp.asarray(x)))
    assert np.linalg.norm(change) > 0.05 * np.linalg.norm(np.asarray(base(x, 1.0)))


@pytest.mark.slow
@pytest.mark.parametrize("problem", [AllenCahn2D(), Burgers2D()], ids=["allen_cahn", "burgers"])
def test_default_reference_converged_at_T4(x64, problem):
    x = np.asarray(off_grid(17))
    base = problem.reference((4.0,))  # the default: n = 128, dt = 4e-3
    finer = problem.reference((4.0,), n=256, dt=2e-3)
    assert np.max(np.abs(np.asarray(base(x, 4.0) - finer(x, 4.0)))) < 1e-8


def test_reference_rejects_unsaved_times(x64):
    ref = Heat2D().reference((0.5,))
    with pytest.raises(ValueError, match="not at t=1"):
        ref(grid_points(2), 1.0)


@pytest.mark.parametrize(
    "problem", [Heat2D(), AllenCahn2D(), Burgers2D(), Burgers2D().held_out()],
    ids=["heat", "allen_cahn", "burgers", "burgers_held_out"],
)
def test_reference_is_float64_without_x64(problem):
    """With x64 off (the default) the references are still computed in float64: they equal
    the x64 run to 1e-12 relative and come back as float64 NumPy arrays. (Rounding the
    initial condition or the output to float32 costs ~1e-7 relative.)"""
    from jaxsci.core import enable_x64, x64_enabled

    assert not x64_enabled()
    x = np.asarray(off_grid(9), dtype=np.float64)
    kw = {} if isinstance(problem, Heat2D) else dict(n=32, dt=0.05)
    got = problem.reference((0.5,), **kw)(x, 0.5)
    with enable_x64(True):
        want = problem.reference((0.5,), **kw)(x, 0.5)
        exact = np.asarray(problem.exact(jnp.asarray(x), 0.5)) if isinstance(problem, Heat2D) else None
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert np.linalg.norm(got - want) <= 1e-12 * np.linalg.norm(want)
    if exact is not None:  # the NumPy closed form against the JAX one (x64)
        assert np.max(np.abs(got - exact)) < 1e-14


def test_held_out_initial_conditions_differ_in_kind_not_scale(x64):
    """The held-out initial condition keeps the equation and the size of u0 (within 30% in
    L2 norm) but is far from the reported one (relative difference > 0.5)."""
    x = off_grid(16)
    for problem in (Heat2D(), AllenCahn2D(), Burgers2D()):
        held = problem.held_out()
        assert type(held) is type(problem) and held.modes != problem.modes
        u, v = problem.initial(x), held.initial(x)
        assert abs(float(jnp.linalg.norm(v) / jnp.linalg.norm(u)) - 1) < 0.3
        assert float(jnp.linalg.norm(u - v) / jnp.linalg.norm(u)) > 0.5
        assert held.held_out() == held  # held_out() of a held-out problem is itself
