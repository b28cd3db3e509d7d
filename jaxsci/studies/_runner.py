"""Running a study: every group trained as an ensemble, checkpointed, resumable.

``run`` never retrains a finished group (a ``FINISHED`` marker is written atomically last),
resumes an unfinished one from its newest valid checkpoint (dropping the result rows
written after it, or all of the group's rows when no checkpoint is usable, so every
(member, step) row is written exactly once), repairs a results line cut by a crash, and
keeps going when a group fails (``FAILED`` holds the message; the exit code is then 1).
A read-only output is refused before anything runs. A member whose loss or parameters
become non-finite is frozen by ``core.fit``; its last row has ``status = "failed"``, the
last finite loss and error and ``failed_step``, and the other members run to the end.

On a multi-process run (``jax.distributed.initialize``) every process runs the same
groups on a mesh of all processes' devices; host reads go through ``to_host`` (a gather),
process 0 alone writes results, manifests and markers, every process takes part in the
orbax saves, and a failed group stops the run (its peers may be gone).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import time
import traceback
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core._host import to_host
from ._checkpoint import CheckpointStore, atomic_write_text
from ._config import Group, Study, StudyFileError, load
from ._ensemble import Ensemble
from ._results import ResultsTable


def _say(message: str, stream=None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def _check_writable(study: Study) -> None:
    """Refuse up front (before any training) an output folder, group folder or results file
    that cannot be written: a read-only folder would otherwise fail mid-run."""
    paths = [study.output, study.output / "results.jsonl"]
    for group in study.groups:
        directory = study.output / group.key
        paths += [directory, directory / "checkpoints", directory / "FINISHED"]
    for path in paths:
        if not path.exists():
            continue
        write_bit = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        if not os.access(path, os.W_OK) or not path.stat().st_mode & write_bit:
            kind = "folder" if path.is_dir() else "file"
            raise PermissionError(
                f"the study's {kind} {path} is read-only; make it writable (chmod u+w) or set "
                "`study.output` to a writable folder."
            )
    probe = study.output / f".write-probe-{socket.gethostname()}-{jax.process_index()}-{os.getpid()}"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise PermissionError(
            f"cannot write in the study's output folder {study.output} ({err}); set `study.output` "
            "to a writable folder."
        ) from err


def _row(group: Group, member: int, dim: int, **values) -> dict:
    seed, lr = group.members[member]
    settings = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in group.settings}
    return dict(group=group.key, member=member, seed=seed, learning_rate=lr, problem=group.problem,
                dim=dim, backend=group.backend, settings=settings, **values)


def _eta(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def run_group(study: Study, group: Group, results: ResultsTable, devices=None, position=(1, 1)) -> dict:
    """Train (or resume) one group; results rows and checkpoints after every interval.

    Returns ``{member: step}`` of the members whose loss or parameters became non-finite
    (frozen by ``core.fit`` at their last finite state; the others run to the end)."""
    directory = study.output / group.key
    ensemble = Ensemble(study, group, devices)
    state = ensemble.init()
    members = len(group.members)
    primary = jax.process_index() == 0  # one writer on a multi-host run
    store = CheckpointStore(directory / "checkpoints")
    template = dict(state, elapsed=jnp.zeros((), jnp.float32), failed_at=jnp.full((members,), -1, jnp.int32))
    restored = store.latest_valid(ensemble.flatten(template))
    elapsed = 0.0
    failed_at = np.full(members, -1, np.int64)
    step = 0
    if restored is not None:
        step, flat = restored
        elapsed = float(flat.pop("elapsed"))
        failed_at = np.asarray(flat.pop("failed_at"), np.int64)
        state = ensemble.unflatten(flat)
    # rows later than the state we start from are recomputed: drop them first (all of the
    # group's rows when there is no usable checkpoint), so none is written twice
    dropped = results.drop_after(group.key, step) if primary else 0
    if restored is not None:
        _say(f"[{group.key}] resuming from step {step}")
    elif dropped:
        _say(f"[{group.key}] no usable checkpoint: starting again from step 0 ({dropped} rows dropped)")
    failed = False
    try:
        if step >= study.steps:
            _finish(directory, step, elapsed, 0.0, failed_at)
            return _failed(failed_at)
        num_devices = len(ensemble.devices) if ensemble.mesh is not None else 1
        clock = {"start": time.perf_counter(), "io": 0.0, "last": step}

        def after_chunk(done, model, opt_state):
            # called by core.fit after every `eval_every` steps (on the host); the evaluation
            # counts as training time, results, checkpoints and logging as the runner's own
            losses = ensemble.chunk_losses(opt_state, done, done - clock["last"])
            errors = to_host(ensemble.evaluate(model))
            io_start = time.perf_counter()
            train_s = elapsed + (io_start - clock["start"]) - clock["io"]
            previous, clock["last"] = clock["last"], done
            rows = []
            for i in range(members):
                if failed_at[i] >= 0:
                    continue  # failed earlier: its last row is written
                if np.isnan(losses[i]):  # frozen by core.fit in this interval
                    failed_at[i] = done
                    rows.append(_row(group, i, ensemble.problem.dim, step=done, loss=ensemble.last_loss(opt_state, i),
                                     rel_l2=float(errors[i]), wall_s=train_s, devices=num_devices,
                                     status="failed", failed_step=done))
                    _say(f"[{group.key}] member {i} (seed, learning rate) = {group.members[i]}: loss or "
                         f"parameters non-finite between steps {previous} and {done}; "
                         "frozen at its last finite state, the other members go on", sys.stderr)
                else:
                    rows.append(_row(group, i, ensemble.problem.dim, step=done, loss=float(losses[i]), rel_l2=float(errors[i]),
                                     wall_s=train_s, devices=num_devices, status="ok"))
            if primary and rows:
                results.append(rows)
            if done % study.checkpoint_every == 0 or done == study.steps:
                params = eqx.filter(model, eqx.is_inexact_array)
                flat = ensemble.flatten({"params": params, "opt_state": opt_state,
                                         "step": jnp.asarray(done, jnp.int32),
                                         "elapsed": jnp.asarray(train_s, jnp.float32),
                                         "failed_at": jnp.asarray(failed_at, jnp.int32)})
                store.save(done, flat)
            ok = failed_at < 0
            # study-level progress: group i/n, members alive, step, loss, ETA of the whole study
            rate = (done - step) / max(train_s - elapsed, 1e-9)  # steps per second in this session
            left = (study.steps - done) + (position[1] - position[0]) * study.steps
            if primary:  # one progress line per interval, not one per process
                _say(f"[{position[0]}/{position[1]} {group.key}] step {done}/{study.steps}  loss {_median(losses[ok])}  "
                     f"rel L2 {_median(errors[ok])} (median of {int(ok.sum())}/{members} members)  {train_s:.1f} s  "
                     f"ETA {_eta(left / rate) if rate > 0 else '?'}")
            clock["io"] += time.perf_counter() - io_start

        state, out = ensemble.train(state, study.steps - step, checkpoint=after_chunk)
        io_start = time.perf_counter()
        store.finish()  # the last checkpoint complete before FINISHED
        clock["io"] += time.perf_counter() - io_start
        train_s = elapsed + (time.perf_counter() - clock["start"]) - clock["io"]
        _finish(directory, out.num_steps, train_s, clock["io"], failed_at)
        return _failed(failed_at)
    except BaseException:
        failed = True
        raise
    finally:
        store.close(failed=failed)


def _median(values: np.ndarray) -> str:
    return f"{np.median(values):.3e}" if values.size else "-"


def _failed(failed_at: np.ndarray) -> dict:
    return {int(i): int(s) for i, s in enumerate(failed_at) if s >= 0}


def _finish(directory: Path, step: int, wall_s: float, io_s: float, failed_at: np.ndarray) -> None:
    if jax.process_index() == 0:
        atomic_write_text(directory / "FINISHED", json.dumps(
            {"step": step, "wall_s": wall_s, "io_s": io_s, "failed_members": _failed(failed_at)}))


ENV = {"coordinator": "JAX_COORDINATOR_ADDRESS", "num_processes": "JAX_NUM_PROCESSES", "process_id": "JAX_PROCESS_ID"}


def distributed_arguments(study: Study, flags: dict | None = None, environ=None) -> dict:
    """``jax.distributed.initialize`` keywords: each from the command-line ``flags``, else
    the study's ``[devices]`` section, else the environment (:data:`ENV`); the ones left
    unset are for JAX to detect (SLURM, Cloud TPU).

    Example:
        >>> from jaxsci import studies
        >>> study = studies.Study(problem="two_body_poisson", steps=2, eval_every=2, grid={"problem.dim": 2},
        ...                       distributed=True, coordinator="10.0.0.1:1234")
        >>> distributed_arguments(study, {"process_id": 1}, {"JAX_NUM_PROCESSES": "2"})
        {'coordinator_address': '10.0.0.1:1234', 'num_processes': 2, 'process_id': 1}
    """
    environ = os.environ if environ is None else environ
    flags = flags or {}
    names = {"coordinator": "coordinator_address", "num_processes": "num_processes", "process_id": "process_id"}
    out = {}
    for field, keyword in names.items():
        value = flags.get(field)
        if value is None:
            value = getattr(study, field)
        if value is None and environ.get(ENV[field]):
            raw = environ[ENV[field]]
            try:
                value = raw if field == "coordinator" else int(raw)
            except ValueError as err:
                raise StudyFileError(f"environment variable {ENV[field]}={raw!r} must be an integer.") from err
        if value is not None:
            out[keyword] = value
    return out


def run(study, devices=None, flags: dict | None = None) -> int:
    """Run (or resume) every group of ``study`` (a :class:`Study` or the path of a study
    file); 0 if all finished, 1 if a group failed. A read-only output raises
    ``PermissionError`` before anything is trained.

    Example (a Python study of a problem class; see ``docs/studies.md``):
        >>> import tempfile
        >>> from jaxsci import studies
        >>> from jaxsci.pde.classical import Poisson2D
        >>> study = studies.Study(problem=Poisson2D, backend="exact", steps=4, eval_every=2,
        ...                       output=tempfile.mkdtemp(), test_points=16,
        ...                       grid={"seed": [0, 1], "model.width": 4, "model.depth": 1, "batch_size": 8})
        >>> study.groups[0].key, len(study.groups[0].members)
        ('Poisson2D-exact-b8', 2)

        ``studies.run(study)`` then trains both members, writes the results and returns 0.
    """
    path = None if isinstance(study, Study) else Path(study)
    study = study if isinstance(study, Study) else load(study)
    given = [*(flags or {}).values(), study.coordinator, study.num_processes, study.process_id]
    if study.distributed or any(v is not None for v in given):
        jax.distributed.initialize(**distributed_arguments(study, flags))
    if jax.process_count() > 1 and study.shard == "none":
        raise StudyFileError(
            f"devices.shard = \"none\" on a run of {jax.process_count()} processes would train every member "
            "on every process; use \"members\", \"points\" or \"both\" (the mesh then spans every "
            "process's devices)."
        )
    primary = jax.process_index() == 0
    study.output.mkdir(parents=True, exist_ok=True)
    _check_writable(study)
    results = ResultsTable(study.output / "results.jsonl")
    if primary:
        if path is not None:
            atomic_write_text(study.output / "study.toml", path.read_text())
        results.repair()
    failures = 0
    for position, group in enumerate(study.groups, 1):
        directory = study.output / group.key
        if (directory / "FINISHED").exists():
            _say(f"[{group.key}] finished earlier: skipped")
            continue
        directory.mkdir(parents=True, exist_ok=True)
        if primary:
            (directory / "FAILED").unlink(missing_ok=True)
        try:
            failed = run_group(study, group, results, devices, (position, len(study.groups)))
            if failed:
                _say(f"[{group.key}] finished; members {sorted(failed)} failed (non-finite loss): "
                     "see the rows with status \"failed\"", sys.stderr)
        except Exception as err:
            failures += 1
            _say(f"[{group.key}] FAILED: {type(err).__name__}: {err}", sys.stderr)
            if primary:
                try:
                    atomic_write_text(directory / "FAILED", f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}")
                except OSError as write_err:
                    _say(f"[{group.key}] could not write {directory / 'FAILED'}: {write_err}", sys.stderr)
            if jax.process_count() > 1:
                # the group's collectives may have failed because another process is gone: the
                # later groups would wait on it, so the run stops here (rerun it to resume)
                _say("multi-process run: stopping after the failed group; start every process again "
                     "to resume.", sys.stderr)
                break
    if failures:
        _say(f"{failures} of {len(study.groups)} groups failed; see FAILED in their folders.", sys.stderr)
    return 1 if failures else 0
