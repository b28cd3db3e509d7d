import warnings

import jax
import jax.numpy as jnp
import numpy as np
from _case import BadInput

from jaxsci import diffusion as d
from jaxsci.core import enable_x64

_s = d.VPLinear()
_m = d.GaussianEps(_s, jnp.zeros(2))
_x = jnp.zeros(2)
_g = d.time_grid(_s, 3)
_g10 = d.time_grid(_s, 10)
_key = jax.random.key(0)
_nan = float("nan")


def _run(sampler, grid=_g, x=_x, model=_m, schedule=_s, **kwargs):
    return lambda: jax.block_until_ready(sampler(model, schedule, x, grid, **kwargs).x)


def _jit_grid(sampler, grid):
    """The sampler under jit with the grid traced (checked at run time)."""
    return lambda: jax.block_until_ready(jax.jit(lambda g: sampler(_m, _s, _x, g).x)(jnp.asarray(grid)))


def _float64_warning():
    with enable_x64(False), warnings.catch_warnings():
        warnings.simplefilter("error")
        d.DDIM()(_m, _s, np.zeros(2), _g)


CASES = [
    BadInput("vp-beta-order", lambda: d.VPLinear(beta_min=20.0, beta_max=0.1), ValueError, "beta_min < beta_max"),
    BadInput("vp-beta-negative", lambda: d.VPLinear(beta_min=-1.0), ValueError, "0 < beta_min"),
    BadInput("vp-t-order", lambda: d.VPLinear(t_min=1.0, t_max=0.5), ValueError, "t_min < t_max"),
    BadInput("vp-t-zero", lambda: d.VPLinear(t_min=0.0), ValueError, "0 < t_min"),
    BadInput("grid-steps-zero", lambda: d.time_grid(_s, 0), ValueError, "num_steps"),
    BadInput("grid-steps-float", lambda: d.time_grid(_s, 2.5), TypeError, "positive integer"),
    BadInput("grid-kind", lambda: d.time_grid(_s, 5, "karras2"), ValueError, "must be one of"),
    BadInput("ddim-grid-short", _run(d.DDIM(), jnp.array([1.0])), ValueError, "at least 2"),
    BadInput("ddim-grid-2d", _run(d.DDIM(), jnp.ones((2, 2))), ValueError, "1-D array"),
    BadInput("ddim-grid-increasing", _run(d.DDIM(), jnp.array([0.1, 0.5])), ValueError, "strictly decreasing"),
    BadInput("dpmpp-grid-short", _run(d.DPMSolverPP(), jnp.array([1.0])), ValueError, "at least 2"),
    BadInput("grid-outside-range", _run(d.DDIM(), jnp.array([1.5, 0.5])), ValueError, "inside the schedule's range"),
    BadInput("time-grid-ends", lambda: d.time_grid(_s, 5, t_start=0.1, t_end=0.5), ValueError, "t_end < t_start"),
    BadInput("unknown-parametrization", lambda: d.DPMSolverPP(parametrization="velocity"), ValueError, "must be one of"),
    BadInput("order-too-high", lambda: d.DPMSolverPP(order=4), ValueError, "order in"),
    BadInput("unipc-variant", lambda: d.UniPC(variant="bh3"), ValueError, "must be one of"),
    BadInput("solver-type", lambda: d.DPMSolverPP(solver_type="heun"), ValueError, "must be one of"),
    BadInput("ddim-eta-negative", lambda: d.DDIM(eta=-0.5), ValueError, "eta"),
    BadInput("ddim-eta-without-key", _run(d.DDIM(eta=1.0)), TypeError, "needs a PRNG `key`"),
    BadInput("sde-without-key", _run(d.SDEDPMSolverPP2M()), TypeError, "PRNG `key`"),
    BadInput("model-not-callable", _run(d.DDIM(), model=3.0), TypeError, "callable model(x, t)"),
    BadInput("x-int", _run(d.DDIM(), x=jnp.zeros(2, jnp.int32)), TypeError, "floating"),
    BadInput("discrete-betas", lambda: d.VPDiscrete([0.5, 1.5]), ValueError, "each in (0, 1)"),
    BadInput("edm-sigmas", lambda: d.EDM(sigma_min=1.0, sigma_max=0.5), ValueError, "sigma_min < sigma_max"),
    BadInput("mixture-shapes", lambda: d.GaussianMixture(jnp.ones(2), jnp.zeros((3, 2)), jnp.ones(3)), ValueError,
             "weights (K,)"),
    BadInput("thresholding-percentile", lambda: d.dynamic_thresholding(_m, percentile=1.5), ValueError, "percentile"),
    BadInput("adaptive-order", lambda: d.DPMSolverAdaptive(order=1), ValueError, "order in (2, 3)"),
    BadInput("restart-interval", lambda: d.Restart(d.DPMSolverPP(), t_lo=0.5, t_hi=0.2), ValueError, "t_lo < t_hi"),
    BadInput("restart-negative", lambda: d.Restart(d.DPMSolverPP(), t_lo=0.1, t_hi=0.2, num_restarts=-1), ValueError,
             "non-negative integer"),
    BadInput("restart-main-steps", _run(d.Restart(d.DPMSolverPP(), t_lo=0.1, t_hi=0.2), d.time_grid(_s, 1), key=_key),
             ValueError, "at least 2 steps"),
    BadInput("restart-no-key", _run(d.Restart(d.DPMSolverPP(), t_lo=0.1, t_hi=0.2), _g10), TypeError, "PRNG `key`"),
]

