"""Parity with Hugging Face diffusers' schedulers (optional: needs torch and diffusers).

Same betas, same timesteps, same x_T and the same analytic model (a Gaussian mixture's exact
noise prediction, evaluated in JAX and handed to the scheduler): the final samples agree to
1e-4 relative. The flow-matching Euler scheduler: the same sigmas (t = sigma), the mixture's
exact velocity, 1e-5 relative. Diffusers' last step goes to sigma = 0 with a first-order update, which is
jaxsci's ``denoise_to_zero``. Skipped without the extra, except when the environment sets
``JAXSCI_REQUIRE_DIFFUSERS=1`` (as CI does): then a missing extra fails the module.
"""

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import diffusion as D
from jaxsci.core import enable_x64

try:  # optional (make compare); any failure to import, e.g. a partial install, skips the module
    import diffusers
    import torch
except Exception as err:
    if os.environ.get("JAXSCI_REQUIRE_DIFFUSERS") == "1":  # CI: a missing extra is a failure
        raise ImportError(f"JAXSCI_REQUIRE_DIFFUSERS=1 but diffusers/torch are not usable ({err}); "
                          "run `make compare`.") from err
    pytest.skip(f"diffusers/torch not usable: {err}", allow_module_level=True)

NUM_STEPS = 10


@pytest.fixture(scope="module")
def setting():
    with enable_x64(True):
        scheduler = diffusers.DDIMScheduler()
        betas = scheduler.betas.double().numpy()
        schedule = D.VPDiscrete(betas)
        gm = D.GaussianMixture.random(4, 3, std=0.3, key=jax.random.key(0))
        x_T = np.asarray(jax.random.normal(jax.random.key(1), (6, 3)), dtype=np.float64)
        return schedule, gm, x_T


def _run_diffusers(scheduler, model, x_T):
    scheduler.set_timesteps(NUM_STEPS)
    sample = torch.tensor(x_T)
    batched = jax.jit(jax.vmap(model, in_axes=(0, None)))  # one compile for every step
    for t in scheduler.timesteps:
        eps = np.asarray(batched(jnp.asarray(sample.numpy()), float(t)))
        sample = scheduler.step(torch.tensor(eps), t, sample).prev_sample
    return sample.numpy(), np.asarray(scheduler.timesteps, dtype=np.float64)


CASES = {
    "ddim": (lambda: diffusers.DDIMScheduler(clip_sample=False), D.DDIM()),
    "dpm_solver_pp_2m": (lambda: diffusers.DPMSolverMultistepScheduler(solver_order=2),
                         D.DPMSolverPP(order=2)),
    "dpm_solver_pp_3m": (lambda: diffusers.DPMSolverMultistepScheduler(solver_order=3),
                         D.DPMSolverPP(order=3)),
    # noise prediction and bh1 cannot step to sigma = 0 (diffusers refuses, or returns NaN):
    # their last step goes to the training schedule's smallest sigma, t = 0
    "dpm_solver_2m": (lambda: diffusers.DPMSolverMultistepScheduler(solver_order=2, algorithm_type="dpmsolver",
                                                                    final_sigmas_type="sigma_min"),
                      D.DPMSolver(order=2)),
    "dpm_solver_3m": (lambda: diffusers.DPMSolverMultistepScheduler(solver_order=3, algorithm_type="dpmsolver",
                                                                    final_sigmas_type="sigma_min"),
                      D.DPMSolver(order=3)),
    "unipc_bh1": (lambda: diffusers.UniPCMultistepScheduler(solver_type="bh1", final_sigmas_type="sigma_min"),
                  D.UniPC(order=2, variant="bh1")),
    "unipc_bh1_3": (lambda: diffusers.UniPCMultistepScheduler(solver_type="bh1", solver_order=3,
                                                              final_sigmas_type="sigma_min"),
                    D.UniPC(order=3, variant="bh1")),
    "unipc_bh2": (lambda: diffusers.UniPCMultistepScheduler(solver_type="bh2"),
                  D.UniPC(order=2, variant="bh2")),
    "unipc_bh2_3": (lambda: diffusers.UniPCMultistepScheduler(solver_type="bh2", solver_order=3),
                    D.UniPC(order=3, variant="bh2")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_diffusers(name, setting, x64):
    make_scheduler, sampler = CASES[name]
    schedule, gm, x_T = setting
    model = gm.noise_model(schedule)
    theirs, timesteps = _run_diffusers(make_scheduler(), model, x_T)
    scheduler = make_scheduler()
    to_zero = getattr(scheduler.config, "final_sigmas_type", "zero") == "zero"
    if to_zero:  # the last step goes to sigma = 0: jaxsci's denoise_to_zero
        grid = jnp.asarray(timesteps)
    else:  # the last step goes to t = 0
        grid = jnp.asarray(np.append(timesteps, 0.0))
    sampler = dataclasses.replace(sampler, denoise_to_zero=to_zero)
    ours = jax.vmap(lambda x: sampler(model, schedule, x, grid).x)(jnp.asarray(x_T))
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("shift", [1.0, 3.0])
def test_flow_match_euler_matches_diffusers(shift, x64):
    """FlowEuler on diffusers' FlowMatchEulerDiscreteScheduler sigmas (shifted as diffusers
    shifts them, down to sigma = 0), with the mixture's exact velocity: the same final sample
    (diffusers steps in float32, hence 1e-5). jaxsci's SD3-shifted uniform grid between the
    same ends equals diffusers' sigmas."""
    scheduler = diffusers.FlowMatchEulerDiscreteScheduler(shift=shift)
    scheduler.set_timesteps(NUM_STEPS)
    sigmas = scheduler.sigmas.double().numpy()
    assert sigmas.shape == (NUM_STEPS + 1,) and sigmas[0] == 1.0 and sigmas[-1] == 0.0
    schedule = D.FlowMatching(shift=shift, t_min=0.0, t_max=1.0)
    grid = D.time_grid(schedule, NUM_STEPS - 1, "uniform", t_end=float(sigmas[-2]))
    np.testing.assert_allclose(np.append(np.asarray(grid), 0.0), sigmas, rtol=1e-6, atol=1e-7)
    gm = D.GaussianMixture.random(4, 3, std=0.3, key=jax.random.key(0))
    model = gm.velocity_model(schedule)
    x_T = np.asarray(jax.random.normal(jax.random.key(1), (6, 3)), dtype=np.float64)
    batched = jax.jit(jax.vmap(model, in_axes=(0, None)))
    sample = torch.tensor(x_T)
    for i, t in enumerate(scheduler.timesteps):
        v = np.asarray(batched(jnp.asarray(sample.numpy()), float(sigmas[i])))
        sample = scheduler.step(torch.tensor(v), t, sample).prev_sample
    ours = jax.vmap(lambda x: D.FlowEuler()(model, schedule, x, jnp.asarray(sigmas)).x)(jnp.asarray(x_T))
    # measured: |diff| / |x| 1.0e-6 (shift 1) and 3.4e-7 (shift 3), largest |diff| 2.2e-6; a loop that
    # rounds each step's sample to float32 as diffusers does matches diffusers to 7e-8
    np.testing.assert_allclose(np.asarray(ours), sample.numpy(), rtol=1e-5, atol=1e-6)
