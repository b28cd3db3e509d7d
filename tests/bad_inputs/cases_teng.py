import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci.pde.evolution import Heat2D, grid_points
from jaxsci.teng import PeriodicMLP, teng_euler, teng_heun

_K = jax.random.key(0)


def _net():
    return PeriodicMLP(2, 2, 4, 1, key=_K)


def _pts():
    return grid_points(4)


def _plain():
    import equinox as eqx

    return eqx.nn.MLP(2, "scalar", 4, 1, key=_K)


CASES = [
    BadInput("teng-dt-zero", lambda: teng_euler(_net(), 0.0, Heat2D(), _pts(), 0.0), ValueError, "dt"),
    BadInput("teng-dt-negative", lambda: teng_heun(_net(), 0.0, Heat2D(), _pts(), -0.1), ValueError, "dt"),
    BadInput("teng-points-outside", lambda: teng_euler(_net(), 0.0, Heat2D(), _pts() + 7.0, 0.1), ValueError, "[0, 2pi)^2"),
    BadInput("teng-points-negative", lambda: teng_heun(_net(), 0.0, Heat2D(), _pts() - 1.0, 0.1), ValueError, "wrap them"),
    BadInput("teng-points-shape", lambda: teng_euler(_net(), 0.0, Heat2D(), jnp.zeros((4, 3)), 0.1), ValueError, "shape (n, 2)"),
    BadInput("teng-not-periodic", lambda: teng_euler(_plain(), 0.0, Heat2D(), _pts(), 0.1), ValueError, "not 2pi-periodic"),
    BadInput("teng-iterations-zero", lambda: teng_euler(_net(), 0.0, Heat2D(), _pts(), 0.1, iterations=0), ValueError, "positive integer"),
    BadInput("teng-columns-no-key", lambda: teng_heun(_net(), 0.0, Heat2D(), _pts(), 0.1, num_columns=3), ValueError, "needs a PRNG"),
    BadInput("periodic-mlp-width", lambda: PeriodicMLP(2, 0, 4, 1, key=_K), ValueError, "positive integer"),
]