# grids: NaN/inf, duplicates, wrong kinds; concrete and traced
CASES += [
    BadInput("karras-rho-zero", lambda: d.time_grid(_s, 5, "karras", rho=0.0), ValueError, "`rho` must be"),
    BadInput("karras-rho-nan", lambda: d.time_grid(_s, 5, "karras", rho=_nan), ValueError, "`rho` must be"),
    BadInput("karras-rho-negative", lambda: d.time_grid(_s, 5, "karras", rho=-7.0), ValueError, "> 0"),
    BadInput("grid-nan", _run(d.DDIM(), jnp.array([1.0, _nan, 0.001])), ValueError, "finite times"),
    BadInput("grid-inf", _run(d.UniPC(), jnp.array([jnp.inf, 0.5, 0.001])), ValueError, "NaN/inf"),
    BadInput("validate-grid-nan", lambda: d.validate_grid(_s, [1.0, _nan]), ValueError, "finite times"),
    BadInput("grid-duplicate", _run(d.DPMSolverPP(), jnp.array([1.0, 0.5, 0.5, 0.001])), ValueError, "duplicated"),
    BadInput("validate-grid-duplicate-ends", lambda: d.validate_grid(_s, [1.0, 1.0]), ValueError, "duplicated"),
    BadInput("grid-string", lambda: d.validate_grid(_s, "1.0, 0.5"), TypeError, "real floating"),
    BadInput("grid-complex", lambda: d.validate_grid(_s, jnp.array([1.0, 0.5], jnp.complex64)), TypeError, "real floating"),
    BadInput("grid-nan-traced", _jit_grid(d.DDIM(), [1.0, _nan, 0.001]), Exception, "NaN/inf"),
    BadInput("grid-duplicate-traced", _jit_grid(d.DEIS(), [1.0, 0.5, 0.5, 0.001]), Exception, "no duplicated entries"),
    BadInput("grid-increasing-traced", _jit_grid(d.DPMSolverPP(), [0.5, 1.0]), Exception, "strictly decreasing"),
    BadInput("grid-outside-traced", _jit_grid(d.UniPC(), [1.5, 0.5]), Exception, "inside the schedule's range"),
    BadInput("time-grid-traced-ends", lambda: jax.block_until_ready(
        jax.jit(lambda a: d.time_grid(_s, 4, t_start=a))(jnp.asarray(_nan))), Exception, "t_end < t_start"),
    BadInput("time-grid-schedule-type", lambda: d.time_grid("vp", 5), TypeError, "jaxsci.diffusion schedule"),
]

