"""Checkpoints that can be trusted after a crash: orbax directories plus a SHA-256 manifest.

Orbax writes each checkpoint to a temporary directory and renames it when complete. After
that the store writes ``sha256.json`` (atomically) listing every file's hash; a checkpoint
without a manifest, with a file that no longer matches, or that orbax fails to read is
skipped with a warning and the previous one is used. The last ``keep`` checkpoints stay.
Orbax's temporary folders (``step_000000800.orbax-checkpoint-tmp-...``, what a kill during a
save leaves) are never taken for checkpoints and are removed when a store is opened.
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

from ..core._host import to_host

MANIFEST = "sha256.json"
PREFIX = "step_"


def checkpoint_steps(directory: Path) -> list[int]:
    """The steps of the checkpoint folders in ``directory`` (orbax's temporary folders
    and other names ignored), ascending; complete or not."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(int(p.name[len(PREFIX):]) for p in directory.glob(PREFIX + "*")
                  if p.is_dir() and p.name[len(PREFIX):].isdigit())


def complete_steps(directory: Path) -> list[int]:
    """The steps whose checkpoint has its manifest (the save finished), ascending."""
    directory = Path(directory)
    return [s for s in checkpoint_steps(directory) if (directory / f"{PREFIX}{s:09d}" / MANIFEST).is_file()]


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
        self._pending: int | None = None  # the step whose save has not been finished
        if jax.process_index() == 0:  # the remains of a save that was killed
            for tmp in self.directory.glob(PREFIX + "*"):
                if not tmp.name[len(PREFIX):].isdigit():
                    shutil.rmtree(tmp, ignore_errors=True)

    def _path(self, step: int) -> Path:
        return self.directory / f"step_{step:09d}"

    def steps(self) -> list[int]:
        return checkpoint_steps(self.directory)

    def save(self, step: int, state) -> None:
        """Start writing the checkpoint of ``step`` and return: orbax writes it in the
        background while training goes on. Its manifest (what makes it count as complete)
        is written once the write has finished, at the next :meth:`save`, :meth:`finish`
        or :meth:`close`."""
        self.finish()
        host_state = to_host(state)  # whole arrays (restorable on any device count)
        # a folder of this step left by a killed run (no manifest) is replaced; orbax removes
        # it on process 0 and synchronises the processes before writing
        self._checkpointer.save(self._path(step), host_state, force=True)
        self._pending = step

    def finish(self) -> None:
        """Wait for the checkpoint being written, then write its manifest and remove the
        checkpoints older than the last ``keep``."""
        if self._pending is None:
            return
        step, self._pending = self._pending, None
        self._checkpointer.wait_until_finished()
        if jax.process_index() != 0:  # orbax saves collectively; one process writes the manifest
            return
        path = self._path(step)
        atomic_write_text(path / MANIFEST, json.dumps(_hashes(path)))
        for old in self.steps()[: -self.keep]:
            shutil.rmtree(self._path(old), ignore_errors=True)

    def close(self, *, failed: bool = False) -> None:
        """Finish the pending checkpoint (a warning if it cannot be finished), then stop
        orbax's background threads (a process must not hang on them after an error).

        ``failed=True`` (the run is stopping on an error): on a multi-process run the pending
        checkpoint is abandoned rather than finished, since finishing waits at a barrier for
        every process and one that failed may never arrive; it has no manifest, so it is
        never resumed from."""
        try:
            if failed and jax.process_count() > 1:
                self._pending = None
            self.finish()
        except Exception as err:  # the checkpoint stays without a manifest: never used
            warnings.warn(f"the checkpoint being written could not be finished: {type(err).__name__}: {err}",
                          stacklevel=2)
        finally:
            self._checkpointer.close()

    def latest_valid(self, template):
        """``(step, state)`` of the newest checkpoint that verifies and restores, else ``None``.

        On a multi-process run every process checks the (shared) folder and the choice of
        process 0 is broadcast: a process that would resume from another step (a folder
        that is not shared, or not yet visible on its host) raises instead of diverging."""
        found = self._newest_valid(to_host(template))
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            mine = -1 if found is None else found[0]
            chosen = int(multihost_utils.broadcast_one_to_all(np.int32(mine)))
            if chosen != mine:
                raise RuntimeError(
                    f"process {jax.process_index()} would resume {self.directory} from step {mine} (-1: none) "
                    f"but process 0 from step {chosen}: the study's output folder must be one shared "
                    "filesystem that every process sees the same way")
        return found

    def _newest_valid(self, target):
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
