"""Batched classifier-free guidance: one model call on the stacked pair equals the two-call
classifier_free_guidance, eagerly, under jit and inside a sampler."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxsci import diffusion as D


def _net(x, t, c):
    """A conditional model on one sample: its output depends on x, t and a pytree condition."""
    return jnp.tanh(x * c["w"]) + t * c["b"]


def _conditions():
    """A condition and the null condition (built inside each test, in its dtype)."""
    return {"w": jnp.array([1.5, -0.5]), "b": jnp.array(0.3)}, {"w": jnp.array([0.2, 0.2]), "b": jnp.array(0.0)}


def test_one_call_equals_two_calls(x64):
    cond, null = _conditions()
    calls = []

    def batched(x_pair, t, c_pair):
        calls.append(x_pair.shape)  # a Python side effect: runs once per trace
        return jax.vmap(_net, in_axes=(0, None, 0))(x_pair, t, c_pair)

    one = D.batched_classifier_free_guidance(batched, cond, null, 4.0)
    two = D.classifier_free_guidance(lambda x, t: _net(x, t, cond), lambda x, t: _net(x, t, null), 4.0)
    x = jnp.array([0.4, -1.1])
    np.testing.assert_allclose(one(x, 0.3), two(x, 0.3), rtol=1e-14)
    assert calls == [(2, 2)]
    calls.clear()
    np.testing.assert_allclose(jax.jit(one)(x, 0.3), two(x, 0.3), rtol=1e-14)
    assert calls == [(2, 2)]  # traced once: one model call in the compiled program


def test_inside_a_sampler(x64):
    cond, null = _conditions()
    s = D.VPLinear()
    batched = jax.vmap(_net, in_axes=(0, None, 0))
    one = D.batched_classifier_free_guidance(batched, cond, null, 2.0)
    two = D.classifier_free_guidance(lambda x, t: _net(x, t, cond), lambda x, t: _net(x, t, null), 2.0)
    grid = D.time_grid(s, 5)
    x_T = jnp.array([0.4, -1.1])
    np.testing.assert_allclose(D.DPMSolverPP()(one, s, x_T, grid).x, D.DPMSolverPP()(two, s, x_T, grid).x,
                               rtol=1e-12)
