import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from _case import BadInput

from jaxsci import nde

NAN = float("nan")
TS = jnp.array([0.0, 1.0])
PID = diffrax.PIDController(rtol=1e-3, atol=1e-3)


def _node(field=lambda t, y: -y, **kwargs):
    return nde.NeuralODE(field, max_steps=kwargs.pop("max_steps", 64), **kwargs)


def _sde():
    return nde.NeuralSDE(lambda t, y: -y, lambda t, y: 0.1 * jnp.ones_like(y), max_steps=64)


class _ArgsField(eqx.Module):
    def __call__(self, t, y, args):
        return -y


def _heuristics_solve(save_state, solver=None):
    solver = nde.HeuristicsSolver(diffrax.Tsit5(), PID) if solver is None else solver
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: -y), solver, 0.0, 1.0, 0.1, jnp.ones(2),
        stepsize_controller=PID, saveat=diffrax.SaveAt(t1=True, solver_state=save_state),
    )
    return nde.read_heuristics(sol)


def _jit(fn, *args):
    return jax.block_until_ready(jax.jit(fn)(*args))


def _solve(solver=None, controller=PID, **kwargs):
    return nde.solve(diffrax.ODETerm(lambda t, y, args: -y), diffrax.Tsit5() if solver is None else solver,
                     0.0, 1.0, 0.1, jnp.ones(2), stepsize_controller=controller, **kwargs)


def _plain_solve_without_tolerances():
    return diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, args: -y), nde.HeuristicsSolver(diffrax.Tsit5()),
                               0.0, 1.0, 0.1, jnp.ones(2), stepsize_controller=PID,
                               saveat=diffrax.SaveAt(t1=True, solver_state=True))


def _sde_terms():
    bm = diffrax.VirtualBrownianTree(0.0, 1.0, tol=1e-3, shape=(2,), key=jax.random.key(0))
    return diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, args: -y), diffrax.ControlTerm(lambda t, y, args: y, bm))

