"""The built distributions: their metadata, and the wheel installed and used outside the clone.

A user's ``pip install jaxsci`` gets the wheel and nothing else of the repository. These
tests build it (``python -m build``), check what it carries, install it into a fresh
environment over the Colab-like stack (see conftest.py), and from a temporary folder import
every subpackage, run the quick demo and one example script. They take about two CPU
minutes (the build, one install, the demo's compilations), so they run in CI's heavy step.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tomllib
import zipfile

import pytest

from ._envs import INSTALL_TIMEOUT, REPO, python_of, run

pytestmark = pytest.mark.heavy

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
EXAMPLE = "taylor_operators.py"  # an example that needs only the package itself


def test_wheel_carries_metadata_license_and_type_marker(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    assert "jaxsci/py.typed" in names, "the wheel must ship py.typed (PEP 561)"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "notebooks/")) for n in names)
    assert f"Version: {PYPROJECT['project']['version']}" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    for label, url in PYPROJECT["project"]["urls"].items():
        assert f"Project-URL: {label}, {url}" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    for extra in ("demo", "datasets"):
        assert f"Provides-Extra: {extra}" in metadata


def test_sdist_holds_the_sources_and_the_license(dist):
    (sdist,) = dist.glob("jaxsci-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "jaxsci/__init__.py", "jaxsci/py.typed"} <= names


def test_wheel_installs_and_runs_outside_the_source_tree(wheel, fresh_env, tmp_path):
    python = str(python_of(fresh_env))
    work = tmp_path / "work"
    work.mkdir()
    run([python, "-m", "pip", "install", "--quiet", str(wheel)], cwd=work, timeout=INSTALL_TIMEOUT)
    run([python, "-m", "pip", "check"], cwd=work, timeout=120)

    # every subpackage imports from the installed copy, not from the clone
    probe = run([python, "-c", (
        "import importlib, json, jaxsci\n"
        "mods = [importlib.import_module(f'jaxsci.{n}') for n in jaxsci.__all__ if n != '__version__']\n"
        "print(json.dumps({'file': jaxsci.__file__, 'version': jaxsci.__version__,\n"
        "                  'modules': [m.__name__ for m in mods]}))")], cwd=work, timeout=300)
    info = json.loads(probe.stdout.strip().splitlines()[-1])
    assert info["file"].startswith(str(fresh_env)), info["file"]
    assert not info["file"].startswith(str(REPO))
    assert info["version"] == PYPROJECT["project"]["version"]
    assert {"jaxsci.core", "jaxsci.taylor", "jaxsci.pde", "jaxsci.pinn", "jaxsci.spectral",
            "jaxsci.teng", "jaxsci.diffusion", "jaxsci.nde", "jaxsci.studies"} <= set(info["modules"])

    # the quick demo of every family, from the command line
    run([python, "-m", "jaxsci", "demo", "--quick", "--out", str(work / "demo")], cwd=work,
        timeout=900)
    summary = json.loads((work / "demo" / "summary.json").read_text())
    assert summary["failed"] == [] and len({r["family"] for r in summary["rows"]}) >= 6

    # one example script, copied out of the repository
    shutil.copy(REPO / "examples" / EXAMPLE, work / EXAMPLE)
    run([python, EXAMPLE], cwd=work, timeout=600)
