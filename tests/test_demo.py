"""`python -m jaxsci demo --quick`: every family runs with tiny settings, each row's error
is below its bound, and the summary and plots are written."""

import json

import pytest

from jaxsci._demo import run_demo

# (family, start of the method name) -> bound on the row's error in quick mode. Each bound
# leaves a margin of 2x or more over the measured quick figure (in the comment) and
# sits well below what a broken method gives (the untrained or start value, in brackets).
BOUNDS = {
    ("taylor", "Exact"): 1e-4,                # ~1e-6 (float32 round-off)
    ("taylor", "ForwardLaplacian"): 1e-4,     # 7e-8
    ("taylor", "SparseSTDE"): 2e-2,           # 2.1e-3 (mean of 16 draws)
    ("taylor", "DenseSTDE(16)"): 2e-2,        # 2.4e-3
    ("taylor", "DenseSTDE(64)"): 0.3,         # 0.096 (biharmonic, Gaussian directions)
    ("spectral", "Chebyshev"): 1e-4,          # 8e-6
    ("spectral", "spectral loss"): 1e-6,      # 1e-10 (vs 1.15 for u = 0)
    ("spectral", "NSM"): 0.15,                # 0.044 after 40 steps (u = u0: 0.46)
    ("spectral", "FNO"): 0.6,                 # 0.18 after 40 steps (u = 0: 1)
    ("teng", "LM"): 1e-3,                     # 1.9e-4
    ("teng", "TENG-Heun"): 1e-3,              # 1.7e-4 (the solution moves by 2e-2)
    ("teng", "TDVP"): 1e-3,                   # 1.7e-4
    ("diffusion", "DDIM"): 0.15,              # 0.078 at NFE 10
    ("diffusion", "DPM-Solver++(2M)"): 0.1,   # 0.048
    ("diffusion", "UniPC"): 0.06,             # 0.024
    ("nde", "Tsit5"): 0.35,                   # test error 0.097 after 40 steps (chance: 0.9)
    ("pinn", "SparseSTDE"): 0.1,              # 0.029, d = 10 Allen-Cahn (untrained 0.97)
    ("pinn", "Exact"): 0.4,                   # 0.18, 2D Poisson after 400 steps (untrained 0.89)
}
PLOTS = ["diffusion_samplers.png", "nde_regularization.png", "pinn_error.png",
         "spectral_reaction_diffusion.png", "taylor_stde_error.png", "teng_heat_error.png"]


def _bound(row):
    matches = [b for (family, method), b in BOUNDS.items()
               if row["family"] == family and row["method"].startswith(method)]
    assert len(matches) == 1, f"no single bound for {row['family']} / {row['method']}"
    return matches[0]


def _check(out, families):
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failed"] == [] and summary["quick"] is True
    rows = summary["rows"]
    assert {r["family"] for r in rows} == set(families)
    for row in rows:
        assert 0 <= row["error"] < _bound(row), row
    table = (out / "summary.md").read_text()
    assert table.startswith("# jaxsci demo (quick") and table.count("\n| ") == len(rows) + 1
    for name in PLOTS:
        if name.split("_")[0] in families:
            assert (out / name).stat().st_size > 1000, name


def test_quick_demo_command_line_runs_a_family(tmp_path, capsys):
    # the default suite runs the cheapest family through `python -m jaxsci demo --quick`;
    # the test below (slow: about 2 CPU minutes, compilation mostly) runs every family
    from jaxsci.__main__ import main

    assert main(["demo", "--quick", "--only", "diffusion", "--out", str(tmp_path)]) == 0
    _check(tmp_path, ["diffusion"])
    assert "summary.md" in capsys.readouterr().out


@pytest.mark.slow
def test_quick_demo_runs_every_family_within_its_bounds(tmp_path):
    assert run_demo(tmp_path, quick=True) == 0
    _check(tmp_path, ["diffusion", "nde", "pinn", "spectral", "taylor", "teng"])


def test_quick_demo_without_matplotlib_writes_the_summary(tmp_path, monkeypatch, capsys):
    # matplotlib is an optional dependency (the `demo` extra): a plain `pip install jaxsci`
    # must still run the demo, skipping only the plots
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a))
    assert run_demo(tmp_path, only=["diffusion"], quick=True) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["failed"] == [] and {r["family"] for r in summary["rows"]} == {"diffusion"}
    assert not list(tmp_path.glob("*.png"))
    assert "matplotlib is not installed" in capsys.readouterr().out
