"""Flow matching: the FlowMatching schedule (closed forms against the generic bisection and
the SD3 shift), the "flow" parametrization (round trips against the mixture's exact
predictions), FlowEuler against deterministic DDIM, FlowHeun's order against a tight
diffrax solve, and every sampler with a flow model."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D
from jaxsci.core import RESULTS


def _mixture():
    return D.GaussianMixture(jnp.array([0.3, 0.7]), jnp.array([[1.0, -0.5], [-1.0, 0.8]]), jnp.array([0.5, 0.4]))


def _flow_model(gm, s):
    """v = eps - x0 from the mixture's exact noise and data predictions."""
    eps, x0 = gm.noise_model(s), gm.data_model(s)
    return lambda x, t: eps(x, t) - x0(x, t)


def test_schedule_closed_forms(x64):
    s = D.FlowMatching()
    t = jnp.array([1e-3, 0.2, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(s.alpha(t), 1.0 - t, rtol=1e-15)
    np.testing.assert_allclose(s.sigma(t), t, rtol=1e-15)
    np.testing.assert_allclose(s.alpha(t), jnp.exp(s.log_alpha(t)), rtol=1e-14)
    np.testing.assert_allclose(s.lambda_(t), np.log((1 - np.asarray(t)) / np.asarray(t)), rtol=1e-13)
    # the closed-form inverse against the generic bisection of AbstractSchedule
    lam = s.lambda_(t)
    np.testing.assert_allclose(s.inverse_lambda(lam), t, rtol=1e-13)
    np.testing.assert_allclose(D.AbstractSchedule.inverse_lambda(s, lam), t, rtol=1e-9)


def test_shift(x64):
    s = D.FlowMatching(shift=3.0, t_min=0.0, t_max=1.0)
    u = jnp.linspace(0.0, 1.0, 11)
    np.testing.assert_allclose(s.shift_time(u), 3 * u / (1 + 2 * u), rtol=1e-15)
    np.testing.assert_allclose(s.unshift_time(s.shift_time(u)), u, atol=1e-15)
    # the shift lowers the log-SNR by log(shift) (Esser et al. 2024, eq. 23)
    inner = u[1:-1]
    np.testing.assert_allclose(s.lambda_(s.shift_time(inner)), s.lambda_(inner) - np.log(3.0), rtol=1e-12)
    # the shifted uniform grid: uniform in the unshifted time, ends kept
    g = D.time_grid(s, 10, "uniform")
    np.testing.assert_allclose(g, s.shift_time(jnp.linspace(1.0, 0.0, 11)), atol=1e-15)
    assert g[0] == 1.0 and g[-1] == 0.0 and bool(jnp.all(jnp.diff(g) < 0))
    # log-SNR grids do not change with the shift
    inside = D.FlowMatching(shift=3.0)
    np.testing.assert_allclose(D.time_grid(inside, 8, "logSNR"), D.time_grid(D.FlowMatching(), 8, "logSNR"),
                               rtol=1e-12)


def test_flow_parametrization_round_trip(x64):
    gm = _mixture()
    x = jnp.array([0.4, -0.3])
    for s, t in ((D.FlowMatching(), 0.4), (D.VPCosine(), 0.4), (D.EDM(), 2.0)):
        eps, x0 = gm.noise_model(s), gm.data_model(s)
        v = _flow_model(gm, s)
        np.testing.assert_allclose(D.to_data(v, s, "flow")(x, t), x0(x, t), rtol=1e-12)
        np.testing.assert_allclose(D.to_noise(v, s, "flow")(x, t), eps(x, t), rtol=1e-12)
        # the "v" parametrization is unchanged: v = alpha eps - sigma x0
        vv = lambda x, t, s=s, eps=eps, x0=x0: s.alpha(t) * eps(x, t) - s.sigma(t) * x0(x, t)
        np.testing.assert_allclose(D.to_data(vv, s, "v")(x, t), x0(x, t), rtol=1e-12)


def test_velocity_model_is_exact_and_finite_at_pure_noise(x64):
    gm = _mixture()
    s = D.FlowMatching(t_min=0.0, t_max=1.0)
    x = jnp.array([0.4, -0.3])
    for t in (0.01, 0.5, 0.99):
        np.testing.assert_allclose(gm.velocity_model(s)(x, t), _flow_model(gm, s)(x, t), rtol=1e-10)
    # at t = 1, x = eps: v = x - E[x0] (the mixture's mean)
    mean = jnp.exp(gm.log_weights) @ gm.means
    np.testing.assert_allclose(gm.velocity_model(s)(x, 1.0), x - mean, rtol=1e-12)


def test_flow_euler_equals_deterministic_ddim(x64):
    gm, s = _mixture(), D.FlowMatching(t_min=0.0, t_max=1.0)
    v = gm.velocity_model(s)
    x_T = jax.random.normal(jax.random.key(0), (2,), jnp.float64)
    grid = D.time_grid(s, 12, "uniform")
    euler = D.FlowEuler()(v, s, x_T, grid)
    ddim = D.DDIM(parametrization="flow")(v, s, x_T, grid)
    np.testing.assert_allclose(euler.x, ddim.x, rtol=1e-13, atol=1e-14)
    assert int(euler.nfe) == 12 and euler.result == RESULTS.successful
    # the generic path (dx/dt = alpha' x0 + sigma' eps) from an eps model takes the same steps
    inside = D.FlowMatching()
    g = D.time_grid(inside, 12, "uniform")
    np.testing.assert_allclose(D.FlowEuler(parametrization="eps")(gm.noise_model(inside), inside, x_T, g).x,
                               D.FlowEuler()(v, inside, x_T, g).x, rtol=1e-12)


@pytest.mark.parametrize(("sampler", "order"), [(D.FlowEuler(), 1), (D.FlowHeun(), 2)])
def test_convergence_order(sampler, order, x64):
    gm, s = _mixture(), D.FlowMatching(t_min=0.0, t_max=1.0)
    v = gm.velocity_model(s)
    x_T = jnp.array([0.3, -1.2])
    # on [1e-3, 0.999], where the reference's log-SNR is finite
    inside = D.FlowMatching()
    exact = D.probability_flow_reference(v, inside, x_T, parametrization="flow", rtol=1e-11, atol=1e-11)
    steps = np.array([16, 32, 64])
    errs = [float(jnp.linalg.norm(sampler(v, inside, x_T, D.time_grid(inside, int(n), "uniform")).x - exact))
            for n in steps]
    slope = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.3, (slope, errs)


def test_heun_nfe_and_last_euler_step(x64):
    gm, s = _mixture(), D.FlowMatching(t_min=0.0, t_max=1.0)
    v = gm.velocity_model(s)
    x_T = jnp.array([0.3, -1.2])
    assert int(D.FlowHeun()(v, s, x_T, D.time_grid(s, 5, "uniform")).nfe) == 9
    inside = D.FlowMatching()
    assert int(D.FlowHeun()(v, inside, x_T, D.time_grid(inside, 5, "uniform")).nfe) == 10


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_every_sampler_accepts_a_flow_model(x64):
    """Each sampler with parametrization="flow" and the flow model equals it with "eps" and
    the noise model (the conversion is exact)."""
    gm, s = _mixture(), D.FlowMatching()
    v, eps = gm.velocity_model(s), gm.noise_model(s)
    x_T = jnp.array([0.3, -1.2])
    grid = D.time_grid(s, 6)
    samplers = [D.DDIM(), D.DPMSolverPP(order=3), D.DPMSolver(order=2), D.DPMSolverSinglestep(order=2),
                D.DPMSolverPP2S(), D.UniPC(order=2), D.DEIS(order=2), D.FlowEuler(), D.FlowHeun()]
    for sampler in samplers:
        flow = dataclasses.replace(sampler, parametrization="flow")(v, s, x_T, grid).x
        noise = dataclasses.replace(sampler, parametrization="eps")(eps, s, x_T, grid).x
        np.testing.assert_allclose(flow, noise, rtol=1e-10, err_msg=type(sampler).__name__)
    adaptive = D.DPMSolverAdaptive(parametrization="flow")(v, s, x_T, D.time_grid(s, 1))
    assert adaptive.result == RESULTS.successful


def test_log_snr_samplers_refuse_the_grid_ends(x64):
    gm, s = _mixture(), D.FlowMatching(t_min=0.0, t_max=1.0)
    grid = D.time_grid(s, 4, "uniform")
    with pytest.raises(ValueError, match="infinite"):
        D.DPMSolverPP(parametrization="flow")(gm.velocity_model(s), s, jnp.ones(2), grid)
    with pytest.raises(ValueError, match="infinite"):
        D.time_grid(s, 4, "logSNR")


def test_jit_vmap(x64):
    gm, s = _mixture(), D.FlowMatching(shift=3.0, t_min=0.0, t_max=1.0)
    v = gm.velocity_model(s)
    x_T = jax.random.normal(jax.random.key(1), (5, 2), jnp.float64)
    grid = D.time_grid(s, 6, "uniform")
    for sampler in (D.FlowEuler(), D.FlowHeun()):
        batched = jax.jit(jax.vmap(lambda x, g, sampler=sampler: sampler(v, s, x, g).x, in_axes=(0, None)))(x_T, grid)
        plain = np.stack([sampler(v, s, x, grid).x for x in x_T])
        np.testing.assert_allclose(batched, plain, rtol=1e-12)


def test_custom_grid_from_timesteps_and_sigmas(x64):
    fm = D.FlowMatching(shift=3.0, t_min=0.0, t_max=1.0)
    sig = D.time_grid(fm, 6, "uniform")
    np.testing.assert_array_equal(D.custom_grid(fm, sigmas=sig), sig)  # t = sigma
    np.testing.assert_array_equal(D.custom_grid(fm, timesteps=sig), sig)
    t = jnp.array([0.9, 0.5, 0.1, 0.01])
    for s in (D.VPLinear(), D.VPCosine(), D.VE(), D.EDM(sigma_min=0.005, sigma_max=1.0)):
        # sigma_t inverted by bisection (closed form for EDM), and sigma_t / alpha_t = e^{-lambda}
        np.testing.assert_allclose(D.custom_grid(s, sigmas=s.sigma(t)), t, rtol=1e-9, err_msg=type(s).__name__)
        np.testing.assert_allclose(D.custom_grid(s, sigmas=jnp.exp(-s.lambda_(t)), noise_to_signal=True), t,
                                   rtol=1e-9, err_msg=type(s).__name__)
    # diffusers' VP "sigmas" ((1 - alpha_bar) / alpha_bar)^(1/2) at training steps are those steps
    vp = D.VPDiscrete.linear()
    steps = jnp.array([999.0, 666.0, 333.0, 0.0])
    alpha_bar = jnp.exp(2.0 * vp.log_alphas[steps.astype(jnp.int32)])
    np.testing.assert_allclose(D.custom_grid(vp, sigmas=jnp.sqrt((1 - alpha_bar) / alpha_bar), noise_to_signal=True),
                               steps, atol=1e-6)
