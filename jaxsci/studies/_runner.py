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

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core import RESULTS
from ._checkpoint import CheckpointStore, atomic_write_text
from ._config import Group, Study, load
from ._ensemble import Ensemble
from ._results import ResultsTable


def _say(message: str, stream=None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def run_group(study: Study, group: Group, results: ResultsTable, devices=None) -> None:
    """Train (or resume) one group; results rows and checkpoints after every interval."""
    directory = study.output / group.key
    ensemble = Ensemble(study, group, devices)
    state = ensemble.init()
    store = CheckpointStore(directory / "checkpoints")
    restored = store.latest_valid(ensemble.flatten(dict(state, elapsed=jnp.zeros((), jnp.float32))))
    elapsed = 0.0
    if restored is not None:
        step, flat = restored
        elapsed = float(flat.pop("elapsed"))
        state = ensemble.unflatten(flat)
        results.drop_after(group.key, step)
        _say(f"[{group.key}] resuming from step {step}")
    step = int(state["step"])
    if step >= study.steps:
        _finish(directory, step, elapsed, 0.0)
        return
    num_devices = len(ensemble.devices) if ensemble.mesh is not None else 1
    primary = jax.process_index() == 0  # one writer on a multi-host run
    clock = {"start": time.perf_counter(), "io": 0.0, "last": step}

    def after_chunk(done, model, opt_state):
        # called by core.fit after every `eval_every` steps (on the host); the evaluation
        # counts as training time, results, checkpoints and logging as the runner's own
        losses = ensemble.chunk_losses(opt_state, done, done - clock["last"])
        errors = np.where(np.isnan(losses), np.nan, np.asarray(ensemble.evaluate(model)))
        io_start = time.perf_counter()
        train_s = elapsed + (io_start - clock["start"]) - clock["io"]
        clock["last"] = done
        if primary:
            results.append([
                dict(group=group.key, member=i, seed=seed, learning_rate=lr, problem=group.problem, dim=group.dim,
                     backend=group.backend, step=done, loss=float(losses[i]), rel_l2=float(errors[i]),
                     wall_s=train_s, devices=num_devices)
                for i, (seed, lr) in enumerate(group.members)
            ])
        if done % study.checkpoint_every == 0 or done == study.steps:
            params = eqx.filter(model, eqx.is_inexact_array)
            flat = ensemble.flatten({"params": params, "opt_state": opt_state,
                                     "step": jnp.asarray(done, jnp.int32),
                                     "elapsed": jnp.asarray(train_s, jnp.float32)})
            store.save(done, flat)
        _say(f"[{group.key}] step {done}/{study.steps}  loss {np.nanmedian(losses):.3e}  "
             f"rel L2 {np.nanmedian(errors):.3e} (median of {len(losses)})  {train_s:.1f} s")
        clock["io"] += time.perf_counter() - io_start

    state, out = ensemble.train(state, study.steps - step, checkpoint=after_chunk)
    ok = np.atleast_1d(np.asarray(out.result == RESULTS.successful))
    failed = [i for i in range(len(ok)) if not ok[i]]
    if failed:
        raise FloatingPointError(
            f"the loss or the parameters became NaN or infinite by step {out.num_steps} for members {failed} "
            f"(seed, learning rate) = {[group.members[i] for i in failed]}; lower the learning rate."
        )
    train_s = elapsed + (time.perf_counter() - clock["start"]) - clock["io"]
    _finish(directory, out.num_steps, train_s, clock["io"])


def _finish(directory: Path, step: int, wall_s: float, io_s: float) -> None:
    if jax.process_index() == 0:
        atomic_write_text(directory / "FINISHED", json.dumps({"step": step, "wall_s": wall_s, "io_s": io_s}))


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
