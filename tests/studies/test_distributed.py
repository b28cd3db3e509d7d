"""Real multi-process runs: two processes on 127.0.0.1 (CPU, gloo collectives) train one
small study through ``python -m jaxsci study run --coordinator ... --num-processes 2
--process-id I``. Each process owns one CPU device, so the group's mesh spans both.

The reference is the same study run by one process on one device (``shard = "none"``).
Rows must be written exactly once (counted from the settings, not read back) and equal the
reference to 1e-5 relative: the two programs are compiled for different shapes (2 members
per device against 4), so float32 results agree to rounding, not bit for bit (measured:
3e-7 after 40 Adam steps, 3e-6 after 1000)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from jaxsci import studies
from jaxsci.studies._results import ResultsTable

ROOT = Path(__file__).parents[2]

STUDY = """
[study]
name = "two-processes"
output = "{output}"

[problem]
name = "two_body_allen_cahn"
dim = 3

[backend]
name = "exact"

[train]
steps = {steps}
learning_rate = [1e-2, 3e-2]
seeds = [0, 1]
batch_size = 16
width = 8
depth = 1
eval_every = {eval_every}
checkpoint_every = {checkpoint_every}
test_points = 64

[devices]
shard = "{shard}"
"""

pytestmark = pytest.mark.heavy


def _study(tmp_path, name, shard, steps=40, eval_every=10, checkpoint_every=20):
    path = tmp_path / f"{name}.toml"
    path.write_text(STUDY.format(output=f"out-{name}", steps=steps, eval_every=eval_every,
                                 checkpoint_every=checkpoint_every, shard=shard))
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env():
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONUNBUFFERED="1")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    return env


def _command(path, port=None, process=None):
    cmd = [sys.executable, "-m", "jaxsci", "study", "run", str(path)]
    if port is not None:
        cmd += ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(process)]
    return cmd


def _start_pair(path, logs):
    port = _free_port()
    return [subprocess.Popen(_command(path, port, i), cwd=ROOT, env=_env(), stdout=open(logs / f"p{i}.log", "w"),
                             stderr=subprocess.STDOUT) for i in (0, 1)]


def _wait(procs, logs, timeout=240):
    for i, proc in enumerate(procs):
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"process {i} did not finish in {timeout} s:\n" + (logs / f"p{i}.log").read_text()[-3000:])
    return [proc.returncode for proc in procs]


def _rows(path):
    study = studies.load(path)
    rows = ResultsTable(study.output / "results.jsonl").rows()
    return study, rows


def _expected(study):
    steps = range(study.eval_every, study.steps + 1, study.eval_every)
    return Counter((g.key, m, s) for g in study.groups for m in range(len(g.members)) for s in steps)


def _compare(rows, reference, rtol):
    ref = {(r["member"], r["step"]): r for r in reference}
    for row in rows:
        expected = ref[(row["member"], row["step"])]
        for field in ("loss", "rel_l2"):
            assert abs(row[field] - expected[field]) <= rtol * abs(expected[field]), (row, expected)


def _single(tmp_path, name, **kw):
    path = _study(tmp_path, name, "none", **kw)
    out = subprocess.run(_command(path), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    return _rows(path)[1]


@pytest.mark.parametrize("shard", ["members", "points"])
def test_two_processes_write_every_row_once_and_equal_one_process(tmp_path, shard):
    reference = _single(tmp_path, "one", steps=40)
    path = _study(tmp_path, "two", shard)
    codes = _wait(_start_pair(path, tmp_path), tmp_path)
    assert codes == [0, 0], [(tmp_path / f"p{i}.log").read_text()[-3000:] for i in (0, 1)]
    study, rows = _rows(path)
    assert Counter((r["group"], r["member"], r["step"]) for r in rows) == _expected(study)
    assert {r["devices"] for r in rows} == {2}  # the mesh spanned both processes
    _compare(rows, reference, rtol=1e-5)
    log0, log1 = (tmp_path / "p0.log").read_text(), (tmp_path / "p1.log").read_text()
    assert "step 40/40" in log0 and "step 40/40" not in log1  # progress from process 0 only


def test_a_run_killed_in_one_process_resumes_with_every_row_once(tmp_path):
    kw = dict(steps=1000, eval_every=50, checkpoint_every=100)
    reference = _single(tmp_path, "one", **kw)
    path = _study(tmp_path, "two", "members", **kw)
    study = studies.load(path)
    group = study.output / study.groups[0].key
    procs = _start_pair(path, tmp_path)
    start = time.time()
    while time.time() - start < 180 and not list(group.glob("checkpoints/step_*/sha256.json")):
        assert all(p.poll() is None for p in procs), [(tmp_path / f"p{i}.log").read_text()[-3000:] for i in (0, 1)]
        time.sleep(0.005)
    procs[1].send_signal(signal.SIGKILL)  # process 1 dies after the first complete checkpoint
    procs[1].wait()
    # process 0 sees its collective fail and exits by itself (it does not wait for the peer
    # at JAX's shutdown barrier)
    assert _wait(procs[:1], tmp_path, timeout=120) == [1]
    assert not (group / "FINISHED").exists()
    assert "FAILED" in (tmp_path / "p0.log").read_text()
    killed_rows = len(_rows(path)[1])
    assert 0 < killed_rows < sum(_expected(study).values())

    codes = _wait(_start_pair(path, tmp_path), tmp_path)
    assert codes == [0, 0], [(tmp_path / f"p{i}.log").read_text()[-3000:] for i in (0, 1)]
    assert "resuming from step" in (tmp_path / "p0.log").read_text()
    assert "resuming from step" in (tmp_path / "p1.log").read_text()
    study, rows = _rows(path)
    assert Counter((r["group"], r["member"], r["step"]) for r in rows) == _expected(study)
    _compare(rows, reference, rtol=1e-4)
    assert json.loads((group / "FINISHED").read_text())["step"] == 1000