# sampler calls: schedules, models, x_T, keys, dtypes
CASES += [
    BadInput("sampler-schedule-type", _run(d.DDIM(), schedule="vp"), TypeError, "jaxsci.diffusion schedule"),
    BadInput("model-wrong-shape", _run(d.DPMSolverPP(), model=lambda x, t: jnp.zeros(3)), ValueError,
             "shaped like one sample"),
    BadInput("model-returns-tuple", _run(d.UniPC(), model=lambda x, t: (x, x)), ValueError, "shaped like one sample"),
    BadInput("x-complex", _run(d.DDIM(), x=jnp.zeros(2, jnp.complex64)), TypeError, "real floating"),
    BadInput("key-int", _run(d.SDEDPMSolverPP2M(), key=0), TypeError, "single JAX PRNG key"),
    BadInput("key-batch", _run(d.DDIM(eta=0.5), key=jax.random.split(_key, 2)), TypeError, "single JAX PRNG key"),
    BadInput("float64-x_T-without-x64", _float64_warning, UserWarning, "jax_enable_x64"),
    BadInput("ddim-eta-nan", lambda: d.DDIM(eta=_nan), ValueError, "finite number >= 0"),
    BadInput("throw-not-bool", lambda: d.DPMSolverPP(throw="yes"), TypeError, "True or False"),
    BadInput("lower-order-final-not-bool", lambda: d.UniPC(lower_order_final=1), TypeError, "True or False"),
    BadInput("order-bool", lambda: d.DPMSolver(order=True), ValueError, "order in"),
    BadInput("deis-order", lambda: d.DEIS(order=4), ValueError, "order in (1, 2, 3)"),
    BadInput("singlestep-order", lambda: d.DPMSolverSinglestep(order=0), ValueError, "order in"),
    BadInput("mixture-random-without-key", lambda: d.GaussianMixture.random(4, 2), TypeError, "key"),
    BadInput("mixture-sample-int-key", lambda: d.GaussianMixture.random(4, 2, key=_key).sample(3, key=1),
             TypeError, "PRNG key"),
]

# the adaptive solver and Restart
CASES += [
    BadInput("adaptive-h-init-zero", lambda: d.DPMSolverAdaptive(h_init=0.0), ValueError, "h_init"),
    BadInput("adaptive-h-init-nan", lambda: d.DPMSolverAdaptive(h_init=_nan), ValueError, "h_init"),
    BadInput("adaptive-h-init-traced-zero", lambda: jax.block_until_ready(jax.jit(
        lambda h: d.DPMSolverAdaptive(h_init=h)(_m, _s, _x, d.time_grid(_s, 1)).x)(0.0)), Exception, "h_init"),
    BadInput("adaptive-atol-zero", lambda: d.DPMSolverAdaptive(atol=0.0), ValueError, "atol"),
    BadInput("adaptive-rtol-negative", lambda: d.DPMSolverAdaptive(rtol=-1e-3), ValueError, "rtol"),
    BadInput("adaptive-theta", lambda: d.DPMSolverAdaptive(theta=1.5), ValueError, "theta"),
    BadInput("adaptive-max-steps", lambda: d.DPMSolverAdaptive(max_steps=0), ValueError, "positive integer"),
    BadInput("adaptive-long-grid", _run(d.DPMSolverAdaptive(), _g10), ValueError, "two end times"),
    BadInput("restart-inner-not-sampler", lambda: d.Restart(lambda m, s, x, g: x, t_lo=0.1, t_hi=0.3), TypeError,
             "`inner` must be a sampler"),
    BadInput("restart-t-hi-above-t-max", _run(d.Restart(d.DDIM(), t_lo=0.1, t_hi=2.0), _g10, key=_key), ValueError,
             "t_hi <= t_max"),
    BadInput("restart-t-lo-nan", lambda: d.Restart(d.DDIM(), t_lo=_nan, t_hi=0.3), ValueError, "finite time"),
    BadInput("restart-split-too-late", _run(d.Restart(d.DDIM(), t_lo=0.1, t_hi=0.3, main_steps_above=10), _g10,
                                            key=_key), ValueError, "must be below"),
    BadInput("restart-t-lo-off-the-split", _run(d.Restart(d.DDIM(), t_lo=0.1, t_hi=0.3, main_steps_above=1), _g10,
                                                key=_key), ValueError, "must lie between"),
    BadInput("restart-traced-without-split", lambda: jax.jit(
        lambda lo: d.Restart(d.DDIM(), t_lo=lo, t_hi=0.4)(_m, _s, _x, _g10, key=_key).x)(0.1), TypeError,
        "main_steps_above"),
    BadInput("restart-traced-interval", lambda: jax.block_until_ready(jax.jit(
        lambda lo: d.Restart(d.DDIM(), t_lo=lo, t_hi=0.4, main_steps_above=5)(_m, _s, _x, _g10, key=_key).x)(0.5)),
        Exception, "t_lo < t_hi"),
    BadInput("sliced-wasserstein-shapes", lambda: d.sliced_wasserstein(jnp.zeros((4, 2)), jnp.zeros((3, 2)), key=_key),
             ValueError, "one shape"),
    BadInput("sliced-wasserstein-p", lambda: d.sliced_wasserstein(jnp.zeros((4, 2)), jnp.zeros((4, 2)), key=_key, p=3),
             ValueError, "p"),
    BadInput("frechet-distance-dims", lambda: d.frechet_distance(jnp.zeros((4, 2)), jnp.zeros((4, 3))), ValueError,
             "frechet_distance"),
    BadInput("denoising-loss-parametrization", lambda: d.denoising_loss(_m, _s, jnp.zeros((4, 2)), key=_key,
                                                                        parametrization="velocity"), ValueError,
             "parametrization"),
    BadInput("pf-reference-parametrization", lambda: d.probability_flow_reference(_m, _s, _x, parametrization="epsilon"),
             ValueError, "parametrization"),
]

