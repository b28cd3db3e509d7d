"""Virtual environments and commands for the packaging and notebook tests (see conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLAB_STACK = ["jax", "numpy", "scipy", "matplotlib", "ipykernel"]
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
INSTALL_TIMEOUT = 900  # seconds for one `pip install` (downloads included)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without anything that puts the checkout on the path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("PYTEST")}
    env.update(extra)
    return env


def run(cmd: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None):
    """Run ``cmd``; on failure, raise with the tail of its output (not just the exit code)."""
    done = subprocess.run(cmd, cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited with {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return done


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def site_packages(venv: Path) -> Path:
    out = run([str(python_of(venv)), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
              cwd=venv, timeout=60)
    return Path(out.stdout.strip())


def make_venv(path: Path, *, over: Path | None = None) -> Path:
    """A new virtual environment of the base interpreter at ``path``, optionally over another."""
    run([BASE_PYTHON, "-m", "venv", str(path)], cwd=path.parent, timeout=300)
    if over is not None:
        (site_packages(path) / "_colab_stack.pth").write_text(f"{site_packages(over)}\n")
    return path


