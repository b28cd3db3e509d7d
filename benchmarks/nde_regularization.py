"""Solver-heuristic regularization of neural ODEs/SDEs against its baselines, side by side.

    python benchmarks/nde_regularization.py [--quick] [--json PATH] [--seeds N]
        [--experiments digits,spiral,sde] [--methods unregularized,error,...]
        [--steps-factor F]

Every experiment of ``benchmarks/nde_experiments.py`` (digits classifier, spiral fit, OU neural
SDE) is trained with every method that applies to it (unregularized, R_E, R_S, local
unbiased/biased, TayNODE, STEER, RNODE) with the same data, network, optimizer and
tolerances, for every seed (default 5), all in one process on one code version (the git
commit is recorded); training runs through ``jaxsci.core.fit`` (compilation excluded from
the training time), each (experiment, method) compiles its test prediction once for
every seed. Reported per method: how many runs succeeded and how many failed
(an exception, e.g. a solve past max_steps, or a non-finite test metric or final loss;
every failure is listed in the JSON with its reason), and over the successful runs the
medians of the test metric, NFE per test prediction, NFE of training solves of the
final model (``train_nfe``: the mean over 8 fixed batch draws, the quantity budget mode's
target is stated in; the test solve's inputs differ, so its NFE can differ), training wall time (compilation
excluded) and each run's ratios to the unregularized run of the same seed (a seed whose
unregularized run failed gives no ratios). A method with any failure is flagged with
``!`` in the table.

JSON: ``{"rows": [...successful runs...], "failed": [{"experiment", "method", "seed",
"reason", "error"}], "summary": [...], "git": {...}, "command", "machine", "versions"}``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import nde_experiments as ex
from _common import git_state, machine, markdown_table, parser, versions, write_json

COLUMNS = ["experiment", "method", "runs_ok_failed", "metric", "metric_vs_unreg", "nfe",
           "train_nfe", "nfe_ratio", "nfe_ratio_range", "train_s", "train_ratio", "predict_ratio", "weight"]


def settings_for(experiment: str, seed: int, quick: bool, steps_factor: float,
                 overrides: dict | None = None) -> ex.Settings:
    base = dataclasses.replace(ex.DEFAULTS[experiment], **(overrides or {}))
    steps = max(base.steps // 10, 50) if quick else max(1, round(base.steps * steps_factor))
    return dataclasses.replace(base, seed=seed, steps=steps)


def parse_overrides(items: list[str]) -> dict:
    """``["weight_error=0.1", ...]`` as Settings fields with their types."""
    fields = {f.name: f.type for f in dataclasses.fields(ex.Settings)}
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in fields:
            raise SystemExit(f"--set {item}: unknown Settings field {name!r}")
        out[name] = int(value) if fields[name] in (int, "int") else float(value)
    return out


def run_one(trainer: ex.Trainer, seed: int) -> tuple[dict | None, dict | None]:
    """(row, None) for a successful run, (None, failure) otherwise."""
    start = time.perf_counter()
    try:
        row = trainer.run(seed)
    except Exception as error:
        message = str(error).strip().splitlines()
        message = message[0] if message else type(error).__name__
        reason = "max_steps" if "max_steps" in str(error) else "exception"
        return None, dict(reason=reason, error=f"{type(error).__name__}: {message}"[:500],
                          wall_s=time.perf_counter() - start)
    bad = [k for k in ("metric", "final_loss", "test_nfe") if not math.isfinite(row[k])]
    if bad:
        return None, dict(reason="non-finite " + ", ".join(bad),
                          error=", ".join(f"{k}={row[k]}" for k in bad),
                          wall_s=time.perf_counter() - start)
    row["wall_s"] = time.perf_counter() - start
    return row, None


def main():
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=None, help="seeds per (experiment, method); default 5")
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds first-seed .. first-seed + seeds - 1 (to split a sweep over runs)")
    p.add_argument("--experiments", default=None, help="comma-separated subset")
    p.add_argument("--methods", default=None, help="comma-separated subset")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a Settings field for every experiment (e.g. weight_error=0.1)")
    p.add_argument("--steps-factor", type=float, default=1.0,
                   help="scale every experiment's training steps by this (all methods alike)")
    args = p.parse_args()
    overrides = parse_overrides(args.set)
    experiments = args.experiments.split(",") if args.experiments else list(ex.EXPERIMENTS)
    seeds = args.seeds or (1 if args.quick else 5)
    if args.quick and not args.methods:
        wanted = ["unregularized", "error", "local-biased"]
    else:
        wanted = args.methods.split(",") if args.methods else None
    header = dict(command=" ".join([Path(sys.executable).name, *sys.argv]),
                  git=git_state("benchmarks/nde_regularization.py", "benchmarks/nde_experiments.py"),
                  machine=machine(), versions=versions(), quick=args.quick, seeds=seeds,
                  steps_factor=args.steps_factor, overrides=overrides,
                  steps={e: settings_for(e, 0, args.quick, args.steps_factor, overrides).steps
                         for e in experiments})
    print(f"git {header['git']}", flush=True)
    rows, failed = [], []
    # One trainer per (experiment, method): its test prediction is compiled once for all seeds.
    for experiment in experiments:
        settings = settings_for(experiment, 0, args.quick, args.steps_factor, overrides)
        for method in [m for m in ex.METHODS[experiment] if wanted is None or m in wanted]:
            trainer = ex.Trainer(experiment, method, settings)
            for seed in range(args.first_seed, args.first_seed + seeds):
                row, failure = run_one(trainer, seed)
                if failure is not None:
                    failure.update(experiment=experiment, method=method, seed=seed)
                    failed.append(failure)
                    print(f"{experiment:7s} {method:15s} seed {seed}: FAILED ({failure['reason']}) "
                          f"{failure['error']}", flush=True)
                else:
                    rows.append(row)
                    print(f"{experiment:7s} {method:15s} seed {seed}: {row['metric_name']} "
                          f"{row['metric']:.4g}, train {row['train_s']:.2f} s, NFE "
                          f"{row['test_nfe']:.1f} (training solves {row.get('train_nfe', float('nan')):.1f}; compile {row['first_step_s']:.1f} s, "
                          f"wall {row['wall_s']:.1f} s)", flush=True)
                if args.json:  # keep what is finished if a later run dies
                    write_json(args.json, {**header, "rows": rows, "failed": failed, "partial": True})
    summary = summarize(rows, failed, seeds)
    print()
    print(markdown_table(summary, COLUMNS))
    if args.json:
        write_json(args.json, {**header, "rows": rows, "failed": failed, "summary": summary,
                               "partial": False})


def summarize(rows, failed, seeds):
    """Per (experiment, method): runs ok / failed, and medians over the successful runs of
    the metric and of the ratios to the unregularized run with the same seed."""
    out = []
    seen = {(r["experiment"], r["method"]) for r in rows + failed}
    keys = sorted(seen, key=lambda k: (ex.EXPERIMENTS.index(k[0]), ex.ODE_METHODS.index(k[1])))
    base = {(r["experiment"], r["seed"]): r for r in rows if r["method"] == "unregularized"}
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    for experiment, method in keys:
        mine = [r for r in rows if r["experiment"] == experiment and r["method"] == method]
        n_failed = sum(1 for f in failed if f["experiment"] == experiment and f["method"] == method)
        pairs = [(r, base[(experiment, r["seed"])]) for r in mine if (experiment, r["seed"]) in base]
        nfe_ratios = [r["test_nfe"] / b["test_nfe"] for r, b in pairs]
        out.append(dict(
            experiment=experiment,
            method=method + (" !" if n_failed else ""),
            runs_ok=len(mine),
            runs_failed=n_failed,
            runs_ok_failed=f"{len(mine)} / {n_failed}",
            ratio_pairs=len(pairs),
            metric=f"{med([r['metric'] for r in mine]):.4g}",
            metric_vs_unreg=f"{med([r['metric'] - b['metric'] for r, b in pairs]):+.4g}",
            nfe=f"{med([r['test_nfe'] for r in mine]):.1f}",
            train_nfe=f"{med([r.get('train_nfe', float('nan')) for r in mine]):.1f}",
            nfe_ratio=f"{med(nfe_ratios):.3f}",
            nfe_ratio_range=(f"{min(nfe_ratios):.3f}-{max(nfe_ratios):.3f}" if nfe_ratios else ""),
            train_s=f"{med([r['train_s'] for r in mine]):.2f}",
            train_ratio=f"{med([r['train_s'] / b['train_s'] for r, b in pairs]):.3f}",
            weight=f"{med([r.get('weight', float('nan')) for r in mine]):.3g}",
            predict_ratio=f"{med([r['predict_s'] / b['predict_s'] for r, b in pairs]):.3f}",
        ))
    return out


if __name__ == "__main__":
    main()
