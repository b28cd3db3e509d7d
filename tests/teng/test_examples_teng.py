"""The TENG example runs with small settings and tracks the exact solution."""

import importlib.util
from pathlib import Path

from jaxsci.core import enable_x64

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "teng_heat.py"


def test_teng_heat_example_tracks_the_exact_solution():
    with enable_x64(True):  # the example turns x64 on; restore the setting afterwards
        spec = importlib.util.spec_from_file_location("teng_heat", EXAMPLE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fit_error, error = module.main(grid=12, net_sizes=(3, 6, 2), fit_iterations=60, steps=5)
    assert float(fit_error) < 1e-2
    # the solution moves by about 1e-2 (relative) in t = 0.1; the error stays at the fit level
    assert error < 3 * float(fit_error) + 1e-6
