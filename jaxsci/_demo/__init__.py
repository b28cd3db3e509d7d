"""The demo behind ``make demo``: one small problem per method family.

Each family contributes a module ``jaxsci/_demo/<family>.py`` that defines
``run(out_dir: pathlib.Path, quick: bool = False) -> list[dict]``; every row has the keys ``family``,
``problem``, ``method``, ``error`` (against an exact or reference solution), ``seconds``
and optionally ``note``. Modules are discovered automatically, in name order.
``quick=True`` (``python -m jaxsci demo --quick``) runs every family with tiny settings
(small dimensions, a few training steps, fewer methods): a smoke test of the whole
pipeline, run by ``tests/test_demo.py``, whose errors are larger than the full demo's.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import time
import traceback
from pathlib import Path


def _family_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _format_table(rows: list[dict]) -> str:
    lines = [
        "| family | problem | method | error | seconds | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        err = r.get("error")
        err_text = f"{err:.3e}" if isinstance(err, (int, float)) else str(err)
        lines.append(
            f"| {r['family']} | {r['problem']} | {r['method']} | {err_text} | "
            f"{r['seconds']:.3g} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def run_demo(out_dir: str | Path, only: list[str] | None = None, quick: bool = False) -> int:
    """Run every family's demo, print the summary table, write it under ``out_dir``.

    ``only`` names the families to run (module names); ``quick`` uses tiny settings.
    Writes ``summary.md``, ``summary.json`` and each family's plot; returns 1 if a family
    failed (its traceback is printed, the others still run), else 0.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = _family_modules()
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"unknown demo families {unknown}; available: {names}")
        names = [n for n in names if n in only]
    rows: list[dict] = []
    failures = []
    start = time.perf_counter()
    for name in names:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"{__name__}.{name}")
            rows.extend(module.run(out, quick=quick))
        except Exception:  # one family failing must not hide the others' results
            failures.append(name)
            traceback.print_exc()
    table = _format_table(rows)
    total = time.perf_counter() - start
    title = "# jaxsci demo (quick: tiny settings)" if quick else "# jaxsci demo"
    summary = f"{title}\n\n{table}\n\nTotal time: {total:.1f} s\n"
    if failures:
        summary += f"\nFAILED families: {', '.join(failures)}\n"
    (out / "summary.md").write_text(summary)
    (out / "summary.json").write_text(json.dumps({"rows": rows, "failed": failures, "quick": quick}, indent=2))
    print()
    print(summary)
    if pyplot() is None:
        print(f"wrote {out / 'summary.md'}; {NO_PLOTS}")
    else:
        print(f"wrote {out / 'summary.md'} and the plots in {out}/")
    return 1 if failures else 0


NO_PLOTS = ("the plots were skipped because matplotlib is not installed "
            "(`pip install 'jaxsci[demo]'` adds it)")


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or ``None`` without matplotlib.

    matplotlib is an optional dependency (the ``demo`` extra): without it every family
    still runs and the summary is written, only the plots are skipped.
    """
    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