# Gotta Go Fast and Euler-Maruyama (the reverse SDE)
_g1 = d.time_grid(_s, 1)
CASES += [
    BadInput("ggf-atol-negative", lambda: d.GottaGoFast(atol=-1e-3), ValueError, "`atol` must be a finite number > 0"),
    BadInput("ggf-atol-zero", lambda: d.GottaGoFast(atol=0.0), ValueError, "where x is 0"),
    BadInput("ggf-rtol-zero", lambda: d.GottaGoFast(rtol=0.0), ValueError, "`rtol` must be a finite number > 0"),
    BadInput("ggf-rtol-negative", lambda: d.GottaGoFast(rtol=-0.01), ValueError, "e.g. 0.01"),
    BadInput("ggf-rtol-nan", lambda: d.GottaGoFast(rtol=_nan), ValueError, "rtol"),
    BadInput("ggf-theta-above-one", lambda: d.GottaGoFast(theta=1.5), ValueError, "`theta` must be a finite number in (0, 1]"),
    BadInput("ggf-theta-zero", lambda: d.GottaGoFast(theta=0.0), ValueError, "safety factor"),
    BadInput("ggf-exponent-zero", lambda: d.GottaGoFast(r=0.0), ValueError, "`r` must be a finite number > 0"),
    BadInput("ggf-h-init-negative", lambda: d.GottaGoFast(h_init=-0.01), ValueError, "h_init"),
    BadInput("ggf-h-init-traced-zero", lambda: jax.block_until_ready(jax.jit(
        lambda h: d.GottaGoFast(h_init=h)(_m, _s, _x, _g1, key=_key).x)(0.0)), Exception, "h_init"),
    BadInput("ggf-max-steps-zero", lambda: d.GottaGoFast(max_steps=0), ValueError, "positive integer"),
    BadInput("ggf-max-steps-float", lambda: d.GottaGoFast(max_steps=10.5), ValueError, "positive integer"),
    BadInput("ggf-norm", lambda: d.GottaGoFast(norm="l2"), TypeError, "`norm` must be a function"),
    BadInput("ggf-throw", lambda: d.GottaGoFast(throw="yes"), TypeError, "True or False"),
    BadInput("ggf-no-key", _run(d.GottaGoFast(), _g1), TypeError, "PRNG `key`"),
    BadInput("ggf-long-grid", _run(d.GottaGoFast(), _g10, key=_key), ValueError, "two end times"),
    BadInput("ggf-parametrization", lambda: d.GottaGoFast(parametrization="noise"), ValueError, "parametrization"),
    BadInput("em-no-key", _run(d.EulerMaruyama()), TypeError, "PRNG `key`"),
    BadInput("em-denoise-flag", lambda: d.EulerMaruyama(denoise_to_zero=1), TypeError, "True or False"),
    BadInput("em-grid-increasing", _run(d.EulerMaruyama(), jnp.array([0.1, 0.5]), key=_key), ValueError,
             "strictly decreasing"),
]

