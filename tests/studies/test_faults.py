"""Fault tolerance of the study runner: whatever a crash leaves, the next run gives exactly
one results row per (member, step) or stops at once with a clear error.

The expected rows are counted from the study's settings (members x evaluation steps),
never read back from the runner. The cheap checks (file repairs, status, read-only
folders) run in the default suite; the ones that train are heavy."""

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import studies
from jaxsci.studies import _cli, _runner
from jaxsci.studies._checkpoint import MANIFEST
from jaxsci.studies._ensemble import Ensemble, loss_log
from jaxsci.studies._results import ResultsTable

ROOT = Path(__file__).parents[2]

SMALL = """
[study]
name = "faults"
output = "out"

[problem]
name = "two_body_allen_cahn"
dim = {dim}

[backend]
name = "exact"

[train]
steps = {steps}
learning_rate = {lrs}
seeds = [0, 1]
batch_size = 8
width = 4
depth = 1
eval_every = 20
checkpoint_every = {checkpoint_every}
test_points = 50

[devices]
shard = "none"
"""


def _write(tmp_path, dim=2, steps=60, lrs="[1e-3, 1e-1]", checkpoint_every=20):
    path = tmp_path / "study.toml"
    path.write_text(SMALL.format(dim=dim, steps=steps, lrs=lrs, checkpoint_every=checkpoint_every))
    return path


def _expected(study):
    """Every (group, member, step) row a complete run writes, from the settings alone."""
    steps = range(study.eval_every, study.steps + 1, study.eval_every)
    return Counter((g.key, m, s) for g in study.groups for m in range(len(g.members)) for s in steps)


def _rows(study):
    return Counter((r["group"], r["member"], r["step"])
                   for r in ResultsTable(study.output / "results.jsonl").rows())


def _row(group, member, step, loss=1.0):
    return {"group": group, "member": member, "step": step, "loss": loss}


# ---- default suite: no training ------------------------------------------------------

def test_a_cut_last_line_is_dropped_with_a_warning_and_the_next_append_starts_a_new_line(tmp_path):
    table = ResultsTable(tmp_path / "results.jsonl")
    table.append([_row("g", 0, 20), _row("g", 1, 20)])
    text = (tmp_path / "results.jsonl").read_text()
    (tmp_path / "results.jsonl").write_text(text[:-7])  # a kill in the middle of the second row
    with pytest.warns(UserWarning, match="dropped 1 cut or unreadable line"):
        assert table.repair() == 1
    table.append([_row("g", 1, 20)])
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["member"] for line in lines] == [0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert table.repair() == 0  # an intact file is left alone, silently


def test_drop_after_zero_removes_every_row_of_that_group_only(tmp_path):
    table = ResultsTable(tmp_path / "results.jsonl")
    table.append([_row("a", 0, 20), _row("a", 0, 40), _row("b", 0, 20), _row("b", 0, 40)])
    assert table.drop_after("a", 0) == 2
    assert [(r["group"], r["step"]) for r in table.rows()] == [("b", 20), ("b", 40)]
    assert table.drop_after("b", 20) == 1
    assert [(r["group"], r["step"]) for r in table.rows()] == [("b", 20)]


def test_status_reads_what_a_kill_during_a_checkpoint_write_leaves(tmp_path):
    path = _write(tmp_path)
    study = studies.load(path)
    group = study.groups[0]
    checkpoints = study.output / group.key / "checkpoints"
    # orbax's temporary folder, and a renamed checkpoint whose manifest was never written
    (checkpoints / "step_000000040.orbax-checkpoint-tmp-1733100000").mkdir(parents=True)
    (checkpoints / "step_000000020").mkdir()
    ResultsTable(study.output / "results.jsonl").append([_row(group.key, m, 20) for m in range(4)])
    with (study.output / "results.jsonl").open("a") as fh:
        fh.write('{"group": "cut')
    text = studies.status(path)
    assert "in progress: step 20/60 in the results, checkpoint at step none yet" in text
    (checkpoints / "step_000000020" / MANIFEST).write_text("{}")
    assert "checkpoint at step 20" in studies.status(path)


def test_a_read_only_group_folder_is_refused_before_anything_runs(tmp_path, capsys):
    path = _write(tmp_path)
    study = studies.load(path)
    directory = study.output / study.groups[0].key
    directory.mkdir(parents=True)
    results = study.output / "results.jsonl"
    results.write_text(json.dumps(_row(study.groups[0].key, 0, 20)) + "\n")
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(PermissionError, match="is read-only; make it writable"):
            studies.run(path)
        code = _cli.main(type("Args", (), {"action": "run", "file": str(path)})())
    finally:
        directory.chmod(stat.S_IRWXU)
    assert code == 2 and "read-only" in capsys.readouterr().out
    assert results.read_text() == json.dumps(_row(study.groups[0].key, 0, 20)) + "\n"  # untouched
    assert not (directory / "FAILED").exists() and not (study.output / "study.toml").exists()


# ---- heavy: runs that train ----------------------------------------------------------

class _Interrupted(BaseException):
    """Stands for a kill: not an Exception, so the runner does not catch it."""


@pytest.mark.heavy
def test_crash_before_the_first_checkpoint_damaged_checkpoints_and_a_cut_line(tmp_path, monkeypatch):
    path = _write(tmp_path, checkpoint_every=40)
    study = studies.load(path)
    group = study.groups[0]
    checkpoints = study.output / group.key / "checkpoints"
    original = _runner.CheckpointStore.save

    def killed_during_the_first_save(self, step, state):
        # what a kill in the middle of orbax's write leaves: its temporary folder only
        (self.directory / f"step_{step:09d}.orbax-checkpoint-tmp-1").mkdir()
        (self.directory / f"step_{step:09d}.orbax-checkpoint-tmp-1" / "partial").write_bytes(b"\0")
        raise _Interrupted

    monkeypatch.setattr(_runner.CheckpointStore, "save", killed_during_the_first_save)
    with pytest.raises(_Interrupted):
        studies.run(path)
    assert sum(_rows(study).values()) == 2 * 4  # steps 20 and 40 written, no checkpoint
    assert "checkpoint at step none yet" in studies.status(path)
    monkeypatch.setattr(_runner.CheckpointStore, "save", original)
    assert studies.run(path) == 0
    assert _rows(study) == _expected(study)
    assert not list(checkpoints.glob("*tmp*"))

    # one file damaged in every kept checkpoint: start again from 0, dropping every row
    (study.output / group.key / "FINISHED").unlink()
    for step in (40, 60):
        victim = max((p for p in (checkpoints / f"step_{step:09d}").rglob("*") if p.is_file()
                      and p.name != MANIFEST), key=lambda p: p.stat().st_size)
        victim.unlink()
    with pytest.warns(UserWarning, match="unusable"):
        assert studies.run(path) == 0
    assert _rows(study) == _expected(study)

    # the newest checkpoint damaged and the last results line cut: resume from the one
    # before, the cut line dropped with a warning
    (study.output / group.key / "FINISHED").unlink()
    (checkpoints / "step_000000060" / MANIFEST).unlink()
    text = (study.output / "results.jsonl").read_text()
    (study.output / "results.jsonl").write_text(text[:-10])
    with pytest.warns(UserWarning) as record:
        assert studies.run(path) == 0
    messages = " ".join(str(w.message) for w in record)
    assert "cut or unreadable" in messages and "no manifest" in messages
    assert _rows(study) == _expected(study)


def _poison(learning_rate, at: int):
    """An identity optax transformation that makes the updates NaN at step ``at`` for a
    member whose learning rate is above 0.05 (the rate is captured in its state)."""

    def init(params):
        return {"count": jnp.zeros((), jnp.int32), "lr": jnp.asarray(learning_rate, jnp.float32)}

    def update(updates, state, params=None, **extra):
        bad = (state["count"] == at) & (state["lr"] > 0.05)
        updates = jax.tree_util.tree_map(lambda u: jnp.where(bad, jnp.nan, u), updates)
        return updates, {"count": state["count"] + 1, "lr": state["lr"]}

    return optax.GradientTransformationExtraArgs(init, update)


class _Poisoned(Ensemble):
    def _optimizer(self, learning_rate):
        return optax.chain(
            _poison(learning_rate, 30),
            optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate),
            optax.scale_by_schedule(optax.linear_schedule(1.0, 0.0, self.study.steps)),
            loss_log(self.study.eval_every),
        )


