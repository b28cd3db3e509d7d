"""The TENG example runs with small settings and tracks the exact solution."""

import importlib.util
from pathlib import Path

import jax.numpy as jnp

from jaxsci.core import enable_x64, relative_l2
from jaxsci.pde.evolution import Heat2D, grid_points

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "teng_heat.py"


def test_teng_heat_example_tracks_the_exact_solution():
    with enable_x64(True):  # the example turns x64 on; restore the setting afterwards
        spec = importlib.util.spec_from_file_location("teng_heat", EXAMPLE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fit_error, error = module.main(grid=12, net_sizes=(3, 6, 2), fit_iterations=60, steps=5)
        # how far the exact solution moves from t = 0 to t = 0.1 at the example's test points
        x = (grid_points(12 + 5) + 0.37) % (2 * jnp.pi)
        change = float(relative_l2(Heat2D().exact(x, 0.0), Heat2D().exact(x, 0.1)))
    # measured: fit 1.9e-4, error at t = 0.1 1.7e-4, change of the solution 2.0e-2
    assert float(fit_error) < 1e-3
    assert error < 3 * float(fit_error) + 1e-6
    assert error < 0.05 * change  # a network that did not move (or moved backwards) fails
