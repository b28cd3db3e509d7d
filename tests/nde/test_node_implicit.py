"""NeuralODE with implicit solvers (ImplicitEuler, Kvaerno3/4/5)."""

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import nde
from jaxsci.core import RESULTS

TS = np.linspace(0.0, 2.0, 5)  # converted in the tests (under x64)


class StiffField(eqx.Module):
    """dy/dt = A y + mlp(y): a stiff linear part (eigenvalues -1, -40) plus a small MLP."""

    mlp: eqx.nn.MLP
    a: jax.Array

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(2, 2, 8, 1, activation=jnp.tanh, key=key)
        self.a = jnp.array([[-1.0, 0.5], [0.0, -40.0]])

    def __call__(self, t, y):
        return self.a @ y + 0.5 * self.mlp(y)


def _field():
    return jax.tree_util.tree_map(
        lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x,
        StiffField(jax.random.key(0)),
    )


def _reference(field, y0, ts):
    """Independent reference: a plain diffrax Dopri8 solve at rtol = atol = 1e-12."""
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: field(t, y)), diffrax.Dopri8(), ts[0], ts[-1], 1e-3, y0,
        saveat=diffrax.SaveAt(ts=ts), stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        max_steps=100_000,
    )
    return sol.ys


@pytest.mark.parametrize(
    ("solver", "tol", "bound"),
    [(diffrax.Kvaerno5(), 1e-9, 1e-7), (diffrax.Kvaerno4(), 1e-8, 1e-6), (diffrax.Kvaerno3(), 1e-7, 1e-5),
     (diffrax.ImplicitEuler(), 1e-5, 1e-2)],
)
def test_implicit_solution_matches_dopri8_reference(solver, tol, bound, x64):
    field, y0, ts = _field(), jnp.array([1.0, -0.5]), jnp.asarray(TS)
    node = nde.NeuralODE(field, solver, diffrax.PIDController(rtol=tol, atol=tol), max_steps=20_000)
    sol = node(y0, ts)
    assert sol.result == RESULTS.successful
    assert int(sol.nfe) == -1  # uncounted implicit solve: unknown NFE, said so
    err = float(jnp.max(jnp.abs(sol.ys - _reference(field, y0, ts))))
    # The global error of a tolerance-tol solve is a modest multiple of tol (here at
    # most 100 tol); ImplicitEuler (order 1, error estimate of order 1) is looser.
    assert err < bound, err


def _loss(field, node_of):
    sol = node_of(field)(jnp.array([1.0, -0.5]), jnp.asarray(TS))
    return jnp.sum(sol.ys[-1] ** 2) + jnp.sum(sol.ys[2] ** 2)


@functools.cache
def _explicit_gradient():
    """Dopri8's gradient through its steps at rtol = atol = 1e-9 (computed once; every
    caller runs under the x64 fixture)."""
    pid = diffrax.PIDController(rtol=1e-9, atol=1e-9)
    g = eqx.filter_grad(_loss)(_field(), lambda f: nde.NeuralODE(f, diffrax.Dopri8(), pid, max_steps=20_000))
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(g)]