@pytest.mark.heavy
def test_a_nan_member_is_frozen_and_marked_failed_while_the_others_finish(tmp_path, monkeypatch):
    monkeypatch.setattr(_runner, "Ensemble", _Poisoned)
    path = _write(tmp_path, lrs="[1e-3, 1e-1]")  # members (seed, lr): (0, 1e-3) (0, 0.1) (1, 1e-3) (1, 0.1)
    study = studies.load(path)
    assert studies.run(path) == 0
    rows = ResultsTable(study.output / "results.jsonl").rows()
    by = {(r["member"], r["step"]): r for r in rows}
    assert len(by) == len(rows)
    for member in (0, 2):  # healthy: every step, finite
        assert [by[(member, s)]["status"] for s in (20, 40, 60)] == ["ok"] * 3
        assert all(np.isfinite(by[(member, s)]["loss"]) for s in (20, 40, 60))
    for member in (1, 3):  # NaN at step 31: frozen at step 20, failed row at 40, then nothing
        assert (member, 60) not in by
        failed, last = by[(member, 40)], by[(member, 20)]
        assert failed["status"] == "failed" and failed["failed_step"] == 40 and last["status"] == "ok"
        assert failed["loss"] == pytest.approx(last["loss"], rel=1e-6)  # its last finite values
        assert failed["rel_l2"] == pytest.approx(last["rel_l2"], rel=1e-6)
    finished = json.loads((study.output / study.groups[0].key / "FINISHED").read_text())
    assert finished["failed_members"] == {"1": 40, "3": 40}
    assert "2 of 4 members failed" in studies.status(path)
    assert "failed at step 40" in studies.report(path)


def _kill_at(proc, checkpoints: Path, moment) -> str:
    """SIGKILL ``proc`` during a checkpoint write (``moment == "save"``: as soon as orbax's
    temporary folder appears) or ``moment`` seconds after its start."""
    start = time.time()
    while proc.poll() is None and time.time() - start < 120:
        if moment == "save" and checkpoints.is_dir() and any("tmp" in p.name for p in checkpoints.iterdir()):
            break
        if moment != "save" and time.time() - start >= moment:
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        return "finished before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return "killed"


@pytest.mark.heavy
def test_sigkill_at_random_moments_keeps_every_row_exactly_once(tmp_path):
    path = _write(tmp_path, steps=400, checkpoint_every=40)
    study = studies.load(path)
    checkpoints = study.output / study.groups[0].key / "checkpoints"
    cmd = [sys.executable, "-m", "jaxsci", "study", "run", str(path)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    rng = random.Random(18)
    moments = ["save", rng.uniform(4.0, 14.0), "save", rng.uniform(8.0, 16.0)]
    outcomes = []
    for moment in moments:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        outcomes.append((moment, _kill_at(proc, checkpoints, moment)))
    assert sum(o == "killed" for _, o in outcomes) >= 3, outcomes
    final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    assert _rows(study) == _expected(study), outcomes
