"""Solver-heuristic regularization of neural ODEs/SDEs against its baselines, side by side.

    python benchmarks/nde_regularization.py [--quick] [--json PATH] [--seeds N]
        [--experiments digits,spiral,sde] [--methods unregularized,error,...]

Every experiment of ``jaxsci.nde.experiments`` (digits classifier, spiral fit, OU neural
SDE) is trained with every method that applies to it (unregularized, R_E, R_S, local
unbiased/biased, TayNODE, STEER, RNODE) with the same data, network, optimizer and
tolerances, one seed after another in one process. Reported: test metric, training
wall time (compilation excluded), NFE per test prediction, median prediction time, and
each method's ratios to the unregularized run of the same seed.
JSON: ``{"rows": [{"experiment", "method", "seed", "metric", "train_s", "test_nfe",
"predict_s"}], "summary": [...], ...}``.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, parser, versions, write_json  # noqa: E402

from jaxsci.nde import experiments as ex  # noqa: E402


def main():
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=None, help="seeds per (experiment, method); default 2")
    p.add_argument("--experiments", default=None, help="comma-separated subset")
    p.add_argument("--methods", default=None, help="comma-separated subset")
    args = p.parse_args()
    experiments = args.experiments.split(",") if args.experiments else list(ex.EXPERIMENTS)
    seeds = args.seeds or (1 if args.quick else 2)
    if args.quick and not args.methods:
        wanted = ["unregularized", "error", "local-biased"]
    else:
        wanted = args.methods.split(",") if args.methods else None
    rows, failed = [], []
    for experiment in experiments:
        methods = [m for m in ex.METHODS[experiment] if wanted is None or m in wanted]
        for seed in range(seeds):
            base = ex.DEFAULTS[experiment]
            settings = dataclasses.replace(
                base, seed=seed, steps=max(base.steps // 10, 50) if args.quick else base.steps
            )
            for method in methods:
                try:
                    row = ex.run(experiment, method, settings)
                except Exception as error:  # noqa: BLE001 - record it and go on
                    # e.g. a regularizer that drives the solve past max_steps
                    print(f"{experiment} {method} seed {seed} FAILED: {str(error).splitlines()[0]}")
                    failed.append(dict(experiment=experiment, method=method, seed=seed,
                                       error=str(error).splitlines()[0]))
                    continue
                row["seed"] = seed
                rows.append(row)
                if args.json:  # keep what is finished if a later run dies
                    write_json(args.json, {"rows": rows, "failed": failed, "partial": True})
                print(
                    f"{experiment:7s} {method:15s} seed {seed}: {row['metric_name']} "
                    f"{row['metric']:.4g}, train {row['train_s']:.2f} s, NFE {row['test_nfe']:.1f}",
                    flush=True,
                )
    summary = summarize(rows)
    print()
    print(markdown_table(summary, ["experiment", "method", "metric", "metric_vs_unreg", "nfe",
                                   "nfe_ratio", "train_s", "train_ratio", "predict_ratio"]))
    if args.json:
        write_json(args.json, {"rows": rows, "failed": failed, "summary": summary, "machine": machine(),
                               "versions": versions(), "quick": args.quick, "seeds": seeds})


def summarize(rows):
    """Medians over seeds of each method's metric and of its ratios to the unregularized
    run with the same seed."""
    out = []
    keys = sorted({(r["experiment"], r["method"]) for r in rows}, key=lambda k: (
        ex.EXPERIMENTS.index(k[0]), ex.ODE_METHODS.index(k[1])))
    base = {(r["experiment"], r["seed"]): r for r in rows if r["method"] == "unregularized"}
    for experiment, method in keys:
        mine = [r for r in rows if r["experiment"] == experiment and r["method"] == method]
        pairs = [(r, base.get((experiment, r["seed"]))) for r in mine]
        pairs = [(r, b) for r, b in pairs if b is not None]
        med = lambda xs: statistics.median(xs) if xs else float("nan")
        out.append(dict(
            experiment=experiment,
            method=method,
            metric=f"{med([r['metric'] for r in mine]):.4g}",
            metric_vs_unreg=f"{med([r['metric'] - b['metric'] for r, b in pairs]):+.4g}",
            nfe=f"{med([r['test_nfe'] for r in mine]):.1f}",
            nfe_ratio=f"{med([r['test_nfe'] / b['test_nfe'] for r, b in pairs]):.3f}",
            train_s=f"{med([r['train_s'] for r in mine]):.2f}",
            train_ratio=f"{med([r['train_s'] / b['train_s'] for r, b in pairs]):.3f}",
            predict_ratio=f"{med([r['predict_s'] / b['predict_s'] for r, b in pairs]):.3f}",
        ))
    return out


if __name__ == "__main__":
    main()