@pytest.mark.parametrize(
    ("adjoint", "bound"),
    [pytest.param(diffrax.RecursiveCheckpointAdjoint(), 1e-5, marks=pytest.mark.heavy),
     pytest.param(diffrax.DirectAdjoint(), 1e-5, marks=pytest.mark.heavy),
     pytest.param(diffrax.BacksolveAdjoint(), 3e-2, marks=pytest.mark.heavy)],
)
def test_implicit_gradients_match_explicit(adjoint, bound, x64):
    """Kvaerno5 gradients (under ``adjoint``) against Dopri8's differentiated through its
    steps, both solves at rtol = atol = 1e-9.

    Differentiating through the steps gives the exact gradient up to O(tol) times the
    error growth: measured 9e-8 absolute against entries up to 0.31, so a 1e-5 relative
    bound. BacksolveAdjoint integrates the adjoint ODE backwards, and the controller does
    not bound the error of its parameter part: Dopri8 under BacksolveAdjoint is itself
    1.3e-3 off (4e-3 relative) and Kvaerno5 3.4e-3 (1.1e-2 relative), hence 3e-2."""
    pid = diffrax.PIDController(rtol=1e-9, atol=1e-9)
    implicit = lambda f: nde.NeuralODE(f, diffrax.Kvaerno5(), pid, adjoint, max_steps=20_000)
    g_imp = eqx.filter_grad(_loss)(_field(), implicit)
    a, b = [np.asarray(x) for x in jax.tree_util.tree_leaves(g_imp)], _explicit_gradient()
    scale = max(float(np.max(np.abs(x))) for x in b)
    assert scale > 1e-3
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=bound * scale, rtol=0)


def test_counted_nfe(x64):
    pid = diffrax.PIDController(rtol=1e-6, atol=1e-6)
    field, y0, ts = _field(), jnp.array([1.0, -0.5]), jnp.asarray(TS)
    # The counter against the tableau's count (an independent formula) for Tsit5.
    explicit = nde.NeuralODE(field, diffrax.Tsit5(), pid, max_steps=20_000)
    counted, derived = explicit(y0, ts, count=True), explicit(y0, ts)
    assert int(counted.nfe) == int(derived.nfe) and int(counted.jacobian_evals) == 0
    # Kvaerno5: the NeuralODE's count equals nde.solve's counted solve of the same field
    # plus Hairer's two initial evaluations; Newton Jacobians are counted apart.
    node = nde.NeuralODE(field, diffrax.Kvaerno5(), pid, max_steps=20_000)
    sol = node(y0, ts, count=True)
    dt0, _ = node.initial_step(ts[0], y0)
    out = nde.solve(diffrax.ODETerm(lambda t, y, args: field(t, y)), diffrax.Kvaerno5(), ts[0], ts[-1],
                    dt0, y0, stepsize_controller=pid, saveat=diffrax.SaveAt(ts=ts), count=True,
                    max_steps=20_000)
    assert int(sol.nfe) == int(out.nfe.field_evals) + 2
    assert int(sol.jacobian_evals) == int(out.nfe.jacobian_evals) > 0
    # Each step (accepted or rejected) costs at least one evaluation per stage solve.
    assert int(sol.nfe) > 4 * int(sol.num_steps)


@pytest.mark.heavy
def test_regularized_loss_trains_with_implicit_solver(x64):
    """R_E and R_S of a Kvaerno5 solve are differentiable, and a few Adam steps on
    fit + R_E + R_S (gradient descent) lower the loss and R_E."""
    pid = diffrax.PIDController(rtol=1e-4, atol=1e-4)
    field, y0, ts = _field(), jnp.array([1.0, -0.5]), jnp.asarray(TS)
    target = jnp.exp(-ts)[:, None] * y0[None, :]

    def loss(f):
        sol = nde.NeuralODE(f, diffrax.Kvaerno5(), pid, max_steps=4096)(y0, ts, heuristics=True, stiffness=True)
        return jnp.mean((sol.ys - target) ** 2) + 1.0 * sol.heuristics.error + 1e-3 * sol.heuristics.stiffness, sol

    params, static = eqx.partition(field, eqx.is_inexact_array)

    @jax.jit
    def step(params):
        (value, sol), grads = jax.value_and_grad(lambda p: loss(eqx.combine(p, static)), has_aux=True)(params)
        return jax.tree_util.tree_map(lambda p, g: p - 3e-2 * g, params, grads), value, sol.heuristics

    values, errors = [], []
    for _ in range(8):
        params, value, h = step(params)
        values.append(float(value)), errors.append(float(h.error))
    assert all(np.isfinite(values)) and float(h.stiffness) > 0
    assert values[-1] < values[0] and errors[-1] < errors[0]
