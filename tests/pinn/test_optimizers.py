"""Gauss-Newton / ENGD optimizers on residual losses, checked against dense solves."""

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import pytest

from jaxsci import core, pde, pinn, taylor
from jaxsci.pde.highdim import BallProblem


class Poisson1D(pde.PDEProblem):
    """``u'' = -pi^2 sin(pi x)`` on [0, 1], u(0) = u(1) = 0: a linear PDE."""

    name: str = "1D Poisson"
    domain: pde.Box = pde.Box([0.0], [1.0])
    operators: tuple = (taylor.laplacian(1),)

    def residual(self, x, u, derivatives):
        return derivatives[0] + jnp.pi**2 * jnp.sin(jnp.pi * x[0])

    def solution(self, x):
        return jnp.sin(jnp.pi * x[0])


def _setup(width=6, n_interior=9):
    problem = Poisson1D()
    net = eqx.nn.MLP(1, "scalar", width, 1, activation=jnp.tanh, key=jax.random.key(0),
                     dtype=jnp.float64)
    xi = jnp.linspace(0.05, 0.95, n_interior, dtype=jnp.float64)[:, None]
    xb = jnp.array([[0.0], [1.0]], dtype=jnp.float64)
    loss = core.ResidualLoss(pinn.PDEResidual(problem), pinn.DirichletBC(lambda x: jnp.zeros((), x.dtype)),
                             weights=(1.0, 10.0))
    return problem, net, (xi, xb), loss


def _dense_residuals(net, batch):
    """The weighted residual vector written out independently: u'' by nested jax.jacfwd."""
    xi, xb = batch

    def u(m, x):
        return m(jnp.reshape(x, (1,)))

    def r_int(m, x):
        second = jax.jacfwd(jax.jacfwd(lambda s: u(m, s)))(x[0])
        return second + jnp.pi**2 * jnp.sin(jnp.pi * x[0])

    ri = jax.vmap(lambda x: r_int(net, x))(xi) * np.sqrt(1.0 / xi.shape[0])
    rb = jax.vmap(lambda x: u(net, x))(xb) * np.sqrt(10.0 / xb.shape[0])
    return jnp.concatenate([ri, rb])