# flow matching: the schedule, its log-SNR ends, the flow samplers
_fm = d.FlowMatching(t_min=0.0, t_max=1.0)
_fm_grid = d.time_grid(_fm, 4, "uniform")
CASES += [
    BadInput("flow-shift-zero", lambda: d.FlowMatching(shift=0.0), ValueError, "shift > 0"),
    BadInput("flow-shift-nan", lambda: d.FlowMatching(shift=_nan), TypeError, "finite number"),
    BadInput("flow-t-max-above-one", lambda: d.FlowMatching(t_max=1.5), ValueError, "t_max <= 1"),
    BadInput("flow-t-min-negative", lambda: d.FlowMatching(t_min=-0.1), ValueError, "0 <= t_min"),
    BadInput("flow-t-order", lambda: d.FlowMatching(t_min=0.5, t_max=0.2), ValueError, "t_min < t_max"),
    BadInput("flow-log-snr-sampler-at-t-one", _run(d.DPMSolverPP(parametrization="flow"), _fm_grid, schedule=_fm),
             ValueError, "log-SNR"),
    BadInput("flow-log-snr-sampler-traced", lambda: jax.block_until_ready(jax.jit(
        lambda g: d.UniPC(parametrization="flow")(_m, _fm, _x, g).x)(_fm_grid)), Exception, "infinite"),
    BadInput("flow-logsnr-grid-at-t-one", lambda: d.time_grid(_fm, 4, "logSNR"), ValueError, "infinite"),
    BadInput("flow-euler-parametrization", lambda: d.FlowEuler(parametrization="velocity"), ValueError,
             "must be one of"),
    BadInput("flow-heun-throw", lambda: d.FlowHeun(throw=1), TypeError, "True or False"),
    BadInput("flow-euler-grid-outside", _run(d.FlowEuler(), jnp.array([1.5, 0.5]), schedule=_fm), ValueError,
             "inside the schedule's range"),
    BadInput("flow-heun-model-shape", _run(d.FlowHeun(), _fm_grid, model=lambda x, t: x[:1], schedule=_fm),
             ValueError, "shaped like one sample"),
]

# the step API
_state = d.set_timesteps(d.DDIM(), _s, _g, _x)


def _past_the_end():
    x, state = _x, _state
    for _ in range(state.num_steps + 1):
        x, state = d.step(state, _m(x, state.time), x)
    return jax.block_until_ready(x)


CASES += [
    BadInput("set-timesteps-unsupported", lambda: d.set_timesteps(d.UniPC(), _s, _g, _x), TypeError, "supports"),
    BadInput("set-timesteps-grid", lambda: d.set_timesteps(d.DDIM(), _s, jnp.array([0.1, 0.5]), _x), ValueError,
             "strictly decreasing"),
    BadInput("set-timesteps-log-snr", lambda: d.set_timesteps(d.DPMSolverPP(), _fm, _fm_grid, _x), ValueError,
             "log-SNR"),
    BadInput("set-timesteps-steps-zero", lambda: d.set_timesteps(d.FlowEuler(), _fm, 0, _x), ValueError,
             "num_steps"),
    BadInput("step-not-a-state", lambda: d.step(_g, _x, _x), TypeError, "StepState"),
    BadInput("step-output-shape", lambda: d.step(_state, jnp.zeros(3), _x), ValueError, "shaped like `x`"),
    BadInput("step-eta-without-key", lambda: d.step(d.set_timesteps(d.DDIM(eta=1.0), _s, _g, _x), _x, _x), TypeError,
             "key"),
    BadInput("step-past-the-end", _past_the_end, Exception, "after the last"),
]

# batched classifier-free guidance
_pair_model = jax.vmap(lambda x, t, c: x + c, in_axes=(0, None, 0))
CASES += [
    BadInput("batched-cfg-model", lambda: d.batched_classifier_free_guidance(3.0, _x, _x, 2.0), TypeError,
             "callable"),
    BadInput("batched-cfg-structure", lambda: d.batched_classifier_free_guidance(_pair_model, {"a": _x}, _x, 2.0),
             ValueError, "one structure"),
    BadInput("batched-cfg-shapes", lambda: d.batched_classifier_free_guidance(_pair_model, _x, jnp.zeros(3), 2.0),
             ValueError, "one shape"),
    BadInput("batched-cfg-scale", lambda: d.batched_classifier_free_guidance(_pair_model, _x, _x, _nan), ValueError,
             "finite number"),
    BadInput("batched-cfg-output", lambda: d.batched_classifier_free_guidance(lambda x, t, c: x[0], _x, _x, 2.0)(_x, 0.5),
             ValueError, "two outputs"),
]

