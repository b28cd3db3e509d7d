"""Fixtures for the packaging tests: the built sdist and wheel, and fresh environments.

Everything here runs outside the source tree: the wheel is built from the checkout with
``python -m build`` and installed into virtual environments made from the base
interpreter (not from the environment running the tests), and every command runs in a
temporary folder with ``PYTHONPATH`` removed, so an import that works only from the clone
fails the test.

``colab_stack`` is a stand-in for a Colab runtime: a virtual environment holding only the
packages Colab preinstalls that jaxsci's notebooks rely on (jax, numpy, scipy, matplotlib,
and ipykernel to run them). ``fresh_env`` layers a new, empty environment over it (a
``.pth`` file puts the stack's site-packages on the path, after the environment's own), so
each test installs jaxsci into an environment of its own without reinstalling jax.

The wheel and the stack are made once per test run and shared by the pytest-xdist workers
(a file lock in the run's common temporary folder).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ._envs import COLAB_STACK, INSTALL_TIMEOUT, REPO, make_venv, python_of, run


def _shared(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` once per test run, whichever xdist worker asks first."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base
    target = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            make(target)
            (target / ".complete").touch()
    return target


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """The folder holding the sdist and the wheel built from the checkout."""
    pytest.importorskip("build", reason="the build package is missing: pip install -e '.[test]'")

    def make(folder: Path) -> None:
        run([sys.executable, "-m", "build", "--outdir", str(folder), str(REPO)], cwd=folder,
            timeout=INSTALL_TIMEOUT)

    return _shared(tmp_path_factory, "dist", make)


@pytest.fixture(scope="session")
def wheel(dist) -> Path:
    (path,) = dist.glob("jaxsci-*.whl")
    return path


@pytest.fixture(scope="session")
def colab_stack(tmp_path_factory) -> Path:
    def make(folder: Path) -> None:
        venv = make_venv(folder / "venv")
        run([str(python_of(venv)), "-m", "pip", "install", "--quiet", *COLAB_STACK], cwd=folder,
            timeout=INSTALL_TIMEOUT)

    return _shared(tmp_path_factory, "colab-stack", make) / "venv"


@pytest.fixture
def fresh_env(tmp_path, colab_stack) -> Path:
    """An empty virtual environment over the Colab-like stack, for this test alone."""
    return make_venv(tmp_path / "venv", over=colab_stack)