CASES = [
    BadInput("nde-node-missing-max-steps", lambda: nde.NeuralODE(lambda t, y: y), ValueError, "max_steps is missing"),
    BadInput("nde-node-max-steps-zero", lambda: nde.NeuralODE(lambda t, y: y, max_steps=0), ValueError, "positive integer"),
    BadInput("nde-node-max-steps-float", lambda: nde.NeuralODE(lambda t, y: y, max_steps=2.5), ValueError, "positive integer"),
    BadInput("nde-node-max-steps-bool", lambda: nde.NeuralODE(lambda t, y: y, max_steps=True), ValueError, "positive integer"),
    BadInput("nde-node-vf-not-callable", lambda: nde.NeuralODE(3.0, max_steps=8), TypeError, "callable"),
    BadInput(
        "nde-node-constant-step-no-dt0",
        lambda: nde.NeuralODE(lambda t, y: y, diffrax.Euler(), diffrax.ConstantStepSize(), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0])
        ),
        ValueError,
        "dt0",
    ),
    BadInput(
        "nde-nfe-implicit-solver",
        lambda: nde.nfe_count(diffrax.Kvaerno5(), jnp.array(3)),
        ValueError,
        "explicit Runge-Kutta",
    ),
    BadInput("nde-node-max-steps-str", lambda: nde.NeuralODE(lambda t, y: y, max_steps="8"), ValueError, "positive integer"),
    BadInput("nde-node-imex-solver", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.KenCarp4(), max_steps=8), ValueError, "IMEX"),
    BadInput("nde-node-imex-solver-says-what-instead", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.KenCarp4(), max_steps=8), ValueError, "nde.solve(MultiTerm"),
    BadInput(
        "nde-node-implicit-constant-step-no-newton-tolerances",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Kvaerno5(), diffrax.ConstantStepSize(), max_steps=8),
        ValueError, "Newton tolerances",
    ),
    BadInput(
        "nde-local-implicit-solver",
        lambda: nde.local_regularization(nde.NeuralODE(lambda t, y: -y, diffrax.Kvaerno5(), max_steps=64), jnp.ones(2), TS, key=jax.random.key(0)),
        ValueError, "heuristics=True",
    ),
    BadInput(
        "nde-budget-negative-nfe-from-implicit-solve",
        lambda: nde.BudgetWeight(10.0)(jnp.array(1.0), _node(solver=diffrax.Kvaerno5())(jnp.ones(2), TS).nfe),
        ValueError, "nfe=-1",
    ),
    BadInput("nde-node-count-not-bool", lambda: _node()(jnp.ones(2), TS, count=1), TypeError, "True or False"),
    BadInput(
        "nde-node-count-under-jit",
        lambda: _jit(lambda y: _node(solver=diffrax.Kvaerno5())(y, TS, count=True).nfe, jnp.ones(2)),
        ValueError, "outside jax.jit",
    ),
    BadInput(
        "nde-heuristics-constant-step",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Euler(), diffrax.ConstantStepSize(), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0]), dt0=0.1, heuristics=True
        ),
        ValueError,
        "adaptive",
    ),
    BadInput(
        "nde-stiffness-bosh3",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Bosh3(), max_steps=64)(
            jnp.ones(2), jnp.array([0.0, 1.0]), stiffness=True
        ),
        ValueError,
        "Tsit5",
    ),
    BadInput(
        "nde-heuristics-non-pid-controller",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Tsit5(), diffrax.StepTo(ts=jnp.linspace(0, 1, 5)), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0]), heuristics=True
        ),
        ValueError,
        "PIDController",
    ),
    BadInput(
        "nde-local-bad-sampling",
        lambda: nde.local_regularization(
            nde.NeuralODE(lambda t, y: -y, max_steps=64), jnp.ones(2), jnp.array([0.0, 1.0]), key=jax.random.key(0), sampling="uniform"
        ),
        ValueError,
        "unbiased",
    ),
    BadInput(
        "nde-local-int-key",
        lambda: nde.local_regularization(nde.NeuralODE(lambda t, y: -y, max_steps=64), jnp.ones(2), jnp.array([0.0, 1.0]), key=0),
        TypeError,
        "key",
    ),
    BadInput("nde-taynode-order-zero", lambda: nde.TayNODEField(lambda t, y: -y, 0), ValueError, "order"),
    BadInput("nde-steer-negative-width", lambda: nde.steer_end_time(1.0, -0.1, key=jax.random.key(0)), ValueError, "half_width"),
    BadInput("nde-sde-fsal-solver", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.Tsit5(), max_steps=8), ValueError, "Heun"),
    BadInput("nde-sde-fixed-step-srk", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.ShARK(), max_steps=8), ValueError, "SPaRK()"),
    BadInput("nde-sde-drift-not-callable", lambda: nde.NeuralSDE(1.0, lambda t, y: y, max_steps=8), TypeError, "callable"),
    BadInput("nde-sde-missing-max-steps", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y), ValueError, "max_steps is missing"),
    BadInput(
        "nde-sde-zero-dt0",
        lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, max_steps=8)(jnp.ones(2), jnp.array([0.0, 1.0]), key=jax.random.key(0), dt0=0.0),
        ValueError,
        "dt0",
    ),
    BadInput(
        "nde-sde-constant-controller",
        lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.Heun(), diffrax.ConstantStepSize(), max_steps=8),
        ValueError,
        "PIDController",
    ),
    BadInput("nde-node-euler-adaptive", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Euler(), max_steps=8), ValueError, "ConstantStepSize"),
    BadInput("nde-node-reversible-solver", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.ReversibleHeun(), max_steps=8), ValueError, "reversible"),
    BadInput(
        "nde-node-stepto-controller",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Tsit5(), diffrax.StepTo(ts=jnp.linspace(0, 1, 5)), max_steps=8),
        ValueError,
        "ConstantStepSize",
    ),
    BadInput(
        "nde-heuristics-backsolve-adjoint",
        lambda: nde.NeuralODE(lambda t, y: -y, adjoint=diffrax.BacksolveAdjoint(), max_steps=64)(
            jnp.ones(2), jnp.array([0.0, 1.0]), heuristics=True
        ),
        ValueError,
        "RecursiveCheckpointAdjoint",
    ),
    BadInput(
        "nde-sde-heuristics-backsolve-adjoint",
        lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, adjoint=diffrax.BacksolveAdjoint(), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0]), key=jax.random.key(0), dt0=0.1, heuristics=True
        ),
        ValueError,
        "RecursiveCheckpointAdjoint",
    ),
    BadInput("nde-sde-euler-solver", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.Euler(), max_steps=8), ValueError, "Heun"),
    BadInput("nde-sde-srk-solver", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.ShARK(), max_steps=8), ValueError, "not supported"),
    BadInput(
        "nde-local-biased-direct-adjoint",
        lambda: nde.local_regularization(
            nde.NeuralODE(lambda t, y: -y, adjoint=diffrax.DirectAdjoint(), max_steps=64), jnp.ones(2), jnp.array([0.0, 1.0]),
            key=jax.random.key(0), sampling="biased",
        ),
        ValueError,
        "DirectAdjoint",
    ),
    # --- the field's signature
    BadInput("nde-field-diffrax-signature", lambda: _node(lambda t, y, args: -y), TypeError, "DiffraxField"),
    BadInput("nde-field-module-with-args", lambda: _node(_ArgsField()), TypeError, "DiffraxField"),
    BadInput("nde-field-one-argument", lambda: _node(lambda y: -y), TypeError, "(t, y)"),
    BadInput("nde-field-control-term", lambda: _node(diffrax.ControlTerm(lambda t, y, args: y, lambda t0, t1: t1 - t0)), TypeError, "not supported"),
    BadInput("nde-diffrax-field-two-args", lambda: nde.DiffraxField(lambda t, y: -y), TypeError, "needs no adapter"),
    BadInput("nde-diffrax-field-not-callable", lambda: nde.DiffraxField(3.0), TypeError, "callable"),
    BadInput("nde-sde-drift-diffrax-signature", lambda: nde.NeuralSDE(lambda t, y, args: -y, lambda t, y: y, max_steps=8), TypeError, "DiffraxField"),
    BadInput("nde-sde-diffusion-one-argument", lambda: nde.NeuralSDE(lambda t, y: -y, lambda y: y, max_steps=8), TypeError, "diffusion"),
    # --- y0, ts, dt0, max_steps at Python time
    BadInput("nde-y0-nan", lambda: _node()(jnp.array([1.0, NAN]), TS), ValueError, "NaN or inf"),
    BadInput("nde-y0-inf-in-pytree", lambda: _node(lambda t, y: y)((jnp.ones(2), jnp.array(float("inf"))), TS), ValueError, "NaN or inf"),
    BadInput("nde-y0-integer", lambda: _node()(jnp.array([1, 2]), TS), TypeError, "floating"),
    BadInput("nde-dt0-zero", lambda: _node()(jnp.ones(2), TS, dt0=0.0), ValueError, "dt0 must be a positive"),
    BadInput("nde-dt0-negative", lambda: _node()(jnp.ones(2), TS, dt0=-0.1), ValueError, "dt0 must be a positive"),
    BadInput("nde-dt0-nan", lambda: _node()(jnp.ones(2), TS, dt0=NAN), ValueError, "finite"),
    BadInput("nde-ts-nan", lambda: _node()(jnp.ones(2), [0.0, NAN]), ValueError, "ts must be finite"),
    BadInput("nde-ts-decreasing", lambda: _node()(jnp.ones(2), jnp.array([0.0, 1.0, 0.5])), ValueError, "increasing"),
    BadInput("nde-ts-constant", lambda: _node()(jnp.ones(2), jnp.array([1.0, 1.0])), ValueError, "increasing"),
    BadInput("nde-ts-single-time", lambda: _node()(jnp.ones(2), jnp.array([1.0])), ValueError, "at least two"),
    BadInput("nde-ts-2d", lambda: _node()(jnp.ones(2), jnp.ones((2, 2))), ValueError, "1-D"),
    BadInput("nde-max-steps-negative", lambda: _node(max_steps=-5), ValueError, "positive integer"),
    BadInput("nde-max-steps-array", lambda: _node(max_steps=jnp.array(8)), ValueError, "positive integer"),
    BadInput("nde-sample-key-int", lambda: _node()(jnp.ones(2), TS, key=0), TypeError, "key"),
    BadInput("nde-sample-key-old-name", lambda: _node()(jnp.ones(2), TS, sample_key=jax.random.key(0)), TypeError, "sample_key"),
    # --- one source of tolerances, and reading the heuristics of a plain diffrax solve
    BadInput("nde-heuristics-solver-tolerances-given-as-floats", lambda: nde.HeuristicsSolver(diffrax.Tsit5(), 1e-3), TypeError, "reads rtol/atol from the controller"),
    BadInput("nde-heuristics-solver-rtol-given-twice", lambda: nde.HeuristicsSolver(diffrax.Tsit5(), PID, rtol=1e-6), TypeError, "rtol"),
    BadInput("nde-heuristics-solver-constant-controller", lambda: nde.HeuristicsSolver(diffrax.Tsit5(), diffrax.ConstantStepSize()), ValueError, "PIDController"),
    BadInput("nde-heuristics-solver-euler", lambda: nde.HeuristicsSolver(diffrax.Euler(), PID), ValueError, "adaptive solver"),
    BadInput("nde-heuristics-solver-stiffness-bosh3", lambda: nde.HeuristicsSolver(diffrax.Bosh3(), PID, stiffness=True), ValueError, "Tsit5"),
    BadInput("nde-heuristics-solver-int-key", lambda: nde.HeuristicsSolver(diffrax.Tsit5(), PID, key=1), TypeError, "key"),
    BadInput("nde-read-heuristics-without-solver-state", lambda: _heuristics_solve(False), ValueError, "solver_state=True"),
    BadInput("nde-read-heuristics-plain-solver", lambda: _heuristics_solve(True, diffrax.Tsit5()), ValueError, "not a HeuristicsSolver"),
    BadInput("nde-read-heuristics-not-a-solution", lambda: nde.read_heuristics(jnp.ones(2)), TypeError, "diffrax.Solution"),
    # --- keys keyword-only, SDE and local inputs
    BadInput("nde-sde-key-positional", lambda: _sde()(jnp.ones(2), TS, jax.random.key(0), dt0=0.1), TypeError, "positional"),
    BadInput("nde-sde-dt0-none", lambda: _sde()(jnp.ones(2), TS, key=jax.random.key(0), dt0=None), ValueError, "dt0"),
    BadInput("nde-sde-y0-nan", lambda: _sde()(jnp.array([NAN, 1.0]), TS, key=jax.random.key(0), dt0=0.1), ValueError, "NaN or inf"),
    BadInput("nde-sde-ts-nan", lambda: _sde()(jnp.ones(2), jnp.array([0.0, NAN]), key=jax.random.key(0), dt0=0.1), ValueError, "ts must be finite"),
    BadInput("nde-local-ts-nan", lambda: nde.local_regularization(_node(), jnp.ones(2), [0.0, NAN], key=jax.random.key(0)), ValueError, "ts must be finite"),
    BadInput("nde-local-not-a-node", lambda: nde.local_regularization(lambda t, y: -y, jnp.ones(2), TS, key=jax.random.key(0)), TypeError, "NeuralODE"),
    BadInput("nde-local-key-positional", lambda: nde.local_regularization(_node(), jnp.ones(2), TS, jax.random.key(0)), TypeError, "positional"),
    BadInput("nde-steer-int-key", lambda: nde.steer_end_time(1.0, 0.5, key=3), TypeError, "key"),
    BadInput("nde-rnode-missing-key", lambda: nde.rnode_field(lambda t, y: -y, jnp.ones(2), key=None), TypeError, "key"),
    # --- traced arguments: the failure is caught inside jit with the right message
    BadInput("nde-jit-max-steps", lambda: _jit(lambda y: _node(lambda t, y: -1000.0 * y, max_steps=3)(y, jnp.array([0.0, 10.0])).ys, jnp.ones(2)), Exception, "max_steps"),
    BadInput("nde-jit-nan-y0", lambda: _jit(lambda y: _node()(y, TS).ys, jnp.array([NAN, 1.0])), Exception, "NaN or infinity"),
    BadInput("nde-jit-nan-y0-is-not-max-steps", lambda: _jit(lambda y: _node()(y, TS, dt0=0.1).ys, jnp.array([NAN, 1.0])), Exception, "NaN or infinity"),
    BadInput("nde-jit-nan-ts", lambda: _jit(lambda ts: _node()(jnp.ones(2), ts).ys, jnp.array([0.0, NAN])), Exception, "NaN or infinity"),
    BadInput("nde-jit-dt0-zero", lambda: _jit(lambda d: _node()(jnp.ones(2), TS, dt0=d).ys, jnp.asarray(0.0)), Exception, "dt0 must be positive"),
    BadInput("nde-jit-ts-decreasing", lambda: _jit(lambda ts: _node()(jnp.ones(2), ts).ys, jnp.array([0.0, 1.0, 0.5])), Exception, "increasing"),
    BadInput("nde-jit-nan-field", lambda: _jit(lambda y: _node(lambda t, y: y * jnp.nan)(y, TS).ys, jnp.ones(2)), Exception, "NaN or infinity"),
    BadInput("nde-jit-sde-nan-y0", lambda: _jit(lambda y: _sde()(y, TS, key=jax.random.key(0), dt0=0.1).ys, jnp.array([NAN, 1.0])), Exception, "NaN or infinity"),
    # --- nde.solve, counted NFE and implicit solvers
    BadInput("nde-solve-not-a-solver", lambda: _solve("tsit5"), TypeError, "diffrax solver"),
    BadInput("nde-solve-missing-controller", lambda: _solve(controller=None), TypeError, "step-size controller"),
    BadInput("nde-solve-tolerance-mismatch", lambda: _solve(nde.HeuristicsSolver(diffrax.Tsit5(), diffrax.PIDController(rtol=1e-6, atol=1e-6))), ValueError, "controller has rtol"),
    BadInput("nde-solve-heuristics-asked-twice", lambda: _solve(nde.HeuristicsSolver(diffrax.Tsit5()), stiffness=True), ValueError, "already a HeuristicsSolver"),
    BadInput("nde-solve-count-not-bool", lambda: _solve(count="yes"), TypeError, "True or False"),
    BadInput("nde-solve-heuristics-not-bool", lambda: _solve(heuristics=1), TypeError, "True or False"),
    BadInput("nde-solve-count-inside-jit", lambda: _jit(lambda y: nde.solve(diffrax.ODETerm(lambda t, y, args: -y), diffrax.Tsit5(), 0.0, 1.0, 0.1, y, stepsize_controller=PID, count=True).solution.ys, jnp.ones(2)), ValueError, "outside jax.jit"),
    BadInput("nde-solve-count-sde-terms", lambda: nde.solve(_sde_terms(), diffrax.Heun(), 0.0, 1.0, 0.1, jnp.ones(2), stepsize_controller=PID, count=True), ValueError, "counts ODE fields"),
    BadInput("nde-solve-int-key", lambda: _solve(key=3), TypeError, "key"),
    BadInput("nde-solve-saveat-not-saveat", lambda: _solve(saveat=[0.0, 1.0]), TypeError, "diffrax.SaveAt"),
    BadInput("nde-heuristics-solver-without-tolerances-in-plain-diffeqsolve", _plain_solve_without_tolerances, ValueError, "no tolerances"),
    BadInput("nde-heuristics-solver-stiffness-iterations-zero", lambda: nde.HeuristicsSolver(diffrax.Kvaerno5(), PID, stiffness=True, stiffness_iterations=0), ValueError, "stiffness_iterations"),
    BadInput("nde-heuristics-solver-wrapped-twice", lambda: nde.HeuristicsSolver(nde.HeuristicsSolver(diffrax.Tsit5(), PID), PID), ValueError, "already wrapped"),
    BadInput("nde-heuristics-solver-stiffness-reversible", lambda: nde.HeuristicsSolver(diffrax.ReversibleHeun(), PID, stiffness=True), ValueError, "Kvaerno5"),
    BadInput("nde-nfe-report-implicit-uncounted", lambda: nde.nfe_report(jnp.ones(2), diffrax.ImplicitEuler()), ValueError, "EvaluationCounter"),
    BadInput("nde-nfe-report-not-a-solution", lambda: nde.nfe_report(jnp.ones(2), diffrax.Tsit5()), TypeError, "diffrax.Solution"),
    BadInput("nde-nfe-report-counter-wrong-type", lambda: nde.nfe_report(jnp.ones(2), diffrax.Tsit5(), counter=3), TypeError, "EvaluationCounter"),
    BadInput("nde-counter-wrap-not-callable", lambda: nde.EvaluationCounter().wrap(3), TypeError, "callable"),
    # --- budget mode
    BadInput("nde-budget-target-zero", lambda: nde.BudgetWeight(0.0), ValueError, "positive finite"),
    BadInput("nde-budget-target-nan", lambda: nde.BudgetWeight(NAN), ValueError, "positive finite"),
    BadInput("nde-budget-target-string", lambda: nde.BudgetWeight("40"), TypeError, "positive number"),
    BadInput("nde-budget-initial-weight-negative", lambda: nde.BudgetWeight(40.0, initial_weight=-1.0), ValueError, "initial_weight"),
    BadInput("nde-budget-kind-unknown", lambda: nde.BudgetWeight(40.0, kind="steps"), ValueError, "kind"),
    BadInput("nde-budget-max-weight-below-initial", lambda: nde.BudgetWeight(40.0, max_weight=0.5), ValueError,
             "max_weight"),
    BadInput("nde-budget-max-weight-nan", lambda: nde.BudgetWeight(40.0, max_weight=NAN), ValueError, "positive finite"),
    BadInput("nde-budget-min-weight-above-initial", lambda: nde.BudgetWeight(40.0, min_weight=2.0), ValueError,
             "min_weight"),
    BadInput("nde-budget-min-weight-zero", lambda: nde.BudgetWeight(40.0, min_weight=0.0), ValueError, "positive finite"),
    BadInput("nde-budget-optimizer-not-optax", lambda: nde.budget_optimizer("adam"), TypeError, "GradientTransformation"),
    BadInput("nde-budget-dual-rate-zero", lambda: nde.budget_optimizer(optax.sgd(0.1), 0.0), ValueError, "dual_learning_rate"),
]
