"""The results table: one JSON line per (group, member, evaluation), appended durably.

A crash can leave the file in two states that :meth:`ResultsTable.repair` (called before
a run appends anything) puts right: a last line cut mid-write (dropped, with a warning:
its rows are recomputed after the resume) and rows later than the checkpoint a group
resumes from (:meth:`ResultsTable.drop_after`). Both rewrite the file atomically.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from ._checkpoint import atomic_write_text


def _parse(line: str):
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None
    return row if isinstance(row, dict) else None


class ResultsTable:
    def __init__(self, path: Path):
        self.path = Path(path)

    def rows(self) -> list[dict]:
        """The complete rows (a cut or unreadable line is left out)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            if line.strip() and (row := _parse(line)) is not None:
                out.append(row)
        return out

    def repair(self) -> int:
        """Drop cut or unreadable lines (a crash during an append) with a warning, so that
        the next append starts on a fresh line; returns how many were dropped."""
        if not self.path.exists():
            return 0
        text = self.path.read_text()
        lines = [line for line in text.splitlines() if line.strip()]
        good = [line for line in lines if _parse(line) is not None]
        bad = len(lines) - len(good)
        if bad or (text and not text.endswith("\n")):
            warnings.warn(
                f"{self.path}: dropped {bad} cut or unreadable line(s) (an interrupted write); "
                "their rows are recomputed when the run resumes.", stacklevel=2)
            atomic_write_text(self.path, "".join(line + "\n" for line in good))
        return bad

    def append(self, rows: list[dict]) -> None:
        with open(self.path, "a") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in rows))
            fh.flush()
            os.fsync(fh.fileno())

    def drop_after(self, group: str, step: int) -> int:
        """Remove ``group``'s rows later than ``step`` (they will be recomputed) and any cut
        line, atomically; returns how many rows were removed."""
        if not self.path.exists():
            return 0
        text = self.path.read_text()
        rows = self.rows()
        kept = [r for r in rows if not (r.get("group") == group and r.get("step", 0) > step)]
        lines = [line for line in text.splitlines() if line.strip()]
        if len(kept) != len(rows) or len(lines) != len(rows) or (text and not text.endswith("\n")):
            atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        return len(rows) - len(kept)
