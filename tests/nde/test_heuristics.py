import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.nde import (
    HeuristicsSolver,
    NeuralODE,
    read_heuristics,
    scaled_error,
    stability_boundary,
    stiffness_estimate,
)


def _field(theta):
    return lambda t, y: -theta * y * (1.0 + jnp.sin(3.0 * t) ** 2) + jnp.cos(5.0 * t)


RTOL, ATOL = 1e-5, 1e-6


def _node(theta, solver=None):
    return NeuralODE(
        _field(theta), solver, diffrax.PIDController(rtol=RTOL, atol=ATOL), max_steps=4000
    )


@pytest.mark.parametrize("solver", [diffrax.Tsit5(), diffrax.Dopri5(), diffrax.Bosh3()])
def test_error_total_equals_recomputation_from_accepted_steps(solver, x64):
    y0, ts, dt0 = jnp.array([1.0, -0.5, 2.0]), jnp.array([0.0, 3.0]), 0.05
    sol = _node(1.3, solver)(y0, ts, dt0=dt0, heuristics=True)
    # Independent recomputation: the accepted steps from a plain diffrax solve, each
    # redone as one fresh step of the solver.
    term = diffrax.ODETerm(lambda t, y, args: _field(1.3)(t, y))
    steps = diffrax.diffeqsolve(
        term, solver, 0.0, 3.0, dt0, y0, saveat=diffrax.SaveAt(t0=True, steps=True),
        stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL), max_steps=4000,
    )
    n = int(steps.stats["num_accepted_steps"])
    t_acc, y_acc = np.asarray(steps.ts[: n + 1]), steps.ys[: n + 1]
    total = 0.0

    @jax.jit
    def fresh_step(t0, t1, y):
        y1, err, _, _, _ = solver.step(term, t0, t1, y, None, solver.init(term, t0, t1, y, None), True)
        return y1, err

    for j in range(n):
        y1, err = fresh_step(t_acc[j], t_acc[j + 1], y_acc[j])
        e = np.sqrt(np.mean((err / (ATOL + RTOL * np.maximum(abs(y_acc[j]), abs(y1)))) ** 2))
        assert e <= 1.0  # accepted
        total += e * (t_acc[j + 1] - t_acc[j])
    assert int(sol.heuristics.accepted) == n == int(sol.num_accepted)
    assert int(sol.num_rejected) > 0  # rejected steps existed and were left out
    np.testing.assert_allclose(float(sol.heuristics.error), total, rtol=1e-9)


@pytest.mark.parametrize("solver", [diffrax.Tsit5(), diffrax.Dopri5()])
def test_stiffness_total_for_linear_decay_is_exact(solver, x64):
    # For y' = -lam y the stage estimate is exactly h lam, so R_S = lam T / r.
    lam, T = 7.0, 2.0
    node = NeuralODE(lambda t, y: -lam * y, solver, diffrax.PIDController(rtol=1e-6, atol=1e-6),
                     max_steps=4000)
    sol = node(jnp.ones(4), jnp.array([0.0, T]), heuristics=True, stiffness=True)
    np.testing.assert_allclose(
        float(sol.heuristics.stiffness), lam * T / stability_boundary(solver.tableau), rtol=1e-9
    )


def test_stability_boundaries_match_the_literature():
    # Tsit5: 3.5068 (Pal et al. 2021 use it); Dopri5: 3.3066 (Hairer & Wanner, IV.2).
    assert abs(stability_boundary(diffrax.Tsit5().tableau) - 3.5068) < 1e-4
    assert abs(stability_boundary(diffrax.Dopri5().tableau) - 3.3066) < 1e-4


def test_scaled_error_formula():
    y0, y1, err = jnp.array([1.0, -3.0]), jnp.array([2.0, -1.0]), jnp.array([0.1, 0.2])
    want = np.sqrt(((0.1 / (0.5 + 0.1 * 2.0)) ** 2 + (0.2 / (0.5 + 0.1 * 3.0)) ** 2) / 2)
    assert abs(float(scaled_error(y0, y1, err, 0.1, 0.5)) - want) < 1e-6


