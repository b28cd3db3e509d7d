import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor
from jaxsci.pde.highdim import BallProblem

KINDS = [(s, n) for s in ("two_body", "three_body") for n in ("poisson", "allen_cahn", "sine_gordon")]


@pytest.mark.parametrize("solution, nonlinearity", KINDS)
def test_source_makes_the_exact_residual_vanish(x64, solution, nonlinearity):
    problem = BallProblem(6, solution, nonlinearity, seed=3)
    points = problem.domain.sample(8, key=jax.random.key(0))

    @jax.jit
    def residuals(points):
        def at(x):
            # derivatives from the exact Taylor backend and, independently, the Hessian
            u_x, lap = taylor.Exact()(problem.operators[0], problem.solution, x)
            lap_ad = jnp.trace(jax.hessian(problem.solution)(x))
            return problem.residual(x, u_x, (lap,)), problem.residual(x, u_x, (lap_ad,))

        return jax.vmap(at)(points)

    r_taylor, r_ad = residuals(points)
    assert np.max(np.abs(r_taylor)) < 1e-10
    assert np.max(np.abs(r_ad)) < 1e-10


@pytest.mark.parametrize("solution", ["two_body", "three_body"])
def test_closed_form_laplacian_in_higher_dimension(x64, solution):
    problem = BallProblem(60, solution)
    points = problem.domain.sample(4, key=jax.random.key(1))
    closed = jax.vmap(problem.exact_laplacian)(points)
    ad = jax.jit(jax.vmap(lambda x: jnp.trace(jax.hessian(problem.solution)(x))))(points)
    np.testing.assert_allclose(closed, ad, rtol=1e-11, atol=1e-11)


@pytest.mark.full_precision  # float32 tolerances below TF32 rounding (make test-tf32)
def test_hard_constraint_vanishes_on_the_sphere():
    problem = BallProblem(10)
    net = eqx.nn.MLP(10, "scalar", 8, 2, key=jax.random.key(0))
    u = problem.hard_constraint(net)
    boundary = problem.domain.sample_boundary(16, key=jax.random.key(2))
    np.testing.assert_allclose(jax.vmap(u)(boundary), 0.0, atol=1e-5)
    np.testing.assert_allclose(jax.vmap(problem.solution)(boundary), 0.0, atol=1e-5)


def test_coefficients_are_reproducible_from_the_seed():
    a, b, c = BallProblem(20, seed=1), BallProblem(20, seed=1), BallProblem(20, seed=2)
    np.testing.assert_array_equal(a.coefficients, b.coefficients)
    assert not np.allclose(a.coefficients, c.coefficients)