def test_step_is_the_dense_least_squares_solution_of_the_linearized_problem(x64):
    _, net, batch, loss = _setup()
    params, static = eqx.partition(net, eqx.is_inexact_array)
    theta, unravel = core.ravel(params)

    def flat(th):
        return _dense_residuals(eqx.combine(unravel(th), static), batch)

    r, jac = jax.jit(lambda th: (flat(th), jax.jacfwd(flat)(th)))(theta)  # nested forward mode
    assert jac.shape[0] < jac.shape[1]  # 11 residuals, 19 parameters: the kernel form
    expected = np.linalg.lstsq(np.asarray(jac), -np.asarray(r), rcond=None)[0]

    @jax.jit
    def steps(params):
        objective = core.ResidualObjective(loss, static, batch)
        out = []
        for kernel in (None, False):
            opt = pinn.gauss_newton(0.0, line_search=None, kernel=kernel)
            out.append(core.ravel(opt.update(params, opt.init(params), params, value_fn=objective)[0])[0])
        return out

    for step in steps(params):  # the step is large (|step| ~ 1e3): compare in norm
        assert np.linalg.norm(step - expected) <= 1e-6 * np.linalg.norm(expected)
    # the residual loss's own Jacobian rows agree with the dense one
    r2, jac2 = eqx.filter_jit(loss.jacobian)(net, batch)
    np.testing.assert_allclose(r2, r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jac2, jac, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape", [(7, 12), (12, 7)])
def test_woodbury_and_parameter_forms_agree_with_the_closed_form(x64, shape):
    a = jax.random.normal(jax.random.key(0), shape, dtype=jnp.float64)
    b = jax.random.normal(jax.random.key(1), shape[:1], dtype=jnp.float64)
    lam = 1e-2
    an, bn = np.asarray(a), np.asarray(b)
    closed = np.linalg.solve(an.T @ an + lam * np.eye(shape[1]), an.T @ bn)

    @jax.jit
    def solves(a, b):
        return [core.least_squares(a, b, solver=solver, damping=lam, kernel=kernel).value
                for solver in (lx.SVD(), lx.Normal(lx.Cholesky())) for kernel in (True, False)]

    for x in solves(a, b):
        np.testing.assert_allclose(x, closed, rtol=1e-9, atol=1e-11)


@pytest.mark.heavy
def test_kernel_and_parameter_forms_give_the_same_optimizer_step(x64):
    _, net, batch, loss = _setup()
    params, static = eqx.partition(net, eqx.is_inexact_array)

    @jax.jit
    def both(params):
        objective = core.ResidualObjective(loss, static, batch)
        out = []
        for kernel in (True, False):
            opt = pinn.gauss_newton(1e-6, line_search=None, kernel=kernel, solver=lx.Normal(lx.Cholesky()))
            out.append(core.ravel(opt.update(params, opt.init(params), params, value_fn=objective)[0])[0])
        return out

    steps = both(params)
    np.testing.assert_allclose(steps[0], steps[1], rtol=1e-6, atol=1e-9)


@pytest.mark.heavy
@pytest.mark.parametrize("search", [pinn.GridLineSearch(), pinn.BacktrackingLineSearch()])
def test_line_search_decreases_the_loss_monotonically(x64, search):
    problem, net, batch, loss = _setup(width=8, n_interior=20)
    test = jnp.linspace(0.0, 1.0, 101, dtype=jnp.float64)[:, None]
    out = core.fit(loss, net, pinn.gauss_newton(1e-10, line_search=search), steps=30, data=batch,
                   key=jax.random.key(0), chunk=30, progress=False)
    losses = np.asarray(out.losses)
    assert np.all(np.diff(losses) <= 0.0), losses
    if isinstance(search, pinn.GridLineSearch):  # Armijo's first acceptable step is no optimum
        assert losses[-1] < 1e-6 * losses[0]
        error = core.relative_l2(jax.vmap(out.model)(test), jax.vmap(problem.solution)(test))
        assert float(error) < 1e-3


@pytest.mark.heavy
def test_grid_line_search_never_increases_the_loss_in_a_few_steps(x64):
    _, net, batch, loss = _setup()
    out = core.fit(loss, net, pinn.gauss_newton(1e-10), steps=4, data=batch,
                   key=jax.random.key(0), chunk=4, progress=False)
    losses = np.asarray(out.losses)
    assert np.all(np.diff(losses) <= 0.0) and losses[-1] < losses[0], losses


@pytest.mark.heavy
def test_adaptive_damping_and_momentum_train(x64):
    _, net, batch, loss = _setup(width=8, n_interior=20)
    for opt, factor in ((pinn.gauss_newton(1e-3, adaptive_damping=True), 1e-4),
                        (pinn.gauss_newton(1e-8, momentum=0.5), 0.1)):
        out = core.fit(loss, net, opt, steps=20, data=batch, key=jax.random.key(0), chunk=20,
                       progress=False)
        assert out.losses[-1] < factor * out.losses[0]
        assert np.all(np.diff(np.asarray(out.losses)) <= 0.0)


@pytest.mark.heavy
def test_baselines_in_the_same_interface(x64):
    """The residual loss is an ordinary scalar loss for Adam and L-BFGS."""
    _, net, batch, loss = _setup(width=8, n_interior=20)
    for opt in (optax.lbfgs(), pinn.adam_then_lbfgs(20, 1e-2)):
        out = core.fit(loss, net, opt, steps=60, data=batch, key=jax.random.key(0), chunk=60,
                       progress=False)
        assert out.losses[-1] < 1e-2 * out.losses[0]


@pytest.mark.heavy
def test_stochastic_backend_gauss_newton_step(x64):
    """With SparseSTDE the step is the Gauss-Newton step of the sampled problem: it runs,
    decreases the exact loss and uses one key per point."""
    problem = BallProblem(4, "two_body", "poisson", dtype=jnp.float64)
    net = eqx.nn.MLP(4, "scalar", 8, 1, activation=jnp.tanh, key=jax.random.key(0), dtype=jnp.float64)
    points = problem.domain.sample(24, key=jax.random.key(1))
    stoch = core.ResidualLoss(pinn.PDEResidual(problem, taylor.SparseSTDE(2), hard_constraint=True))
    exact = core.ResidualLoss(pinn.PDEResidual(problem, hard_constraint=True))
    before = float(exact(net, points))
    out = core.fit(stoch, net, pinn.gauss_newton(1e-6), steps=5, data=points,
                   key=jax.random.key(2), chunk=5, progress=False)
    assert float(exact(out.model, points)) < 0.5 * before


def test_gauss_newton_needs_a_residual_loss():
    loss = lambda m, x, key: jnp.sum((m - x) ** 2)
    with pytest.raises(TypeError, match="ResidualLoss"):
        core.fit(loss, jnp.zeros(2), pinn.gauss_newton(), steps=1, data=jnp.ones(2),
                 key=jax.random.key(0), progress=False)