# custom grids
CASES += [
    BadInput("custom-grid-both", lambda: d.custom_grid(_s, timesteps=_g, sigmas=_g), TypeError, "exactly one"),
    BadInput("custom-grid-neither", lambda: d.custom_grid(_s), TypeError, "exactly one"),
    BadInput("custom-grid-increasing", lambda: d.custom_grid(_fm, sigmas=[0.1, 0.5]), ValueError,
             "strictly decreasing"),
    BadInput("custom-grid-negative", lambda: d.custom_grid(_fm, sigmas=[0.5, -0.1]), ValueError, ">= 0"),
    BadInput("custom-grid-out-of-range", lambda: d.custom_grid(_s, sigmas=[2.0, 0.5]), ValueError,
             "schedule's range"),
    BadInput("custom-grid-2d", lambda: d.custom_grid(_fm, sigmas=jnp.ones((2, 2))), ValueError, "1-D"),
    BadInput("custom-grid-timesteps-outside", lambda: d.custom_grid(_s, timesteps=[1.5, 0.5]), ValueError,
             "inside the schedule's range"),
    BadInput("custom-grid-schedule", lambda: d.custom_grid("vp", sigmas=[0.5, 0.1]), TypeError, "schedule"),
]

# learned grids
_xb = jnp.zeros((4, 2))
_fit = lambda **kw: d.fit_grid(**{**dict(sampler=d.DDIM(), model=_m, schedule=_s, x_T=_xb, reference=_xb,
                                        initial_grid=_g, steps=2, key=_key), **kw})
CASES += [
    BadInput("learned-grid-ends", lambda: d.LearnedGrid(jnp.zeros(3), 0.1, 0.5), ValueError, "t_start > t_end"),
    BadInput("learned-grid-fraction", lambda: d.LearnedGrid(jnp.zeros(3), 1.0, 0.1, 1.0), ValueError,
             "min_fraction"),
    BadInput("learned-grid-logits-2d", lambda: d.LearnedGrid(jnp.zeros((2, 2)), 1.0, 0.1), ValueError,
             "one entry per step"),
    BadInput("learned-grid-infinite-log-snr",
             lambda: d.LearnedGrid.from_grid(d.FlowMatching(t_min=0.0, t_max=1.0), [1.0, 0.5, 0.0]),
             ValueError, "log-SNR"),
    BadInput("fit-grid-sampler", lambda: _fit(sampler="dpm"), TypeError, "jaxsci.diffusion sampler"),
    BadInput("fit-grid-shapes", lambda: _fit(reference=jnp.zeros((3, 2))), ValueError, "same shape"),
    BadInput("fit-grid-nan-reference", lambda: _fit(reference=jnp.full((4, 2), _nan)), ValueError,
             "reference"),
    BadInput("fit-grid-batch-size", lambda: _fit(batch_size=5), ValueError, "exceeds"),
    BadInput("fit-grid-optimizer", lambda: _fit(optimizer="adam"), TypeError, "optax"),
    BadInput("fit-grid-key", lambda: _fit(key=0), TypeError, "key"),
    BadInput("fit-grid-grid", lambda: _fit(initial_grid=[0.5, 0.9]), ValueError, "strictly decreasing"),
    BadInput("load-grid-missing", lambda: d.load_grid("/nonexistent/grid.json"), FileNotFoundError, "grid.json"),
]

# DC-Solver compensation
_fit_dc = lambda **kw: d.fit_compensation(**{**dict(sampler=d.UniPC(order=2), model=_m, schedule=_s,
                                                    x_T=jnp.zeros((4, 2)), grid=d.time_grid(_s, 4), steps=2), **kw})
