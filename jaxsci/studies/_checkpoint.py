"""Checkpoints that can be trusted after a crash: orbax directories plus a SHA-256 manifest.

Orbax writes each checkpoint to a temporary directory and renames it when complete. After
that the store writes ``sha256.json`` (atomically) listing every file's hash; a checkpoint
without a manifest, with a file that no longer matches, or that orbax fails to read is
skipped with a warning and the previous one is used. The last ``keep`` checkpoints stay.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

MANIFEST = "sha256.json"


def _hashes(directory: Path) -> dict[str, str]:
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            out[str(path.relative_to(directory))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsync and rename."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class CheckpointStore:
    def __init__(self, directory: Path, keep: int = 3):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._checkpointer = ocp.StandardCheckpointer()

    def _path(self, step: int) -> Path:
        return self.directory / f"step_{step:09d}"

    def steps(self) -> list[int]:
        return sorted(int(p.name[5:]) for p in self.directory.glob("step_*") if p.name[5:].isdigit())

    def save(self, step: int, state) -> None:
        path = self._path(step)
        if path.exists():
            shutil.rmtree(path)
        host_state = jax.tree_util.tree_map(np.asarray, state)
        self._checkpointer.save(path, host_state)
        self._checkpointer.wait_until_finished()
        if jax.process_index() != 0:  # orbax saves collectively; one process writes the manifest
            return
        atomic_write_text(path / MANIFEST, json.dumps(_hashes(path)))
        for old in self.steps()[: -self.keep]:
            shutil.rmtree(self._path(old), ignore_errors=True)

    def latest_valid(self, template):
        """``(step, state)`` of the newest checkpoint that verifies and restores, else ``None``."""
        target = jax.tree_util.tree_map(np.asarray, template)
        for step in reversed(self.steps()):
            path = self._path(step)
            reason = None
            manifest = path / MANIFEST
            if not manifest.exists():
                reason = "it has no manifest (the save did not finish)"
            elif json.loads(manifest.read_text()) != _hashes(path):
                reason = "its files do not match their SHA-256 manifest"
            else:
                try:
                    return step, self._checkpointer.restore(path, target)
                except Exception as err:
                    reason = f"orbax could not restore it ({type(err).__name__}: {err})"
            warnings.warn(f"checkpoint {path} is unusable: {reason}; trying the previous one.", stacklevel=2)
        return None
