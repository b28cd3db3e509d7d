"""Shared helpers for the benchmark scripts: timing, compiled memory, machine info."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import jax


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes (a couple of minutes)")
    p.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    return p


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "python": sys.version.split()[0],
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def versions() -> dict:
    out = {}
    for name in ("jax", "jaxlib", "equinox", "optax", "diffrax", "lineax", "folx"):
        try:
            out[name] = __import__(name).__version__
        except Exception:
            out[name] = None
    return out


def git_state(*paths: str) -> dict:
    """The commit a run used, and which of the package's files and ``paths`` differ from it."""
    root = Path(__file__).parents[1]

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    dirty = git("status", "--porcelain", "--", "jaxsci", "benchmarks/_common.py", *paths)
    return {"commit": git("rev-parse", "HEAD"),
            "dirty_files": dirty.splitlines() if dirty else ([] if dirty is not None else None)}


def median_seconds(fn, *args, repeats: int = 5, min_time: float = 0.2) -> float:
    """Median wall time of ``fn(*args)`` (already compiled), blocking on the result.

    Each sample runs the call enough times to last about ``min_time`` seconds.
    """
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    once = max(time.perf_counter() - start, 1e-6)
    inner = max(1, int(min_time / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            out = fn(*args)
        jax.block_until_ready(out)
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def compiled_memory_mb(jitted, *args) -> float | None:
    """Peak memory XLA plans for one call (arguments + outputs + temporaries), in MB."""
    try:
        stats = jitted.lower(*args).compile().memory_analysis()
    except Exception:
        return None
    if stats is None:
        return None
    total = (
        stats.argument_size_in_bytes
        + stats.output_size_in_bytes
        + stats.temp_size_in_bytes
        - stats.alias_size_in_bytes
    )
    return total / 2**20


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_json(path: Path | None, payload: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
