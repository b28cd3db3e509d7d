"""The step API (set_timesteps / step): a user loop that calls the model itself reproduces
each supported sampler's own scan (float64, 1e-12), in Python, under jit with a
lax.fori_loop carrying the state, and with a jitted step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D


def _mixture():
    return D.GaussianMixture(jnp.array([0.3, 0.7]), jnp.array([[1.0, -0.5], [-1.0, 0.8]]), jnp.array([0.5, 0.4]))


def _case(name):
    """(sampler, schedule, model in the sampler's parametrization, grid)"""
    gm = _mixture()
    vp, fm, fm01 = D.VPLinear(), D.FlowMatching(shift=3.0), D.FlowMatching(shift=3.0, t_min=0.0, t_max=1.0)
    cases = {
        "ddim": (D.DDIM(), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "ddim_denoise": (D.DDIM(denoise_to_zero=True), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "ddim_eta": (D.DDIM(eta=1.0), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "ddim_flow": (D.DDIM(parametrization="flow"), fm01, gm.velocity_model(fm01), D.time_grid(fm01, 7, "uniform")),
        "flow_euler": (D.FlowEuler(), fm01, gm.velocity_model(fm01), D.time_grid(fm01, 7, "uniform")),
        "flow_euler_vp": (D.FlowEuler(parametrization="eps"), vp, gm.noise_model(vp), D.time_grid(vp, 7, "uniform")),
        "dpmpp_1": (D.DPMSolverPP(order=1), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "dpmpp_2": (D.DPMSolverPP(order=2), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "dpmpp_3": (D.DPMSolverPP(order=3), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "dpmpp_3_taylor_20": (D.DPMSolverPP(order=3, solver_type="taylor"), vp, gm.noise_model(vp),
                              D.time_grid(vp, 20)),
        "dpmpp_2_denoise": (D.DPMSolverPP(order=2, denoise_to_zero=True), vp, gm.noise_model(vp), D.time_grid(vp, 7)),
        "dpmpp_3_flow_x0": (D.DPMSolverPP(order=3, parametrization="x0", lower_order_final=False), fm,
                            gm.data_model(fm), D.time_grid(fm, 7)),
        "dpmpp_2_flow": (D.DPMSolverPP(order=2, parametrization="flow"), fm, gm.velocity_model(fm), D.time_grid(fm, 7)),
    }
    return cases[name]


NAMES = ["ddim", "ddim_denoise", "ddim_eta", "ddim_flow", "flow_euler", "flow_euler_vp", "dpmpp_1", "dpmpp_2",
         "dpmpp_3", "dpmpp_3_taylor_20", "dpmpp_2_denoise", "dpmpp_3_flow_x0", "dpmpp_2_flow"]
X_T = np.array([0.3, -1.2])
KEY = jax.random.key(5)


def _keys(state):
    return jax.random.split(KEY, state.grid.shape[0] - 1)


@pytest.mark.parametrize("name", NAMES)
def test_loop_reproduces_the_sampler(name, x64):
    sampler, schedule, model, grid = _case(name)
    x_T = jnp.asarray(X_T)
    noisy = name == "ddim_eta"
    expected = sampler(model, schedule, x_T, grid, key=KEY if noisy else None)
    x, state = x_T, D.set_timesteps(sampler, schedule, grid, x_T)
    assert state.num_steps == int(expected.nfe)
    keys = _keys(state)
    for i in range(state.num_steps):
        x, state = D.step(state, model(x, state.time), x, key=keys[i] if noisy else None)
    np.testing.assert_allclose(x, expected.x, rtol=1e-12, atol=1e-13)
    assert int(state.index) == state.num_steps


@pytest.mark.parametrize("name", ["ddim_denoise", "flow_euler", "dpmpp_3"])
def test_loop_under_jit(name, x64):
    sampler, schedule, model, grid = _case(name)
    expected = sampler(model, schedule, jnp.asarray(X_T), grid).x

    @jax.jit
    def run(x_T, grid):
        state = D.set_timesteps(sampler, schedule, grid, x_T)

        def body(_, carry):
            x, state = carry
            return D.step(state, model(x, state.time), x)

        return jax.lax.fori_loop(0, state.num_steps, body, (x_T, state))[0]

    np.testing.assert_allclose(run(jnp.asarray(X_T), grid), expected, rtol=1e-12, atol=1e-13)
    # a jitted step, the state passed in and out
    jstep = jax.jit(D.step)
    x, state = jnp.asarray(X_T), D.set_timesteps(sampler, schedule, grid, jnp.asarray(X_T))
    for _ in range(state.num_steps):
        x, state = jstep(state, model(x, state.time), x)
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-13)


def test_number_of_steps_builds_the_grid(x64):
    fm = D.FlowMatching(shift=3.0, t_min=0.0, t_max=1.0)
    state = D.set_timesteps(D.FlowEuler(), fm, 5, jnp.asarray(X_T))
    np.testing.assert_allclose(state.grid, D.time_grid(fm, 5, "uniform"), rtol=1e-15)
    vp = D.VPLinear()
    state = D.set_timesteps(D.DPMSolverPP(), vp, 5, jnp.asarray(X_T))
    np.testing.assert_allclose(state.grid, D.time_grid(vp, 5), rtol=1e-15)
