import equinox as eqx
import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci.pde.evolution import AllenCahn2D, Heat2D, grid_points
from jaxsci.teng import (
    PeriodicMLP,
    evolve,
    levenberg_marquardt_fit,
    obti_step,
    tdvp_step,
    teng_euler,
    teng_heun,
    teng_rk_step,
)

_K = jax.random.key(0)


def _net():
    return PeriodicMLP(2, 2, 4, 1, key=_K)


def _pts():
    return grid_points(4)


def _plain():
    return eqx.nn.MLP(2, "scalar", 4, 1, key=_K)


CASES = [
    BadInput("teng-dt-zero", lambda: teng_euler(_net(), 0.0, Heat2D(), _pts(), 0.0), ValueError, "`dt` must be a positive number"),
    BadInput("teng-dt-negative", lambda: teng_heun(_net(), 0.0, Heat2D(), _pts(), -0.1), ValueError, "dt"),
    BadInput("tdvp-dt-zero", lambda: tdvp_step(_net(), 0.0, Heat2D(), _pts(), 0.0), ValueError, "dt"),
    BadInput("teng-points-outside", lambda: teng_euler(_net(), 0.0, Heat2D(), _pts() + 7.0, 0.1), ValueError, "[0, 2pi)^2"),
    BadInput("teng-points-negative", lambda: teng_heun(_net(), 0.0, Heat2D(), _pts() - 1.0, 0.1), ValueError, "wrap them"),
    BadInput("teng-points-shape", lambda: teng_euler(_net(), 0.0, Heat2D(), jnp.zeros((4, 3)), 0.1), ValueError, "shape (n, 2)"),
    BadInput("teng-not-periodic", lambda: teng_euler(_plain(), 0.0, Heat2D(), _pts(), 0.1), ValueError, "not 2pi-periodic"),
    BadInput("obti-not-periodic", lambda: obti_step(_plain(), 0.0, AllenCahn2D(), _pts(), 0.1), ValueError, "PeriodicMLP"),
    BadInput("teng-problem-without-operator", lambda: teng_rk_step(_net(), 0.0, object(), _pts(), 0.1), TypeError, "operator(u, x)"),
    BadInput("teng-iterations-zero", lambda: teng_euler(_net(), 0.0, Heat2D(), _pts(), 0.1, iterations=0), ValueError, "positive integer"),
    BadInput("teng-columns-no-key", lambda: teng_heun(_net(), 0.0, Heat2D(), _pts(), 0.1, num_columns=3), ValueError, "needs a PRNG"),
    BadInput("obti-optimizer", lambda: obti_step(_net(), 0.0, Heat2D(), _pts(), 0.1, optimizer="sgd"), ValueError, "must be one of"),
    BadInput("evolve-num-steps", lambda: evolve(teng_euler, _net(), Heat2D(), _pts(), 0.1, 0), ValueError, "num_steps"),
    BadInput("lm-iterations", lambda: levenberg_marquardt_fit(_net(), _pts(), jnp.zeros(16), iterations=0), ValueError, "iterations"),
    BadInput("periodic-mlp-width", lambda: PeriodicMLP(2, 0, 4, 1, key=_K), ValueError, "positive integer"),
    BadInput("periodic-mlp-key", lambda: PeriodicMLP(2, 2, 4, 1, key=0), TypeError, "jax.random.key(seed)"),
    BadInput("reference-times-order", lambda: AllenCahn2D().reference((1.0, 0.5)), ValueError, "increasing"),
    BadInput("reference-times-multiple", lambda: AllenCahn2D().reference((0.5,), n=16, dt=0.3), ValueError, "multiple of dt"),
    BadInput("grid-points-zero", lambda: grid_points(0), ValueError, "positive integer"),
]
CASES.append(BadInput("lm-target-shape", lambda: levenberg_marquardt_fit(_net(), _pts(), jnp.zeros(3)), ValueError, "must have shape (n,)"))
