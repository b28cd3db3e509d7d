"""benchmarks/accelerator/check.py: the report of a passing and of a failing run."""

import json
import subprocess
import sys
from pathlib import Path

import jax
import pytest

REPO = Path(__file__).resolve().parent.parent
CHECK = REPO / "benchmarks" / "accelerator" / "check.py"


def _check(out: Path, test_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECK), "--out", str(out), "--profile", "none", "--workers", "1",
         "--pytest-args", str(test_file), "-p", "no:randomly"],
        capture_output=True, text=True, timeout=600, cwd=REPO)


@pytest.mark.full_precision
def test_full_precision_mark_sets_highest_locally():
    assert str(jax.config.jax_default_matmul_precision) == "highest"


def test_suite_runs_at_the_default_matmul_precision():
    assert jax.config.jax_default_matmul_precision is None


@pytest.mark.heavy
def test_check_reports_device_tests_and_failures(tmp_path):
    tests = tmp_path / "test_sample.py"
    tests.write_text(
        "import jax, jax.numpy as jnp, pytest\n"
        "def test_matmul():\n"
        "    assert float(jnp.ones((3, 3)) @ jnp.ones(3) @ jnp.ones(3)) == 9.0\n"
        "def test_default_precision():\n"
        "    assert jax.config.jax_default_matmul_precision is None\n"
        "@pytest.mark.skip(reason='counted as skipped')\n"
        "def test_skipped():\n"
        "    pass\n")
    done = _check(tmp_path / "ok", tests)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "ok" / "report.md").read_text()
    report = json.loads((tmp_path / "ok" / "report.json").read_text())
    assert report["device"]["backend"] in text and f"jax {report['device']['jax']}" in text
    assert report["tests"]["tests"] == 3 and report["tests"]["failed"] == []
    assert "2 passed, 0 failed, 0 errors, 1 skipped" in text

    tests.write_text("def test_broken():\n    assert 1 == 2\n")
    done = _check(tmp_path / "bad", tests)
    assert done.returncode == 1
    text = (tmp_path / "bad" / "report.md").read_text()
    assert "0 passed, 1 failed" in text and "FAILED" in text and "test_broken" in text
