"""The results table: one JSON line per (group, member, evaluation), appended durably."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._checkpoint import atomic_write_text


class ResultsTable:
    def __init__(self, path: Path):
        self.path = Path(path)

    def rows(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a crash mid-write: dropped, recomputed
                continue
        return out

    def append(self, rows: list[dict]) -> None:
        with open(self.path, "a") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in rows))
            fh.flush()
            os.fsync(fh.fileno())

    def drop_after(self, group: str, step: int) -> None:
        """Remove ``group``'s rows later than ``step`` (they will be recomputed) and any cut line."""
        rows = self.rows()
        kept = [r for r in rows if not (r["group"] == group and r["step"] > step)]
        if len(kept) != len(rows) or (self.path.exists() and len(self.path.read_text().splitlines()) != len(rows)):
            atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))
