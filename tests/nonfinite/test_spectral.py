"""NaN/inf in the spectral family never passes silently: a clear error, or a result code."""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import pytest

from jaxsci import core, spectral as sp

BASIS = sp.poisson_basis(3)
RD_BASIS = sp.reaction_diffusion_basis(3, 3)


class NaNModel(eqx.Module):
    """An operator whose output is NaN (a diverged network)."""

    w: jax.Array

    def __call__(self, a):
        return a * self.w + jnp.nan


def _nsm(basis):
    return sp.NSM(basis, 1, 1, width=4, depth=1, key=jax.random.key(0))


def test_nan_instance_in_the_spectral_loss_under_jit():
    f = jnp.zeros((2, 5, 5)).at[1, 2, 3].set(jnp.nan)
    with pytest.raises(Exception, match="NaN or inf"):
        jax.block_until_ready(eqx.filter_jit(sp.nsm_poisson_loss)(_nsm(BASIS), f, BASIS))


def test_nan_instance_in_the_reaction_diffusion_loss_under_jit():
    u0 = jnp.full((2, 5), jnp.inf)
    with pytest.raises(Exception, match="NaN or inf"):
        jax.block_until_ready(eqx.filter_jit(sp.nsm_rd_loss)(_nsm(RD_BASIS), u0, RD_BASIS, 0.01, 5.0))


def test_nan_model_output_makes_the_loss_nan_and_training_fail():
    model = NaNModel(jnp.ones(()))
    f = jnp.ones((2, 5, 5))
    # the loss itself shows the NaN (it is a value, not a silent default) ...
    assert bool(jnp.isnan(eqx.filter_jit(sp.nsm_poisson_loss)(model, f, BASIS)))
    loss = lambda m, f: sp.nsm_poisson_loss(m, f, BASIS)
    sample = lambda k: jnp.ones((2, 5, 5))
    # ... and training refuses it: an error by default ...
    with pytest.raises(FloatingPointError, match="NaN/inf"):
        sp.train_operator(model, loss, sample, optax.adam(1e-3), key=jax.random.key(0), steps=4, chunk=2)
    # ... or the result code with throw=False (the last finite model is returned)
    out = sp.train_operator(model, loss, sample, optax.adam(1e-3), key=jax.random.key(0), steps=4, chunk=2,
                            throw=False)
    assert out.result == core.RESULTS.nonfinite_values
    assert bool(jnp.all(jnp.isfinite(out.model.w)))


def test_nan_instance_in_training_under_jit_is_an_error():
    sample = lambda k: jnp.full((2, 5), jnp.nan)
    loss = lambda m, u: sp.nsm_rd_loss(m, u, RD_BASIS, 0.01, 5.0)
    with pytest.raises(Exception, match="NaN or inf"):
        sp.train_operator(_nsm(RD_BASIS), loss, sample, optax.adam(1e-3), key=jax.random.key(0), steps=2, chunk=2)


def test_nan_instance_in_the_fno_pinn_loss_under_jit():
    model = sp.FNO(1, 1, (2, 2), width=4, depth=1, key=jax.random.key(0))
    f = jnp.full((1, 5, 5), jnp.nan)
    with pytest.raises(Exception, match="NaN or inf"):
        jax.block_until_ready(eqx.filter_jit(sp.fno_poisson_pinn_loss)(model, f, 8))


def test_nan_in_the_reference_solve_input():
    from jaxsci.pde.parametric import PeriodicPoisson

    with pytest.raises(ValueError, match="NaN or inf"):
        PeriodicPoisson(modes=3).solve(jnp.full((5, 5), jnp.nan), 8)
