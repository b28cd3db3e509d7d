"""Budget mode: the multiplier converges to the analytic optimum of a constrained problem."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci.core import fit
from jaxsci.nde import BudgetWeight, budget_optimizer

A = 2.0


def _train(budget, measure, steps=3000):
    # min (theta - A)^2 + lambda R(theta), R = theta^2 / 2; the constraint's measured
    # value is `measure(theta, task)`.
    def loss(model, batch, key):
        theta, weight = model
        task = (theta - A) ** 2
        return task + weight(0.5 * theta**2, measure(theta, task))

    out = fit(loss, (jnp.asarray(0.0), budget), budget_optimizer(optax.sgd(0.05), 0.05),
              steps=steps, key=jax.random.key(0), progress=False)
    theta, weight = out.model
    return float(theta), float(weight.value)


def test_nfe_target_multiplier_converges_to_the_kkt_value():
    # Constraint c(theta) = theta <= b. KKT: theta* = b, 2 (theta* - A) + lambda* theta* = 0,
    # so lambda* = 2 (A - b) / b = 6 for b = 0.5.
    b = 0.5
    theta, lam = _train(BudgetWeight(b, initial_weight=0.01), lambda theta, task: theta)
    np.testing.assert_allclose(theta, b, rtol=1e-4)
    np.testing.assert_allclose(lam, 2 * (A - b) / b, rtol=1e-4)


@pytest.mark.parametrize("allowed", [0.25, 1.0])
def test_allowed_loss_multiplier_converges_to_the_kkt_value(allowed):
    # min R subject to task (theta - A)^2 <= L: theta* = A - sqrt(L), and the weight on R
    # relative to the task is lambda* = 2 (A - theta*) / theta*.
    theta, lam = _train(BudgetWeight(allowed, kind="loss", initial_weight=0.01),
                        lambda theta, task: task)
    want = A - np.sqrt(allowed)
    np.testing.assert_allclose(theta, want, rtol=1e-4)
    np.testing.assert_allclose(lam, 2 * (A - want) / want, rtol=1e-3)


def test_dual_gradient_is_minus_the_slack_and_the_value_is_lambda_r():
    budget = BudgetWeight(40.0, initial_weight=3.0)
    value, grad = jax.value_and_grad(lambda b: b(jnp.asarray(2.0), jnp.asarray([30.0, 70.0])))(budget)
    np.testing.assert_allclose(float(value), 6.0, rtol=1e-6)  # 3 * 2; the dual term is 0
    np.testing.assert_allclose(float(grad.log_weight), -(50.0 / 40.0 - 1.0), rtol=1e-6)


def test_cap_stops_the_ascent_at_max_weight_for_an_unreachable_target():
    # theta <= b = 0.5 needs lambda* = 6; capped at 2 the fit is the penalized optimum
    # 2 (theta - A) + 2 theta = 0, theta = A / 2, and the weight stays at the cap.
    b, cap = 0.5, 2.0
    def loss(model, batch, key):
        theta, weight = model
        return (theta - A) ** 2 + weight(0.5 * theta**2, theta)

    out = fit(loss, (jnp.asarray(0.0), BudgetWeight(b, initial_weight=0.01, max_weight=cap)),
              budget_optimizer(optax.sgd(0.05), 0.05), steps=3000, key=jax.random.key(0),
              progress=False)
    theta, weight = out.model
    np.testing.assert_allclose(float(theta), A / 2, rtol=1e-4)
    np.testing.assert_allclose(float(weight.value), cap, rtol=1e-12)
    assert bool(weight.saturated)
    # projected: log_weight stops within one dual step (0.05 * slack) of log(cap)
    assert float(weight.log_weight) < np.log(cap) + 0.05 * (A / 2 / b)


def test_cap_is_inactive_when_the_target_is_reached():
    budget = BudgetWeight(0.5, initial_weight=0.01, max_weight=100.0)
    theta, lam = _train(budget, lambda theta, task: theta)
    np.testing.assert_allclose(lam, 2 * (A - 0.5) / 0.5, rtol=1e-4)


def test_max_weight_must_exceed_initial_weight():
    with pytest.raises(ValueError, match="max_weight"):
        BudgetWeight(10.0, initial_weight=1.0, max_weight=0.5)


def test_floor_stops_the_wind_down_while_the_constraint_is_slack():
    # theta <= b = 10 is never active (theta* = A = 2 < 10): without a floor lambda winds
    # down toward exp(-30); with min_weight it stops there, and the fit is the penalized
    # optimum 2 (theta - A) + floor theta = 0, theta = 2 A / (2 + floor).
    b, floor = 10.0, 0.1
    theta, lam = _train(BudgetWeight(b, initial_weight=1.0, min_weight=floor),
                        lambda theta, task: theta)
    np.testing.assert_allclose(lam, floor, rtol=1e-6)  # exp(log(floor)) in float32
    np.testing.assert_allclose(theta, 2 * A / (2 + floor), rtol=1e-4)
    _, free = _train(BudgetWeight(b, initial_weight=1.0), lambda theta, task: theta)
    assert free < 1e-12


def test_floor_is_inactive_when_the_constraint_binds():
    theta, lam = _train(BudgetWeight(0.5, initial_weight=0.01, min_weight=0.001),
                        lambda theta, task: theta)
    np.testing.assert_allclose(lam, 2 * (A - 0.5) / 0.5, rtol=1e-4)


def test_min_weight_must_not_exceed_initial_weight():
    with pytest.raises(ValueError, match="min_weight"):
        BudgetWeight(10.0, initial_weight=1.0, min_weight=2.0)
