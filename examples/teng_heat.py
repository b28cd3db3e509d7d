"""TENG-Heun on the periodic 2D heat equation u_t = 0.1 Lap u, against the exact solution.

Fits a periodic network to the initial condition (Levenberg-Marquardt with variable
projection), then takes TENG-Heun steps and prints the relative L2 error at off-grid points.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)  # TENG is run in float64

from jaxsci.pde.evolution import Heat2D, grid_points  # noqa: E402
from jaxsci.teng import PeriodicMLP, evolve, levenberg_marquardt_fit, rel_l2, teng_heun  # noqa: E402


def main(grid=16, net_sizes=(4, 8, 2), fit_iterations=150, dt=0.02, steps=10):
    problem = Heat2D()
    points = grid_points(grid)
    test_points = (grid_points(grid + 5) + 0.37) % (2 * jnp.pi)
    net = PeriodicMLP(2, *net_sizes, key=jax.random.key(0))
    net, fit_error = eqx.filter_jit(lambda m: levenberg_marquardt_fit(
        m, points, problem.initial(points), iterations=fit_iterations))(net)
    print(f"initial fit: relative L2 {float(fit_error):.2e}")
    net = eqx.filter_jit(lambda m: evolve(teng_heun, m, problem, points, dt, steps,
                                          iterations=2))(net)
    t = dt * steps
    error = float(rel_l2(jax.vmap(net)(test_points), problem.exact(test_points, t)))
    print(f"TENG-Heun at t = {t:g}: relative L2 error {error:.2e}")
    return fit_error, error


if __name__ == "__main__":
    main()
