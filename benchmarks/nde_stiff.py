"""A stiff neural ODE with an implicit solver: Van der Pol (mu = 10) learned by Kvaerno5.

    python benchmarks/nde_stiff.py [--quick] [--seeds N] [--first-seed S] [--steps N]
        [--methods unregularized,stiffness,error,budget] [--weight-stiffness W]
        [--weight-error W] [--budget-steps S] [--budget-min-weight W] [--json PATH]

Data: one trajectory of the Van der Pol oscillator y1' = y2, y2' = mu (1 - y1^2) y2 - y1,
mu = 10, y0 = (2, 0), t in [0, 12] (a relaxation oscillation: a slow branch, a fast jump near t = 8),
observed at 121 times with noise 0.01 (a different draw per seed). The model y' = MLP(y)
(2 -> 32 -> 32 -> 2, tanh) is fitted on windows of 8 consecutive observations started
from their first observed point (as the spiral of ``nde_experiments.py``), solved by
``diffrax.Kvaerno5`` with a PID controller (rtol = atol = 1e-4) through ``nde.solve``;
training runs through ``jaxsci.core.fit`` (compilation excluded from the training time),
all seeds of a method as one ensemble (``ensemble=True``: one compilation per method;
each seed its own noise draw, initialization and batches).

Methods: ``unregularized``; ``stiffness``: + w R_S, the implicit-solver stiffness
estimate of ``HeuristicsSolver`` (power-method spectral radius of the field's Jacobian
times the step, summed over accepted steps); ``error``: + w R_E; ``budget``: + lambda R_E
with lambda adapted by dual ascent (``nde.BudgetWeight``, ``nde.budget_optimizer``, their
defaults) so that the training solves take ``--budget-steps`` steps. An implicit solve's
NFE is not known inside jit (its Newton iterations vary), so the budget is stated in solver
steps (accepted and rejected), the quantity an implicit solver's cost is proportional to;
the test NFE is counted as for every method.

Test: windows started from the clean trajectory at the times between observations; test
MSE against the clean trajectory, and the test solve's true NFE counted by
``nde.solve(..., count=True)`` (field evaluations, Newton iterations included, and
Jacobian evaluations separately). Reported per method: runs ok/failed and medians of the
metric, the NFE, the Jacobian evaluations, the training time and the ratios to the
unregularized run of the same seed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, versions, write_json

from jaxsci import nde
from jaxsci.core import fit

MU, T_END, N_OBS, WINDOW, WINDOWS = 10.0, 12.0, 121, 8, 16
PID = diffrax.PIDController(rtol=1e-4, atol=1e-4)


def vdp(t, y, args):
    return jnp.stack([y[..., 1], MU * (1 - y[..., 0] ** 2) * y[..., 1] - y[..., 0]], -1)


def clean_trajectory():
    t_fine = np.linspace(0.0, T_END, 3 * (N_OBS - 1) + 1)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(vdp), diffrax.Kvaerno5(), 0.0, T_END, 1e-3, jnp.array([2.0, 0.0]),
        saveat=diffrax.SaveAt(ts=jnp.asarray(t_fine)),
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-8), max_steps=100_000,
    )
    return t_fine.astype(np.float32), np.asarray(sol.ys, np.float32)


class Field(eqx.Module):
    mlp: eqx.nn.MLP

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(2, 2, 32, 2, activation=jnp.tanh, key=key)

    def __call__(self, t, y, args):
        return jax.vmap(self.mlp)(y)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--methods", default="unregularized,stiffness")
    p.add_argument("--weight-stiffness", type=float, default=1e-4)
    p.add_argument("--weight-error", type=float, default=1e-2)
    p.add_argument("--budget-steps", type=float, default=None,
                   help="the budget method's target: solver steps per training solve")
    p.add_argument("--dual-lr", type=float, default=0.05)
    p.add_argument("--budget-min-weight", type=float, default=None,
                   help="BudgetWeight(min_weight=...): a floor on the multiplier")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    steps = 30 if args.quick else args.steps
    methods = args.methods.split(",")
    unknown = set(methods) - {"unregularized", "stiffness", "error", "budget"}
    if unknown:
        p.error(f"unknown methods {sorted(unknown)}: use unregularized, stiffness, error, budget")
    if "budget" in methods and args.budget_steps is None:
        p.error("--methods budget needs --budget-steps (solver steps per training solve)")
    t_fine, y_fine = clean_trajectory()
    obs_idx = np.arange(0, len(t_fine), 3)
    ts_window = jnp.asarray(t_fine[: 3 * WINDOW : 3])
    test_start = np.setdiff1d(np.arange(len(t_fine) - 3 * (WINDOW - 1)), obs_idx)[::4]
    test_y0 = jnp.asarray(y_fine[test_start])
    test_targets = jnp.asarray(y_fine[test_start[:, None] + 3 * np.arange(WINDOW)[None]])

    def training_solve(field, y_tr, key, stiffness=False):
        """The solve of one training step: WINDOWS random windows of ``y_tr``, jointly."""
        start = jax.random.choice(key, y_tr.shape[0] - WINDOW, (WINDOWS,), replace=False)
        targets = jax.vmap(lambda i: jax.lax.dynamic_slice_in_dim(y_tr, i, WINDOW))(start)
        out = nde.solve(diffrax.ODETerm(field),
                        nde.HeuristicsSolver(diffrax.Kvaerno5(), stiffness=stiffness),
                        ts_window[0], ts_window[-1], 0.01, y_tr[start], stepsize_controller=PID,
                        saveat=diffrax.SaveAt(ts=ts_window), max_steps=2048, throw=False)
        return out, targets

    def loss_for(method):
        def loss(model, batch, key):
            field, y_tr, budget = model
            y_tr = jax.lax.stop_gradient(y_tr)  # this member's data (never updated)
            out, targets = training_solve(field, y_tr, key, stiffness=method == "stiffness")
            mse = jnp.mean((jnp.swapaxes(out.solution.ys, 0, 1) - targets) ** 2)
            h = out.heuristics
            if method == "stiffness":
                return mse + args.weight_stiffness * h.stiffness
            if method == "error":
                return mse + args.weight_error * h.error
            if method == "budget":
                return mse + budget(h.error, out.nfe.steps)
            return mse
        return loss

    counter = nde.EvaluationCounter()

    def test_solve(vf):
        """The test windows solved jointly from the clean trajectory, with the true NFE."""
        counter.reset()
        solver = diffrax.Kvaerno5()
        sol = diffrax.diffeqsolve(diffrax.ODETerm(counter.wrap(vf)), solver, ts_window[0],
                                  ts_window[-1], 0.01, test_y0, stepsize_controller=PID,
                                  saveat=diffrax.SaveAt(ts=ts_window), max_steps=2048)
        return sol, nde.nfe_report(sol, solver, counter=counter)

    # The true field's cost on the test windows, the scale the learned fields compare with.
    _, true_nfe = test_solve(vdp)
    true_field = dict(test_nfe=int(true_nfe.field_evals), test_jac=int(true_nfe.jacobian_evals),
                      test_steps=int(true_nfe.steps))
    print(f"true Van der Pol field on the test windows: NFE {true_field['test_nfe']} (Jacobians "
          f"{true_field['test_jac']}, steps {true_field['test_steps']})", flush=True)

    rows, failed = [], []
    header = dict(true_field=true_field, command=" ".join([Path(sys.executable).name, *sys.argv]),
                  git=git_state("benchmarks/nde_stiff.py"), machine=machine(), versions=versions(),
                  steps=steps, note="seeds train as one ensemble (core.fit(ensemble=True)): one "
                  "compilation per method; train_s is the ensemble's, the same for every seed")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))

    def member(seed, method):
        rng = np.random.default_rng(seed)
        y_tr = jnp.asarray(y_fine[obs_idx] + 0.01 * rng.standard_normal((len(obs_idx), 2)),
                           jnp.float32)
        budget = (nde.BudgetWeight(args.budget_steps, min_weight=args.budget_min_weight)
                  if method == "budget" else None)
        return Field(jax.random.key(seed)), y_tr, budget

    for method in methods:
        members = [member(seed, method) for seed in seeds]
        model = jax.tree_util.tree_map(
            lambda *xs: jnp.stack(xs) if eqx.is_array(xs[0]) else xs[0], *members)
        optimizer = optax.adam(3e-3)
        if method == "budget":
            optimizer = nde.budget_optimizer(optimizer, args.dual_lr)
        out = fit(loss_for(method), model, optimizer, steps=steps,
                  key=jax.random.key(1000), chunk=min(100, steps), compile_first=True,
                  progress=False, ensemble=True, throw=False)
        train_s = float(out.history_wall_time[-1])
        print(f"{method}: trained {len(seeds)} members in {train_s:.1f} s (compile "
              f"{out.compile_time:.1f} s)", flush=True)
        for i, seed in enumerate(seeds):
            field = jax.tree_util.tree_map(lambda x: x[i] if eqx.is_array(x) else x, out.model[0])
            if not np.isfinite(np.asarray(out.losses)[-1, i]):
                failed.append(dict(method=method, seed=seed, error="training NaN/inf"))
                continue
            try:
                sol, report = test_solve(field)
                mse = float(jnp.mean((jnp.swapaxes(sol.ys, 0, 1) - test_targets) ** 2))
                if not np.isfinite(mse):
                    raise FloatingPointError(f"test MSE {mse}")
            except Exception as error:  # counted, with its reason
                failed.append(dict(method=method, seed=seed, error=f"{type(error).__name__}: "
                                   f"{str(error).splitlines()[0] if str(error) else ''}"[:300]))
                print(f"{method:13s} seed {seed}: FAILED {failed[-1]['error']}", flush=True)
                continue
            weight = (float(out.model[2].value[i]) if method == "budget" else float("nan"))
            # steps of training-style solves (16 windows of this member's data, 8 fixed draws)
            y_tr_i = out.model[1][i]
            train_steps = statistics.mean(
                int(training_solve(field, y_tr_i, jax.random.key(10_000 + j))[0].nfe.steps)
                for j in range(8))
            row = dict(method=method, seed=seed, metric=mse, test_nfe=int(report.field_evals),
                       test_jac=int(report.jacobian_evals), test_steps=int(report.steps),
                       train_s=train_s, compile_s=out.compile_time,
                       final_loss=float(np.asarray(out.losses)[-1, i]), final_weight=weight,
                       train_solve_steps=train_steps)
            rows.append(row)
            print(f"{method:13s} seed {seed}: test MSE {mse:.4g}, NFE {row['test_nfe']} "
                  f"(Jacobians {row['test_jac']}, steps {row['test_steps']}; training-solve steps "
                  f"{train_steps:.1f}, weight {weight:.3g})", flush=True)
        if args.json:
            write_json(Path(args.json), {**header, "rows": rows, "failed": failed, "partial": True})
    base = {r["seed"]: r for r in rows if r["method"] == "unregularized"}
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    summary = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        pairs = [(r, base[r["seed"]]) for r in mine if r["seed"] in base]
        summary.append(dict(
            method=method, runs_ok_failed=f"{len(mine)} / {sum(f['method'] == method for f in failed)}",
            metric=f"{med([r['metric'] for r in mine]):.4g}",
            mse_ratio=f"{med([r['metric'] / b['metric'] for r, b in pairs]):.3f}",
            nfe=f"{med([r['test_nfe'] for r in mine]):.1f}",
            nfe_ratio=f"{med([r['test_nfe'] / b['test_nfe'] for r, b in pairs]):.3f}",
            jac=f"{med([r['test_jac'] for r in mine]):.1f}",
            train_s=f"{med([r['train_s'] for r in mine]):.2f}",
            train_ratio=f"{med([r['train_s'] / b['train_s'] for r, b in pairs]):.3f}",
        ))
    print()
    print(markdown_table(summary, ["method", "runs_ok_failed", "metric", "mse_ratio", "nfe",
                                   "nfe_ratio", "jac", "train_s", "train_ratio"]))
    if args.json:
        write_json(Path(args.json), {**header, "rows": rows, "failed": failed, "summary": summary,
                               "partial": False})


if __name__ == "__main__":
    main()
