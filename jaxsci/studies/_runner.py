"""Running a study: every group trained as an ensemble, checkpointed, resumable.

``run`` never retrains a finished group (a ``FINISHED`` marker is written atomically last),
resumes an unfinished one from its newest valid checkpoint (dropping result rows written
after it, so none is duplicated), and keeps going when a group fails (``FAILED`` holds the
message; the exit code is then 1).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ._checkpoint import CheckpointStore, atomic_write_text
from ._config import Group, Study, load
from ._ensemble import Ensemble
from ._results import ResultsTable


def _say(message: str, stream=None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def run_group(study: Study, group: Group, results: ResultsTable, devices=None) -> None:
    directory = study.output / group.key
    ensemble = Ensemble(study, group, devices)
    state = ensemble.init()
    state["elapsed"] = jnp.zeros((), jnp.float32)
    store = CheckpointStore(directory / "checkpoints")
    restored = store.latest_valid(state)
    if restored is not None:
        step, state = restored
        state = ensemble.place(jax.tree_util.tree_map(jnp.asarray, state))
        results.drop_after(group.key, step)
        _say(f"[{group.key}] resuming from step {step}")
    step = int(state["step"])
    elapsed = float(state["elapsed"])
    io_seconds = 0.0  # results, checkpoints and logging: the runner's own overhead
    num_devices = len(ensemble.devices) if ensemble.mesh is not None else 1
    while step < study.steps:
        n = min(study.eval_every, study.steps - step)
        start = time.perf_counter()
        train_state = {k: v for k, v in state.items() if k != "elapsed"}
        train_state, losses = ensemble.train(train_state, n)
        errors = np.asarray(ensemble.evaluate(train_state))
        losses = np.asarray(losses)
        elapsed += time.perf_counter() - start
        step += n
        if not (np.all(np.isfinite(losses)) and np.all(np.isfinite(errors))):
            bad = [i for i in range(len(losses)) if not np.isfinite(losses[i])]
            raise FloatingPointError(
                f"the loss became NaN or infinite at step {step} for members {bad} "
                f"(seed, learning rate) = {[group.members[i] for i in bad]}; lower the learning rate."
            )
        io_start = time.perf_counter()
        primary = jax.process_index() == 0  # one writer on a multi-host run
        (results.append if primary else (lambda rows: None))([
            dict(group=group.key, member=i, seed=seed, learning_rate=lr, problem=group.problem, dim=group.dim,
                 backend=group.backend, step=step, loss=float(losses[i]), rel_l2=float(errors[i]),
                 wall_s=elapsed, devices=num_devices)
            for i, (seed, lr) in enumerate(group.members)
        ])
        state = dict(train_state, elapsed=jnp.asarray(elapsed, jnp.float32))
        if step % study.checkpoint_every == 0 or step == study.steps:
            store.save(step, state)
        _say(f"[{group.key}] step {step}/{study.steps}  loss {np.median(losses):.3e}  "
             f"rel L2 {np.median(errors):.3e} (median of {len(losses)})  {elapsed:.1f} s")
        io_seconds += time.perf_counter() - io_start
    if jax.process_index() == 0:
        atomic_write_text(directory / "FINISHED", json.dumps({"step": step, "wall_s": elapsed, "io_s": io_seconds}))


def run(path, devices=None) -> int:
    """Run (or resume) every group of the study file ``path``; 0 if all finished, else 1."""
    study = load(path)
    if study.distributed:
        jax.distributed.initialize()
    study.output.mkdir(parents=True, exist_ok=True)
    atomic_write_text(study.output / "study.toml", Path(path).read_text())
    results = ResultsTable(study.output / "results.jsonl")
    failures = 0
    for group in study.groups:
        directory = study.output / group.key
        if (directory / "FINISHED").exists():
            _say(f"[{group.key}] finished earlier: skipped")
            continue
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "FAILED").unlink(missing_ok=True)
        try:
            run_group(study, group, results, devices)
        except Exception as err:
            failures += 1
            atomic_write_text(directory / "FAILED", f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}")
            _say(f"[{group.key}] FAILED: {type(err).__name__}: {err}", sys.stderr)
    if failures:
        _say(f"{failures} of {len(study.groups)} groups failed; see FAILED in their folders.", sys.stderr)
    return 1 if failures else 0
