"""Batch studies: a vmapped ensemble against sequential runs, 8 devices against 1, and
the runner's overhead.

    python benchmarks/studies.py [--quick] [--json PATH]

Small PINN: two-body Allen-Cahn in d = 10, tanh MLP 2 x 32, 64 points per step, sparse STDE
with 8 dimensions. ``steps_per_s`` counts member-steps (one optimizer step of one ensemble
member) per second, after compilation; set-up (building and initializing the members) is
outside the clock on both sides. The device comparisons (members sharded, points sharded,
one device) run in subprocesses with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (8 CPU "devices" sharing this
machine's cores: it checks the mechanics and the overhead of sharding, not a speed-up).
Overhead: ``study run`` at the default eval/checkpoint interval (500) against the same
training steps called directly, and end to end against the runner writing nothing.
JSON: ``{"rows": [{"mode", "members", "devices", "steps_per_s"}], ...}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, parser, versions, write_json

from jaxsci import studies
from jaxsci.studies import _runner as runner_module
from jaxsci.studies._ensemble import Ensemble
from jaxsci.studies._results import ResultsTable
from jaxsci.studies._runner import run_group


def make_study(seeds, steps, shard="none", every=500, output="unused", batch=64):
    return studies.parse({
        "study": {"name": "bench", "output": output},
        "problem": {"name": "two_body_allen_cahn", "dim": 10},
        "backend": {"name": "sparse_stde", "num_samples": 8},
        "train": {"steps": steps, "seeds": list(seeds), "learning_rate": 1e-3, "batch_size": batch, "width": 32,
                  "depth": 2, "eval_every": min(every, steps), "checkpoint_every": min(every, steps),
                  "test_points": 1000},
        "devices": {"shard": shard},
    })


def timed_train(ensemble, state, steps):
    """Seconds for ``steps`` steps of every member, compilation excluded (``core.fit``'s
    ``compile_first``: the clock starts once the program is compiled)."""
    _, out = ensemble.train(state, steps, compile_first=True)
    return float(out.history_wall_time[-1])


def ensemble_vs_sequential(members, steps):
    study = make_study(range(members), steps)
    ens = Ensemble(study, study.groups[0])
    wall_ens = timed_train(ens, ens.init(), steps)
    single_study = make_study([0], steps)
    single = Ensemble(single_study, single_study.groups[0])
    # Set-up (parsing, building and initializing each member) happens before the clock on
    # both sides: the ensemble's `init()` is outside `timed_train` too.
    states = []
    for seed in range(members):
        s = make_study([seed], steps)
        states.append(jax.block_until_ready(Ensemble(s, s.groups[0]).init()))  # same shapes: one program
    # each run is one `core.fit` call, timed after its compilation (as the ensemble's)
    wall_seq = sum(timed_train(single, state, steps) for state in states)
    return [dict(mode="vmap ensemble", members=members, devices=1, steps_per_s=members * steps / wall_ens),
            dict(mode="sequential runs", members=members, devices=1, steps_per_s=members * steps / wall_seq)]


DEVICE_SCRIPT = """
import json, sys, time, jax
sys.path.insert(0, "benchmarks")
from studies import make_study, timed_train
from jaxsci.studies._ensemble import Ensemble
members, steps, shard, batch = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
study = make_study(range(members), steps, shard=shard, batch=batch)
ens = Ensemble(study, study.groups[0])
wall = timed_train(ens, ens.init(), steps)
print(json.dumps(dict(devices=len(jax.devices()) if shard != "none" else 1, steps_per_s=members * steps / wall)))
"""

# (fake CPU devices, shard mode, points per step): the comparison (8 devices, the
# small PINN's 64 points), then the same split over 2 devices (one per core: no
# oversubscription) and with 8x the points (each device's share no longer tiny)
DEVICE_CASES = ((8, "ensemble", 64), (8, "points", 64), (1, "none", 64),
                (2, "points", 64), (8, "points", 512), (1, "none", 512))


def devices_rows(members, steps):
    rows = []
    root = Path(__file__).parents[1]
    for count, shard, batch in DEVICE_CASES:
        env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={count}", JAX_PLATFORMS="cpu")
        out = subprocess.run([sys.executable, "-c", DEVICE_SCRIPT, str(members), str(steps), shard, str(batch)],
                             cwd=root, env=env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        label = {"ensemble": "members sharded", "points": "points sharded", "none": "one device"}[shard]
        rows.append(dict(mode=f"{label} ensemble", members=members, batch=batch, **result))
    return rows


class _NoStore:
    """A checkpoint store that writes nothing (the end-to-end overhead's baseline)."""

    def __init__(self, *args, **kwargs):
        pass

    def latest_valid(self, template):
        return None

    def save(self, step, state):
        pass

    def finish(self):
        pass

    def close(self):
        pass


class _NoResults(ResultsTable):
    def append(self, rows):
        pass


def runner_overhead(steps, repeats=7):
    """The runner's own cost at the default interval, two ways.

    ``io_s``: the time it spends on results, checkpoints and logging (recorded in
    FINISHED) against the same training steps called directly (compiled, warm).
    ``end_to_end``: the whole ``run_group`` (median of ``repeats``, interleaved) against
    ``run_group`` with the checkpoint store and the results table replaced by ones that
    write nothing: this also counts what the background checkpoint writes take from
    training (both sides compile the same program, a persistent-cache hit).
    """
    with tempfile.TemporaryDirectory() as tmp:
        study = make_study(range(8), steps, output=tmp)
        ens = Ensemble(study, study.groups[0])
        train_only = timed_train(ens, ens.init(), steps)
        walls = {"runner": [], "no writes": []}
        io_s = []
        for repeat in range(repeats):
            for mode in walls:
                folder = Path(tmp) / f"{mode.replace(' ', '_')}_{repeat}"
                study = make_study(range(8), steps, output=str(folder))
                (folder / study.groups[0].key).mkdir(parents=True)
                saved = runner_module.CheckpointStore
                if mode == "no writes":
                    runner_module.CheckpointStore = _NoStore
                try:
                    table = (ResultsTable if mode == "runner" else _NoResults)(folder / "results.jsonl")
                    start = time.perf_counter()
                    run_group(study, study.groups[0], table)
                    walls[mode].append(time.perf_counter() - start)
                finally:
                    runner_module.CheckpointStore = saved
                if mode == "runner":
                    io_s.append(json.loads((folder / study.groups[0].key / "FINISHED").read_text())["io_s"])
    runner, bare = float(np.median(walls["runner"])), float(np.median(walls["no writes"]))
    io = float(np.median(io_s))
    return dict(train_s=train_only, io_s=io, overhead=io / train_only, runner_wall_s=runner,
                no_writes_wall_s=bare, end_to_end=runner / bare - 1.0, walls=walls)


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--part", choices=["all", "ensemble", "devices", "overhead"], default="all",
                   help="run one measurement only (each fits in a 10-minute locked run)")
    p.add_argument("--members", type=int, default=None, help="members (default 64, --quick 16)")
    p.add_argument("--steps", type=int, default=None, help="timed steps per member (default 300, --quick 100)")
    args = p.parse_args(argv)
    # the sequential runs compile the same program once each (outside their clocks): a
    # persistent compilation cache makes every compile after the first a cache hit, which
    # shortens the benchmark's wall time and changes none of the timed loops
    jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="jaxsci-bench-cache-"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    git = git_state("benchmarks/studies.py")  # the code this run starts with
    members, steps = (16, 100) if args.quick else (64, 300)
    members, steps = args.members or members, args.steps or steps
    rows, overhead = [], None
    if args.part in ("all", "ensemble"):
        rows += ensemble_vs_sequential(members, steps)
        print(f"ensemble / sequential: {rows[0]['steps_per_s'] / rows[1]['steps_per_s']:.1f}x", flush=True)
    if args.part in ("all", "devices"):
        rows += devices_rows(members, steps)
        by = {(r["mode"], r["devices"], r.get("batch")): r["steps_per_s"] for r in rows}
        for devices, batch in ((8, 64), (2, 64), (8, 512)):
            ratio = by[("points sharded ensemble", devices, batch)] / by[("one device ensemble", 1, batch)]
            print(f"points sharded ({devices} fake devices, {batch} points) / one device: {ratio:.2f}", flush=True)
    if args.part in ("all", "overhead"):
        overhead = runner_overhead(500 if args.quick else 2000)
        print(f"runner overhead at eval/checkpoint every 500 steps: {100 * overhead['overhead']:.1f}% "
              f"({overhead['io_s']:.3f} s of results, checkpoints and logging vs {overhead['train_s']:.2f} s of "
              f"training); end to end {100 * overhead['end_to_end']:.1f}% ({overhead['runner_wall_s']:.2f} s "
              f"against {overhead['no_writes_wall_s']:.2f} s with nothing written, medians)", flush=True)
    print(markdown_table(rows, ["mode", "members", "devices", "batch", "steps_per_s"]))
    write_json(args.json, {"rows": rows, "runner_overhead": overhead, "git": git, "members": members,
                           "steps": steps, "machine": machine(), "versions": versions()})
    return rows


if __name__ == "__main__":
    main()
