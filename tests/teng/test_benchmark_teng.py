"""`benchmarks/teng.py --quick` runs and writes the documented JSON."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent.parent / "benchmarks" / "teng.py"


@pytest.mark.slow  # 70-170 s on 2 cores; the steppers themselves are tested in test_teng.py
def test_quick_benchmark_writes_rows_for_every_method(tmp_path):
    out = tmp_path / "teng.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--problems", "heat", "--json", str(out),
         "--plot", str(tmp_path / "teng.png")],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert {"problem", "method", "t", "rel_l2", "wall_s"} <= set(rows[0])
    final = {r["method"]: r for r in rows if abs(r["t"] - 0.5) < 1e-12}
    assert set(final) == {"TENG-Euler", "TENG-Heun", "TDVP-RK4", "OBTI-Adam"}
    assert final["TENG-Heun"]["rel_l2"] < 0.2 * final["TENG-Euler"]["rel_l2"]
    assert final["TENG-Heun"]["rel_l2"] < 0.1 * final["OBTI-Adam"]["rel_l2"]
    assert (tmp_path / "teng.png").exists()
