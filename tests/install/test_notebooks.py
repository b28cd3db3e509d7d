"""Every teaching notebook (notebooks/*.ipynb) runs top to bottom in a Colab-like kernel.

Each notebook runs in an environment of its own that holds only Colab's usual stack (jax,
numpy, scipy, matplotlib, ipykernel: conftest.py's ``colab_stack``) until the notebook's
first cell installs jaxsci and its extras, from the wheel built from this checkout
(``JAXSCI_PIP_SOURCE``). So a missing dependency, a broken install cell or an import that
works only from the clone fails the test. nbclient runs the notebook in a kernel started
from that environment; two notebooks run at a time, started together when the first is
tested, so their installs and compilations overlap; under pytest-xdist each worker runs
only its own notebooks. ``JAXSCI_NOTEBOOK_KERNEL=current`` runs them in the environment of
the tests instead (no install: a quicker check while editing a notebook).

A notebook must finish its cells after the install within ``BUDGET`` seconds (3 minutes on
a 2-core CPU, doubled because two notebooks share the cores) and draw at least one figure.

The paired ``.py`` sources (jupytext percent format) must hold the same cells as the
``.ipynb`` files, and the ``.ipynb`` files must be stored without outputs; every notebook's
set-up cell is the same code (only its extras differ), with an "Open in Colab" link built
from the repository URL in pyproject.toml.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from ._envs import REPO, clean_env, make_venv, python_of

NOTEBOOKS = REPO / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
SLOW: set[str] = set()  # names of notebooks whose run exceeds the budget (run with -m slow)
CELL_TIMEOUT = 600  # seconds for one cell (the install cell included)
NOTEBOOK_TIMEOUT = 1200  # seconds for a whole notebook, kernel start and install included
BUDGET = 2 * 180  # seconds for the cells after the install, two notebooks sharing 2 cores
WORKERS = 2
IN_CURRENT_ENV = os.environ.get("JAXSCI_NOTEBOOK_KERNEL") == "current"

RUNNER = """
import json, sys
import nbclient, nbformat
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=int(sys.argv[2]), kernel_name=sys.argv[4],
                        resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(notebook, sys.argv[5])
"""


def _kernel(venv: Path, folder: Path) -> dict[str, str]:
    """A kernel spec starting ``venv``'s Python; returns the environment that finds it."""
    spec = folder / "kernels" / "colab-like"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python_of(venv)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}))
    return {"JUPYTER_PATH": str(folder)}


def _cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    begin, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (begin and end):
        return 0.0
    from datetime import datetime

    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(begin.replace("Z", "+00:00"))).total_seconds()


def _execute(path: Path, workdir: Path, wheel: Path | None, stack: Path | None) -> dict:
    """Run one notebook; returns its exit code, stderr, and timings from the executed cells."""
    start = time.perf_counter()
    executed = workdir / f"executed-{path.name}"
    if IN_CURRENT_ENV:
        env, kernel = clean_env(), "python3"
    else:
        venv = make_venv(workdir / "venv", over=stack)
        env = clean_env(JAXSCI_PIP_SOURCE=str(wheel), **_kernel(venv, workdir / "jupyter"))
        kernel = "colab-like"
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(path), str(CELL_TIMEOUT), str(workdir), kernel,
             str(executed)],
            capture_output=True, text=True, timeout=NOTEBOOK_TIMEOUT, env=env, cwd=workdir,
        )
    except subprocess.TimeoutExpired:
        return dict(returncode=-1, stderr=f"{path.name} did not finish within {NOTEBOOK_TIMEOUT} s",
                    total=NOTEBOOK_TIMEOUT, install=0.0, figures=0)
    result = dict(returncode=done.returncode, stderr=done.stderr, total=time.perf_counter() - start,
                  install=0.0, figures=0)
    if done.returncode == 0:
        code = [c for c in json.loads(executed.read_text())["cells"] if c["cell_type"] == "code"]
        result["install"] = _cell_seconds(code[0])
        result["cells"] = sum(_cell_seconds(c) for c in code[1:])
        result["figures"] = sum("image/png" in out.get("data", {})
                                for c in code for out in c.get("outputs", []))
    return result


class _Runs:
    """Notebook executions in child processes, at most WORKERS at a time."""

    def __init__(self, tmp_path_factory, wheel, stack):
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS)
        self._futures: dict[Path, concurrent.futures.Future] = {}
        self._tmp, self._wheel, self._stack = tmp_path_factory, wheel, stack

    def submit(self, path: Path) -> None:
        if path not in self._futures:
            workdir = self._tmp.mktemp(path.stem)
            self._futures[path] = self._pool.submit(_execute, path, workdir, self._wheel, self._stack)

    def result(self, path: Path) -> dict:
        self.submit(path)
        return self._futures[path].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def notebook_runs(request, tmp_path_factory):
    pytest.importorskip("nbformat", reason="nbformat is missing: pip install -e '.[notebooks]'")
    pytest.importorskip("nbclient", reason="nbclient is missing: pip install -e '.[notebooks]'")
    if IN_CURRENT_ENV:
        pytest.importorskip("ipykernel", reason="ipykernel is missing: pip install -e '.[notebooks]'")
        wheel = stack = None
    else:
        wheel = request.getfixturevalue("wheel")
        stack = request.getfixturevalue("colab_stack")
    runs = _Runs(tmp_path_factory, wheel, stack)
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
    run = notebook_runs.result(path)
    assert run["returncode"] == 0, f"{path.name} failed:\n{run['stderr'][-6000:]}"
    for name in ("total", "install", "cells"):
        record_property(f"notebook_{name}_seconds", round(run[name], 1))
    print(f"{path.name}: install cell {run['install']:.1f} s, other cells {run['cells']:.1f} s, "
          f"{run['figures']} figures")
    assert run["cells"] <= BUDGET, (
        f"{path.name} took {run['cells']:.0f} s after its install cell (budget {BUDGET} s): "
        "make it smaller, or list it in SLOW")
    assert run["figures"] >= 1, f"{path.name} drew no figure"


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


REPOSITORY = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
COLAB = REPOSITORY.replace("https://github.com/", "https://colab.research.google.com/github/")


def _setup_cell(source: str) -> str:
    source = re.sub(r'EXTRAS, NEEDED = .*\n', "EXTRAS, NEEDED = ...\n", source)
    return re.sub(r'"\.\[[a-z,]+\]"', '".[...]"', source)


def test_notebooks_share_one_setup_cell_and_link_to_colab():
    import nbformat

    setups = {}
    for path in PATHS:
        cells = nbformat.read(path, as_version=4).cells
        title, setup = cells[0].source, next(c for c in cells if c.cell_type == "code").source
        link = f"{COLAB}/blob/main/notebooks/{path.name}"
        assert f"[Open in Colab]({link})" in title, f"{path.name}: the Colab link must be {link}"
        assert "JAXSCI_PIP_SOURCE" in setup and "pip" in setup, f"{path.name}: no install cell"
        setups[path.name] = _setup_cell(setup)
    assert len(set(setups.values())) == 1, (
        "every notebook's first code cell must be the same set-up code (only EXTRAS and NEEDED "
        f"differ); these differ: {sorted(setups)}")


def test_readme_links_every_notebook_to_colab():
    readme = (REPO / "README.md").read_text()
    for path in PATHS:
        link = f"{COLAB}/blob/main/notebooks/{path.name}"
        assert link in readme, f"README.md lacks the Colab link {link}"
