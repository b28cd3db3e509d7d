"""Every teaching notebook (notebooks/*.ipynb) runs top to bottom without an error.

The notebooks are executed with nbclient in a python3 kernel of the current environment.
Notebooks that take longer than 90 s on a laptop CPU are listed in SLOW and run only with
``-m slow``. The paired ``.py`` sources (jupytext percent format) are checked to hold the
same cells as the ``.ipynb`` files, and the ``.ipynb`` files to be stored without outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
SLOW: set[str] = set()  # names of notebooks whose run exceeds 90 s
TIMEOUT_PER_CELL = 300


def _params():
    for path in PATHS:
        marks = [pytest.mark.slow] if path.stem in SLOW else []
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_runs(path, tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is missing: pip install -e '.[notebooks]'")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is missing: pip install -e '.[notebooks]'")
    pytest.importorskip("ipykernel", reason="ipykernel is missing: pip install -e '.[notebooks]'")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=TIMEOUT_PER_CELL,
        # ipykernel's "python3" spec names "python", which jupyter_client runs as sys.executable:
        # the kernel uses the environment running the tests
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()


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
