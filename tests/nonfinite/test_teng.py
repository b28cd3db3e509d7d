"""NaN/inf injected into the TENG entry points under jit: a clear error, or a result code
with ``throw=False`` (and the network stays at its last finite state)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import pytest

from jaxsci.core import RESULTS
from jaxsci.pde.evolution import Heat2D, grid_points
from jaxsci.teng import (
    EULER,
    OBTI,
    TDVP,
    TENG,
    GaussNewton,
    LevenbergMarquardt,
    OptaxFit,
    PeriodicMLP,
    evolve,
)

SVD = dict(solver=lx.SVD(rcond=1e-4), damping=0.0)
STEPPERS = {
    "teng": TENG(EULER, fit=GaussNewton(iterations=1, **SVD)),
    "tdvp": TDVP(),
    "obti": OBTI(optax.adam(1e-3), steps=2, tableau=EULER),
}


def _net():
    return PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))


def _poisoned():
    return eqx.tree_at(lambda m: m.shift, _net(), jnp.full((2, 2), jnp.nan))


def _pts():
    return grid_points(4)


@pytest.mark.parametrize("name", list(STEPPERS))
def test_nan_network_under_jit_in_evolve(name):
    stepper, p = STEPPERS[name], Heat2D()
    run = eqx.filter_jit(lambda m, throw: evolve(stepper, p, m, 0.01, 2, points=_pts(), throw=throw))
    out = run(_poisoned(), False)
    assert out.result == RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN/inf"):
        jax.block_until_ready(run(_poisoned(), True).model)


@pytest.mark.parametrize("name", list(STEPPERS))
def test_nan_network_under_jit_in_one_step(name):
    stepper, p = STEPPERS[name], Heat2D()
    step = eqx.filter_jit(lambda m: stepper(p, m, _pts(), 0.0, 0.01, throw=False))
    assert step(_poisoned()).result == RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN/inf"):
        jax.block_until_ready(eqx.filter_jit(lambda m: stepper(p, m, _pts(), 0.0, 0.01).model)(_poisoned()))


def test_failure_mid_evolution_keeps_the_last_finite_network():
    """A step size that overflows the parameters to inf: the run stops at the last finite
    network and returns the code instead of a NaN network."""
    p, pts = Heat2D(), _pts()
    stepper = STEPPERS["tdvp"]
    run = eqx.filter_jit(lambda m, dt: evolve(stepper, p, m, dt, 3, points=pts, throw=False))
    out = run(_net(), jnp.asarray(1e300))  # overflows to inf in the first step
    assert out.result == RESULTS.nonfinite_values
    assert np.all(np.isfinite(np.asarray(jax.vmap(out.model)(pts))))


@pytest.mark.parametrize("fit", [GaussNewton(iterations=2, **SVD), LevenbergMarquardt(iterations=2),
                                 OptaxFit(optax.adam(1e-3), steps=2)], ids=["gn", "lm", "optax"])
def test_nan_initial_condition_under_jit(fit):
    """NaN in the target (the initial condition) while traced: the fit says so."""
    pts = _pts()
    run = eqx.filter_jit(lambda m, target, throw: fit(m, pts, target, throw=throw))
    target = Heat2D().initial(pts).at[3].set(jnp.nan)
    assert run(_net(), target, False).result == RESULTS.nonfinite_values
    with pytest.raises(Exception, match="NaN/inf"):
        jax.block_until_ready(run(_net(), target, True).model)


def test_nan_points_under_jit_are_caught():
    pts = _pts().at[0, 0].set(jnp.nan)
    run = eqx.filter_jit(lambda m, x: evolve(STEPPERS["teng"], Heat2D(), m, 0.01, 1, points=x).model)
    with pytest.raises(Exception, match=r"\[0, 2pi\)"):
        jax.block_until_ready(run(_net(), pts))
