"""Every teaching notebook (notebooks/*.ipynb) runs top to bottom without an error.

Each notebook is executed by nbclient in a python3 kernel of the environment running the
tests (ipykernel's "python3" spec starts ``python``, which jupyter_client maps to
``sys.executable``), in a child process of its own. The selected notebooks are started
together, two at a time, when the first of them is tested, so their compilations overlap;
under pytest-xdist each worker runs only its own notebooks. Notebooks that take longer than
90 s on a laptop CPU are listed in SLOW and run only with ``-m slow``.

The paired ``.py`` sources (jupytext percent format) must hold the same cells as the
``.ipynb`` files, and the ``.ipynb`` files must be stored without outputs.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
SLOW: set[str] = set()  # names of notebooks whose run exceeds 90 s
CELL_TIMEOUT = 300  # seconds for one cell
NOTEBOOK_TIMEOUT = 600  # seconds for a whole notebook, kernel start included
WORKERS = 2

RUNNER = """
import sys
import nbclient, nbformat
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=int(sys.argv[2]), kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[3]}}).execute()
"""


def _execute(path: Path, workdir: Path) -> tuple[int, str, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(path), str(CELL_TIMEOUT), str(workdir)],
            capture_output=True, text=True, timeout=NOTEBOOK_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return -1, f"{path.name} did not finish within {NOTEBOOK_TIMEOUT} s", NOTEBOOK_TIMEOUT
    return done.returncode, done.stderr, time.perf_counter() - start


class _Runs:
    """Notebook executions in child processes, at most WORKERS at a time."""

    def __init__(self, tmp_path_factory):
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS)
        self._futures: dict[Path, concurrent.futures.Future] = {}
        self._tmp = tmp_path_factory

    def submit(self, path: Path) -> None:
        if path not in self._futures:
            workdir = self._tmp.mktemp(path.stem)
            self._futures[path] = self._pool.submit(_execute, path, workdir)

    def result(self, path: Path) -> tuple[int, str, float]:
        self.submit(path)
        return self._futures[path].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def notebook_runs(request, tmp_path_factory):
    pytest.importorskip("nbformat", reason="nbformat is missing: pip install -e '.[notebooks]'")
    pytest.importorskip("nbclient", reason="nbclient is missing: pip install -e '.[notebooks]'")
    pytest.importorskip("ipykernel", reason="ipykernel is missing: pip install -e '.[notebooks]'")
    runs = _Runs(tmp_path_factory)
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process sees every selected test
        for item in request.session.items:
            if getattr(item, "originalname", None) == "test_notebook_runs":
                runs.submit(item.callspec.params["path"])
    yield runs
    runs.close()


def _params():
    for path in PATHS:
        marks = [pytest.mark.slow] if path.stem in SLOW else []
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.heavy
@pytest.mark.parametrize("path", list(_params()))
def test_notebook_runs(path, notebook_runs, record_property):
    returncode, stderr, seconds = notebook_runs.result(path)
    record_property("notebook_seconds", round(seconds, 1))
    print(f"{path.name} ran in {seconds:.1f} s")
    assert returncode == 0, f"{path.name} failed:\n{stderr[-6000:]}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_paired_and_clear(path):
    jupytext = pytest.importorskip("jupytext", reason="jupytext is missing: pip install -e '.[notebooks]'")
    stored = json.loads(path.read_text())
    assert all(not cell.get("outputs") and not cell.get("execution_count")
               for cell in stored["cells"] if cell["cell_type"] == "code"), (
        f"{path.name} holds outputs: regenerate it with `jupytext --sync {path.with_suffix('.py')}`")
    source = jupytext.read(path.with_suffix(".py"))
    ipynb = jupytext.read(path)
    assert [c.source for c in source.cells] == [c.source for c in ipynb.cells], (
        f"{path.name} and its .py source differ: run `jupytext --sync {path.with_suffix('.py')}`")
