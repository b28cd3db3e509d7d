"""``study status`` and ``study report``: progress, a summary table and plots."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np

from ._checkpoint import complete_steps
from ._config import load
from ._results import ResultsTable


def status(path) -> str:
    """One line per group: finished (with any failed members), failed (with the message),
    in progress (the newest complete checkpoint and the newest results row) or not started.

    Reads only what a run has finished writing (orbax's temporary folders, checkpoints
    without their manifest and a cut results line are ignored), so it works during a run
    and after a crash."""
    study = load(path)
    lines = [f"study {study.name}: {len(study.groups)} groups x {len(study.groups[0].members)} members, "
             f"{study.steps} steps, output {study.output}"]
    latest: dict[str, int] = {}
    for r in ResultsTable(study.output / "results.jsonl").rows():
        latest[r.get("group", "")] = max(latest.get(r.get("group", ""), 0), int(r.get("step", 0)))
    for group in study.groups:
        directory = study.output / group.key
        checkpoints = complete_steps(directory / "checkpoints")
        if (directory / "FINISHED").exists():
            try:
                failed = json.loads((directory / "FINISHED").read_text()).get("failed_members", {})
            except (json.JSONDecodeError, OSError):
                failed = {}
            state = "finished"
            if failed:
                state += f", {len(failed)} of {len(group.members)} members failed: " + ", ".join(
                    f"member {m} at step {s}" for m, s in sorted(failed.items(), key=lambda kv: int(kv[0])))
        elif (directory / "FAILED").exists():
            state = "FAILED: " + ((directory / "FAILED").read_text().splitlines() or [""])[0]
        elif checkpoints or group.key in latest:
            state = (f"in progress: step {latest.get(group.key, 0)}/{study.steps} in the results, "
                     f"checkpoint at step {checkpoints[-1] if checkpoints else 'none yet'}")
        else:
            state = "not started"
        lines.append(f"  {group.key:48s} {state}")
    return "\n".join(lines)


def report(path) -> str:
    """Summary table (final error per run) as markdown; writes report.md and PNG plots."""
    study = load(path)
    rows = ResultsTable(study.output / "results.jsonl").rows()
    if not rows:
        return f"no results yet in {study.output}"
    final = {}
    curves = defaultdict(list)
    for r in rows:
        key = (r["group"], r["member"])
        curves[key].append((r["step"], r["loss"], r["rel_l2"]))
        if key not in final or r["step"] > final[key]["step"]:
            final[key] = r
    lines = ["| group | seed | learning rate | step | loss | rel L2 | wall s | status |",
             "|---|---|---|---|---|---|---|---|"]
    for (group, _), r in sorted(final.items()):
        state = r.get("status", "ok")
        if state == "failed":
            state = f"failed at step {r.get('failed_step', r['step'])} (last finite values)"
        lines.append(f"| {group} | {r['seed']} | {r['learning_rate']:g} | {r['step']} | {r['loss']:.3e} | "
                     f"{r['rel_l2']:.3e} | {r['wall_s']:.1f} | {state} |")
    table = "\n".join(lines)
    (study.output / "report.md").write_text(f"# {study.name}\n\n{table}\n")
    _plots(study, curves, final)
    return table


def _label(row: dict) -> str:
    """A run named by its grid values: ``seed=0, lr=0.001, problem.k=2`` (not its index)."""
    parts = [f"seed={row.get('seed')}", f"lr={row.get('learning_rate'):g}"]
    parts += [f"{k}={v}" for k, v in (row.get("settings") or {}).items()]
    return ", ".join(parts)


def _plots(study, curves, final) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(9, 3.5))
    for (group, member), points in sorted(curves.items()):
        points.sort()
        steps, losses, errors = np.array(points).T
        ax_loss.semilogy(steps, losses, lw=0.8, label=_label(final[(group, member)]) if len(curves) <= 8 else None)
        ax_err.semilogy(steps, errors, lw=0.8)
    ax_loss.set(xlabel="step", ylabel="loss")
    ax_err.set(xlabel="step", ylabel="relative L2 error")
    if len(curves) <= 8:
        ax_loss.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(study.output / "curves.png", dpi=100)
    plt.close(fig)
    by_method = defaultdict(lambda: defaultdict(list))
    for r in final.values():
        by_method[f"{r['problem']} / {r['backend']}"][r["dim"]].append(r["rel_l2"])
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for label, per_dim in by_method.items():
        dims = sorted(per_dim)
        ax.loglog(dims, [np.median(per_dim[d]) for d in dims], "o-", label=label)
    ax.set(xlabel="dimension", ylabel="final relative L2 (median over members)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(study.output / "error_vs_dim.png", dpi=100)
    plt.close(fig)
    (study.output / "report.json").write_text(json.dumps([dict(r) for r in final.values()]))
