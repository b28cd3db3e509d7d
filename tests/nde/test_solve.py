"""nde.solve: one source of tolerances, SaveAt handled inside, true NFE of any solver."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback

from jaxsci import nde

PID = diffrax.PIDController(rtol=1e-4, atol=1e-4)


def _stiff(t, y, args):
    return -20.0 * (y - jnp.cos(t)) * jnp.asarray([1.0, 2.0, 3.0], y.dtype)


def _io_counting(count):
    """A field counting its own evaluations with an ordered host callback (not
    differentiable, so for explicit solvers only)."""

    def tick(t):
        count[0] += 1
        return np.zeros((), np.asarray(t).dtype)

    def f(t, y, args):
        z = io_callback(tick, jax.ShapeDtypeStruct((), y.dtype), t, ordered=True)
        return _stiff(t, y, args) + z

    return f


def _debug_counting(count):
    """A field counting every execution of its body (a linearization runs it once too)."""

    def tick():
        count[0] += 1

    def f(t, y, args):
        jax.debug.callback(tick)
        return _stiff(t, y, args)

    return f


@pytest.mark.heavy
@pytest.mark.parametrize("solver", [diffrax.Tsit5(), diffrax.Bosh3()])
def test_explicit_nfe_equals_counted_evaluations(solver, x64):
    count = [0]
    out = nde.solve(
        diffrax.ODETerm(_io_counting(count)), solver, 0.0, 1.0, 0.3, jnp.ones(3),
        stepsize_controller=PID,
    )
    jax.effects_barrier()
    assert int(out.nfe.rejected) > 0  # rejected steps are part of the count
    assert int(out.nfe.field_evals) == count[0]
    assert not out.nfe.counted and int(out.nfe.jacobian_evals) == 0
    counted = nde.solve(
        diffrax.ODETerm(_stiff), solver, 0.0, 1.0, 0.3, jnp.ones(3), stepsize_controller=PID,
        count=True,
    )
    assert counted.nfe.counted and int(counted.nfe.field_evals) == count[0]


@pytest.mark.parametrize(
    "solver",
    [
        diffrax.ImplicitEuler(),
        pytest.param(diffrax.Kvaerno3(), marks=pytest.mark.heavy),
        pytest.param(diffrax.Kvaerno5(), marks=pytest.mark.heavy),
    ],
)
def test_implicit_nfe_equals_counted_evaluations(solver, x64):
    count = [0]
    out = nde.solve(
        diffrax.ODETerm(_debug_counting(count)), solver, 0.0, 1.0, 0.05, jnp.ones(3),
        stepsize_controller=PID, count=True, heuristics=True,
    )
    jax.effects_barrier()
    report = out.nfe
    # Every execution of the field's body is either an evaluation or a linearization.
    assert int(report.field_evals) + int(report.jacobian_evals) == count[0]
    steps = int(report.steps)
    assert steps == int(report.accepted) + int(report.rejected)
    # Newton iterations: more evaluations than one per implicit stage and step.
    assert int(report.field_evals) > steps
    if isinstance(solver, diffrax.ImplicitEuler):
        # One implicit stage per step, whose chord iteration forms one Jacobian.
        assert int(report.jacobian_evals) == steps
    assert int(out.heuristics.accepted) == int(report.accepted)


@pytest.mark.heavy
def test_imex_solver_counts_both_terms(x64):
    count = [0]
    terms = diffrax.MultiTerm(
        diffrax.ODETerm(lambda t, y, args: jnp.cos(t) * jnp.ones_like(y)),
        diffrax.ODETerm(_debug_counting(count)),
    )
    out = nde.solve(terms, diffrax.KenCarp4(), 0.0, 1.0, 0.05, jnp.ones(3),
                    stepsize_controller=PID, count=True, stiffness=True)
    jax.effects_barrier()
    # The implicit term's executions are part of the total; the explicit term adds more.
    assert int(out.nfe.field_evals) + int(out.nfe.jacobian_evals) > count[0] > 0
    # Stiffness of the implicit term J = -20 diag(1, 2, 3) (rho = 60): six power-method
    # steps from the ones vector give v ~ lam^6, |J v| / |v| = |lam^7| / |lam^6|, times T.
    lam = 20.0 * np.array([1.0, 2.0, 3.0])
    want = np.linalg.norm(lam**7) / np.linalg.norm(lam**6)
    np.testing.assert_allclose(float(out.heuristics.stiffness), want, rtol=1e-9)


@pytest.mark.heavy
def test_implicit_error_total_is_the_sum_over_accepted_steps(x64):
    solver = diffrax.ImplicitEuler()
    term = diffrax.ODETerm(_stiff)
    out = nde.solve(term, solver, 0.0, 1.0, 0.05, jnp.ones(3), stepsize_controller=PID,
                    heuristics=True)
    steps = diffrax.diffeqsolve(term, solver, 0.0, 1.0, 0.05, jnp.ones(3),
                                stepsize_controller=PID, saveat=diffrax.SaveAt(t0=True, steps=True))
    n = int(steps.stats["num_accepted_steps"])
    ts, ys = np.asarray(steps.ts[: n + 1]), steps.ys[: n + 1]
    # The resolved Newton tolerances are the controller's, as diffrax sets them.
    fresh = nde.HeuristicsSolver(solver, PID).solver
    total = 0.0
    for j in range(n):
        state = fresh.init(term, ts[j], ts[j + 1], ys[j], None)
        y1, err, _, _, _ = fresh.step(term, ts[j], ts[j + 1], ys[j], None, state, True)
        scale = 1e-4 + 1e-4 * np.maximum(np.abs(ys[j]), np.abs(y1))
        total += np.sqrt(np.mean((np.asarray(err) / scale) ** 2)) * (ts[j + 1] - ts[j])
    assert int(out.heuristics.accepted) == n
    np.testing.assert_allclose(float(out.heuristics.error), total, rtol=1e-8)


def test_gradient_survives_rejected_steps_with_diverged_newton(x64):
    """y' = -theta y^3 from y0 = 2 with dt0 = 1: the first Kvaerno5 steps are rejected
    (diverged Newton iterations, y_error = inf). Differentiating R_E through such a solve
    once made lineax refuse the backward solve: the rejected step's inf / inf in the error
    norm, times its zero cotangent, gave NaN. The gradients of R_E and of y(1) must be
    finite, the latter equal to the closed form d/dtheta [y0 / sqrt(1 + 2 theta y0^2)]."""
    y0, theta = 2.0, 50.0

    def outputs(th):
        out = nde.solve(diffrax.ODETerm(lambda t, y, a: -a * y**3), diffrax.Kvaerno5(), 0.0, 1.0,
                        1.0, jnp.array([y0]), th, stepsize_controller=PID, heuristics=True,
                        throw=False)
        return jnp.stack([out.solution.ys[-1, 0], out.heuristics.error]), out.nfe.rejected

    (d_end, d_error), rejected = jax.jacrev(outputs, has_aux=True)(jnp.asarray(theta))
    assert int(rejected) > 0
    assert np.isfinite(float(d_error))
    np.testing.assert_allclose(float(d_end), -y0**3 / (1 + 2 * theta * y0**2) ** 1.5, rtol=1e-5)


@pytest.mark.heavy
def test_implicit_stiffness_is_spectral_radius_times_time(x64):
    # A symmetric A with eigenvalues -1, -10, -40: R_S = sum h_j rho = 40 T, and its
    # derivative with respect to a scale s of A is 40 T.
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    a = jnp.asarray(q @ np.diag([-1.0, -10.0, -40.0]) @ q.T)

    def total(s):
        out = nde.solve(diffrax.ODETerm(lambda t, y, args: args * (a @ y)), diffrax.Kvaerno5(),
                        0.0, 2.0, 0.05, jnp.ones(3), s, stepsize_controller=PID, stiffness=True)
        return out.heuristics.stiffness

    value, grad = jax.value_and_grad(total)(jnp.asarray(1.0))
    np.testing.assert_allclose(float(value), 80.0, rtol=1e-3)
    np.testing.assert_allclose(float(grad), 80.0, rtol=1e-3)


@pytest.mark.heavy
def test_saveat_of_the_caller_is_kept(x64):
    ts = jnp.linspace(0.0, 1.0, 5)
    out = nde.solve(diffrax.ODETerm(_stiff), diffrax.Tsit5(), 0.0, 1.0, 0.1, jnp.ones(3),
                    stepsize_controller=PID, saveat=diffrax.SaveAt(ts=ts), heuristics=True)
    assert out.solution.ys.shape == (5, 3)
    np.testing.assert_allclose(np.asarray(out.solution.ts), np.asarray(ts))
    assert float(out.heuristics.error) > 0


@pytest.mark.heavy
def test_tolerances_come_from_the_controller(x64):
    # A HeuristicsSolver built without a controller takes solve's; the totals equal those
    # of one built with the same controller.
    a = nde.solve(diffrax.ODETerm(_stiff), nde.HeuristicsSolver(diffrax.Tsit5()), 0.0, 1.0,
                  0.1, jnp.ones(3), stepsize_controller=PID)
    b = nde.solve(diffrax.ODETerm(_stiff), nde.HeuristicsSolver(diffrax.Tsit5(), PID), 0.0,
                  1.0, 0.1, jnp.ones(3), stepsize_controller=PID)
    assert float(a.heuristics.error) == float(b.heuristics.error)
    with pytest.raises(ValueError, match="rtol"):
        nde.solve(diffrax.ODETerm(_stiff), nde.HeuristicsSolver(diffrax.Tsit5(), PID), 0.0,
                  1.0, 0.1, jnp.ones(3),
                  stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6))