CASES += [
    BadInput("unipc-compensation-2d", lambda: d.UniPC(compensation=jnp.ones((2, 2))), ValueError, "1-D array"),
    BadInput("unipc-compensation-nan", lambda: d.UniPC(compensation=jnp.array([1.0, _nan])), ValueError,
             "NaN/inf"),
    BadInput("unipc-compensation-length", _run(d.UniPC(compensation=jnp.ones(4))), ValueError,
             "fit one ratio per step"),
    BadInput("unipc-compensation-order", lambda: d.UniPC(compensation_order=0), ValueError, "compensation_order"),
    BadInput("fit-compensation-sampler", lambda: _fit_dc(sampler=d.DPMSolverPP()), TypeError, "UniPC"),
    BadInput("fit-compensation-objective", lambda: _fit_dc(objective="fid"), ValueError, "objective"),
    BadInput("fit-compensation-short-grid", lambda: _fit_dc(grid=d.time_grid(_s, 2)), ValueError, "warm-up"),
    BadInput("fit-compensation-one-noise", lambda: _fit_dc(x_T=jnp.zeros(2)), ValueError, "batch"),
    BadInput("fit-compensation-reference-shape", lambda: _fit_dc(reference=jnp.zeros((4, 2))), ValueError,
             "(4, 5, 2)"),
    BadInput("fit-compensation-reference-nan", lambda: _fit_dc(reference=jnp.full((4, 5, 2), _nan)), ValueError,
             "NaN/inf"),
    BadInput("fit-compensation-steps", lambda: _fit_dc(steps=0), ValueError, "steps"),
]

# DPM-Solver-v3 and its empirical model statistics
_ems = d.ModelStatistics.constant(jnp.linspace(-6.0, 5.0, 12), (2,))
_ems_data = jnp.zeros((8, 2))
_ems_fit = lambda **kw: d.model_statistics(**{**dict(model=_m, schedule=_s, data=_ems_data, key=_key,
                                                     num_lambdas=4), **kw})
CASES += [
    BadInput("v3-statistics-shape", _run(d.DPMSolverV3(d.ModelStatistics.constant(jnp.linspace(-6.0, 5.0, 12), (3,)))),
             ValueError, "statistics are for samples of shape (3,)"),
    BadInput("v3-statistics-type", lambda: d.DPMSolverV3("ems"), TypeError, "ModelStatistics"),
    BadInput("v3-order", lambda: d.DPMSolverV3(_ems, order=4), ValueError, "order in (1, 2, 3)"),
    BadInput("v3-corrector-not-bool", lambda: d.DPMSolverV3(_ems, use_corrector=1), TypeError, "True or False"),
    BadInput("v3-pseudo-not-bool", lambda: d.DPMSolverV3(_ems, predictor_pseudo="auto"), TypeError,
             "True, False or None"),
    BadInput("v3-grid-outside-statistics",
             _run(d.DPMSolverV3(d.ModelStatistics.constant(jnp.linspace(-1.0, 1.0, 5), (2,)))), ValueError,
             "log-SNR range of the model statistics"),
    BadInput("ems-num-lambdas-one", lambda: _ems_fit(num_lambdas=1), ValueError, "at least 2"),
    BadInput("ems-num-lambdas-zero", lambda: _ems_fit(num_lambdas=0), ValueError, "positive integer"),
    BadInput("ems-chunk-size-zero", lambda: _ems_fit(chunk_size=0), ValueError, "`chunk_size` must be a positive"),
    BadInput("ems-data-shape", lambda: _ems_fit(model=lambda x, t: x[:1]), ValueError, "shaped like one data point"),
    BadInput("ems-data-one-point", lambda: _ems_fit(data=jnp.zeros(2)), ValueError, "n >= 2"),
    BadInput("ems-data-nan", lambda: _ems_fit(data=jnp.full((8, 2), _nan)), ValueError, "NaN/inf"),
    BadInput("ems-no-key", lambda: _ems_fit(key=None), TypeError, "key"),
    BadInput("ems-parametrization", lambda: _ems_fit(parametrization="velocity"), ValueError, "must be one of"),
    BadInput("ems-lambdas-decreasing", lambda: d.ModelStatistics(jnp.array([1.0, 0.0]), jnp.zeros((2, 2)),
                                                                 jnp.zeros((2, 2)), jnp.zeros((2, 2))),
             ValueError, "strictly increasing"),
    BadInput("ems-arrays-shapes", lambda: d.ModelStatistics(jnp.linspace(0.0, 1.0, 3), jnp.zeros((3, 2)),
                                                            jnp.zeros((4, 2)), jnp.zeros((3, 2))),
             ValueError, "num_lambdas = 3"),
    BadInput("load-statistics-missing", lambda: d.load_statistics("/nonexistent/ems.npz"), FileNotFoundError,
             "ems.npz"),
]
