"""The examples run (with small settings) and do what they say."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pinn_stde_user_pde_learns():
    # the untrained network's error is 0.91; STDE training must cut it more than tenfold
    error = load("pinn_stde_user_pde").main(dim=10, steps=1500, progress=False)
    assert error < 0.05


def test_taylor_operators_example():
    results = load("taylor_operators").main(dim=20)
    assert np.isfinite(float(results["exact Laplacian"]))
    assert np.isfinite(float(results["|grad of STDE Laplacian|"]))
