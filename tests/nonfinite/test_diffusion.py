"""NaN/inf never passes silently through a diffusion sampler: a NaN in the model's output or in
x_T, under jit (and vmap), raises a message that says where (``throw=True``, the default) or
returns ``RESULTS.nonfinite_values`` (``throw=False``) for the failing batch members only."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

from jaxsci import diffusion as D
from jaxsci.core import RESULTS

S = D.VPLinear()
GOOD = D.GaussianEps(S, jnp.array([0.5, -0.5]), 0.3)
KEY = jax.random.key(0)


def bad_model(x, t):
    """The exact model, but NaN for t < 0.3 (a model that breaks down at small noise)."""
    return GOOD(x, t) * jnp.where(t < 0.3, jnp.nan, 1.0).astype(x.dtype)


SAMPLERS = {
    "DDIM": (D.DDIM(), "the model returned NaN/inf at step"),
    "DDIM-eta": (D.DDIM(eta=1.0), "the model returned NaN/inf at step"),
    "DPMSolverPP": (D.DPMSolverPP(order=3), "the model returned NaN/inf at step"),
    "DPMSolver": (D.DPMSolver(order=2), "the model returned NaN/inf at step"),
    "DPMSolverSinglestep": (D.DPMSolverSinglestep(order=2), "the model returned NaN/inf at step"),
    "DPMSolverPP2S": (D.DPMSolverPP2S(), "the model returned NaN/inf at step"),
    "SDEDPMSolverPP2M": (D.SDEDPMSolverPP2M(), "the model returned NaN/inf at step"),
    "UniPC": (D.UniPC(order=2), "the model returned NaN/inf at step"),
    "DEIS": (D.DEIS(order=3), "the model returned NaN/inf at step"),
    "DPMSolverAdaptive": (D.DPMSolverAdaptive(), "the model returned NaN/inf"),
    "Restart": (D.Restart(D.DPMSolverPP(), t_lo=0.1, t_hi=0.5, num_restarts=1, restart_steps=2),
                "NaN/inf in restart 1 of 1"),  # the main solve stops above t = 0.3
}


def _grid(sampler):
    return D.time_grid(S, 1) if isinstance(sampler, D.DPMSolverAdaptive) else D.time_grid(S, 4)


def _runner(sampler, model, throw):
    sampler = dataclasses.replace(sampler, throw=throw)
    grid = _grid(sampler)
    return jax.jit(lambda x, k: sampler(model, S, x, grid, key=k))


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_nan_model_output_under_jit(name):
    sampler, fragment = SAMPLERS[name]
    x = jnp.array([0.3, -1.2])
    with pytest.raises(Exception, match=fragment):
        jax.block_until_ready(_runner(sampler, bad_model, True)(x, KEY).x)
    out = _runner(sampler, bad_model, False)(x, KEY)
    assert out.result == RESULTS.nonfinite_values  # not max_steps_reached (adaptive), not silent


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_nan_x_T_under_jit_and_vmap(name):
    sampler, _ = SAMPLERS[name]
    x_T = jnp.array([[0.3, -1.2], [jnp.nan, 0.1], [1.0, 0.2]])
    keys = jax.random.split(KEY, 3)
    with pytest.raises(Exception, match="x_T contains NaN/inf"):
        jax.block_until_ready(_runner(sampler, GOOD, True)(x_T[1], KEY).x)
    out = jax.vmap(_runner(sampler, GOOD, False))(x_T, keys)
    # only the failing member is marked; the others are finite samples
    assert [bool(r) for r in out.result == RESULTS.nonfinite_values] == [False, True, False]
    assert bool(jnp.all(jnp.isfinite(out.x[jnp.array([0, 2])])))


def test_the_message_names_the_step():
    """The logSNR grid with 6 steps: the first time below 0.3 is grid[3], so the model
    first returns NaN at the start of step 4 of 6."""
    grid = D.time_grid(S, 6)
    first = int(jnp.argmax(grid < 0.3))
    with pytest.raises(Exception, match=f"at step {first + 1} of 6 \\(from grid\\[{first}\\]"):
        jax.block_until_ready(jax.jit(lambda x: D.DPMSolverPP()(bad_model, S, x, grid).x)(jnp.ones(2)))


def test_adaptive_nan_is_not_max_steps():
    """A NaN model stops the adaptive loop at once: reported as NaN, after one step."""
    out = D.DPMSolverAdaptive(h_init=10.0, throw=False)(bad_model, S, jnp.ones(2), D.time_grid(S, 1))
    assert out.result == RESULTS.nonfinite_values
    assert int(out.num_steps) < 10