@pytest.mark.heavy
@pytest.mark.parametrize("which", ["error", "stiffness"])
def test_regularizer_gradients_match_finite_differences(which, x64):
    # diffrax's controller treats step sizes as constants under autodiff, so the
    # reference is a finite difference over the same (frozen) accepted steps.
    y0, ts, theta, h = jnp.array([1.0, -0.5]), jnp.array([0.0, 2.0]), 1.3, 1e-6
    solver = diffrax.Tsit5()
    wrapped = HeuristicsSolver(
        solver, diffrax.PIDController(rtol=RTOL, atol=ATOL), stiffness=True,
        differentiate_denominator=True,
    )

    def penalty(theta):
        node = _node(theta)
        ode = lambda t, y, args: node.vector_field(t, y)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(ode), wrapped, 0.0, 2.0, 0.05, y0,
            saveat=diffrax.SaveAt(t1=True, solver_state=True),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL), max_steps=4000,
        )
        return getattr(read_heuristics(sol), which) + sol.ys[-1].sum()

    term = lambda th: diffrax.ODETerm(lambda t, y, args: _field(th)(t, y))
    steps = diffrax.diffeqsolve(
        term(theta), solver, 0.0, 2.0, 0.05, y0, saveat=diffrax.SaveAt(t0=True, steps=True),
        stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL), max_steps=4000,
    )
    t_acc = steps.ts[: int(steps.stats["num_accepted_steps"]) + 1]

    def frozen(theta):
        sol = diffrax.diffeqsolve(
            term(theta), wrapped, 0.0, 2.0, None, y0, saveat=diffrax.SaveAt(t1=True, solver_state=True),
            stepsize_controller=diffrax.StepTo(ts=t_acc), max_steps=4000,
        )
        return getattr(sol.solver_state[1], which) + sol.ys[-1].sum()

    np.testing.assert_allclose(float(frozen(theta)), float(penalty(theta)), rtol=1e-10)
    grad = float(jax.jit(jax.grad(penalty))(theta))
    fd = (float(frozen(theta + h)) - float(frozen(theta - h))) / (2 * h)
    assert abs(grad) > 1e-3
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    if which == "error":  # NeuralODE's own path gives the same gradient
        node_penalty = lambda th: _node(th)(y0, ts, dt0=0.05, heuristics=True).heuristics.error + _node(th)(
            y0, ts, dt0=0.05).ys[-1].sum()
        np.testing.assert_allclose(float(jax.grad(node_penalty)(theta)), grad, rtol=1e-9)


def test_heuristics_under_jit_and_vmap(x64):
    node = _node(1.0)
    run = jax.jit(jax.vmap(lambda y0: node(y0, jnp.array([0.0, 1.0]), heuristics=True)))
    sols = run(jnp.stack([jnp.ones(2), 2 * jnp.ones(2)]))
    for i, y0 in enumerate([jnp.ones(2), 2 * jnp.ones(2)]):
        one = node(y0, jnp.array([0.0, 1.0]), heuristics=True)
        np.testing.assert_allclose(sols.heuristics.error[i], one.heuristics.error, rtol=1e-9)


def test_zero_error_estimate_has_a_finite_gradient():
    # The error is identically 0 in e, so its derivative is exactly 0 (not NaN from sqrt).
    g = jax.grad(lambda e: scaled_error(jnp.ones(2), jnp.ones(2), e * jnp.zeros(2), 1e-3, 1e-3))(1.0)
    assert float(g) == 0.0


def test_stiffness_gradient_holds_the_denominator_constant(x64, key):
    tableau = diffrax.Tsit5().tableau
    ks = jax.random.normal(key, (7, 3))
    a_last, a_prev = (np.asarray(tableau.a_lower[i]) for i in (-1, -2))
    dg = np.linalg.norm(a_last @ np.asarray(ks[:6]) - a_prev @ np.asarray(ks[:5]))
    numerator_only = lambda k: jnp.linalg.norm(k[-1] - k[-2]) / dg
    np.testing.assert_allclose(stiffness_estimate(tableau, ks), numerator_only(ks), rtol=1e-12)
    np.testing.assert_allclose(
        jax.grad(lambda k: stiffness_estimate(tableau, k))(ks), jax.grad(numerator_only)(ks), rtol=1e-10
    )


def test_stiffness_gradient_is_finite_for_equal_last_stages(x64):
    # A field constant in y gives k_s = k_{s-1}: the estimate is 0 and its gradient finite.
    # The estimate is identically 0 in th, so its value and derivative are exactly 0.
    value, g = jax.value_and_grad(lambda th: NeuralODE(
        jax.tree_util.Partial(lambda th, t, y: th * jnp.cos(t) * jnp.ones_like(y), th),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6), max_steps=1000,
    )(jnp.ones(2), jnp.array([0.0, 1.0]), stiffness=True).heuristics.stiffness)(0.5)
    assert float(value) == 0.0 and float(g) == 0.0
