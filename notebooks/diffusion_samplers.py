# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fast diffusion samplers: DDIM, DPM-Solver++ and UniPC
#
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/diffusion_samplers.ipynb)
#
# A diffusion model generates data by solving its probability-flow ODE backwards from noise.
# Exponential-integrator samplers solve the linear part of that ODE exactly and approximate
# only the model's contribution, which is why 10 to 20 model evaluations (NFE) suffice. This
# notebook compares three of them, DDIM (Song, Meng, Ermon, ICLR 2021), DPM-Solver++ (Lu,
# Zhou, Bao, Chen, Li, Zhu, arXiv:2211.01095) and UniPC (Zhao, Bai, Rao, Zhou, Lu, NeurIPS
# 2023), on a 2D Gaussian mixture whose exact noise prediction and exact flow endpoint are
# known, so the sampling error can be measured without any training.

# %%
# Set-up for Colab or any fresh kernel: install jaxsci and this notebook's extras when they
# are missing. The package comes from PyPI unless JAXSCI_PIP_SOURCE names a wheel file or a
# repository URL to install instead (in Colab: `%env JAXSCI_PIP_SOURCE=git+https://github.com/jaxsci/jaxsci`
# in a cell above). From a clone of the repository, `pip install -e ".[demo]"` in its root.
import importlib.util
import os
import subprocess
import sys

EXTRAS, NEEDED = "demo", ["jaxsci", "matplotlib"]
if any(importlib.util.find_spec(name) is None for name in NEEDED):
    source = os.environ.get("JAXSCI_PIP_SOURCE", "jaxsci")
    spec = f"jaxsci[{EXTRAS}] @ {source}" if "://" in source else f"{source}[{EXTRAS}]"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)
    importlib.invalidate_caches()

# %%
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from jaxsci import core, diffusion as D

jax.config.update("jax_enable_x64", True)  # float64: errors far below float32 round-off are measured
notebook_start = time.perf_counter()

# %% [markdown]
# ## The probability-flow ODE and its exact linear part
#
# Noisy data is $x_t = \alpha_t x_0 + \sigma_t \varepsilon$; here the VP schedule with a
# linear $\beta$ (`D.VPLinear()`, $\beta$ from 0.1 to 20). With the half log-SNR
# $\lambda_t = \log(\alpha_t/\sigma_t)$ and a data-prediction model
# $\hat x_0(x_t, t)$, the probability-flow ODE has the exact solution (DPM-Solver++, eq. 9)
#
# $$
# x_s = \frac{\sigma_s}{\sigma_t}\,x_t + \sigma_s \int_{\lambda_t}^{\lambda_s} e^{\lambda}\,
#   \hat x_0(x_\lambda, \lambda)\, d\lambda .
# $$
#
# The samplers differ in how they approximate the integral, with $h = \lambda_s - \lambda_t$:
#
# * **DDIM** holds $\hat x_0$ constant over the step (first order):
#   $x_s = \frac{\sigma_s}{\sigma_t} x_t - \alpha_s (e^{-h} - 1)\,\hat x_0(x_t)$;
# * **DPM-Solver++(2M)** extrapolates linearly in $\lambda$ from the current and the previous
#   evaluation (second order, still one evaluation per step):
#   $x_s = \frac{\sigma_s}{\sigma_t} x_t - \alpha_s (e^{-h}-1)\big[(1+\tfrac{1}{2r})\hat x_0^{(i)} - \tfrac{1}{2r}\hat x_0^{(i-1)}\big]$,
#   $r = h_{i-1}/h_i$;
# * **UniPC** adds a corrector that reuses the next step's model evaluation, raising the
#   order by one at no extra NFE (unified predictor-corrector, B(h) variant `bh2`).
#
# ## An exact test bed
#
# For a Gaussian mixture $p_0 = \sum_k \pi_k \mathcal N(\mu_k, s_k^2 I)$ the noised density is
# again a mixture, so the ideal model is known in closed form:
# $\hat x_0(x_t) = \sum_k w_k(x_t)\,\mathbb E[x_0\mid x_t, k]$ with posterior weights
# $w_k$. `D.GaussianMixture` provides it as `noise_model(schedule)` (the $\varepsilon$-prediction
# every sampler takes) and the exact endpoint of the flow, `flow_endpoint`, from a
# tight adaptive solve (diffrax, Dopri8, tolerance $10^{-10}$). Eight components on a ring:

# %%
schedule = D.VPLinear()
angles = jnp.linspace(0.0, 2 * jnp.pi, 8, endpoint=False)
means = 2.0 * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=1)
mixture = D.GaussianMixture(jnp.ones(8), means, jnp.full(8, 0.15))
model = mixture.noise_model(schedule)  # eps(x, t) for one sample x

x_T = jax.random.normal(jax.random.key(0), (400, 2))
t_start, t_end = schedule.t_max, schedule.t_min
exact = jax.jit(jax.vmap(lambda x: mixture.flow_endpoint(schedule, x, t_start, t_end)))(x_T)
print(f"{x_T.shape[0]} starting points; lambda from {float(schedule.lambda_(t_start)):.2f} "
      f"to {float(schedule.lambda_(t_end)):.2f}")

# %% [markdown]
# ## Error against NFE
#
# Each sampler is an object (`D.DDIM()`, `D.DPMSolverPP(order=2)`, `D.UniPC(...)`); calling it
# as `sampler(model, schedule, x_T, grid)` returns a `Sample` whose `.x` is the sample (and
# `.nfe` the model evaluations it made). Each runs on the same starting noise and the same
# time grid (uniform in $\lambda$, `D.time_grid(schedule, n)`; $n$ steps cost $n$ model
# evaluations for all three), and we measure the root-mean-square distance to the exact
# endpoint.

# %%
samplers = {
    "DDIM": D.DDIM(),
    "DPM-Solver++(2M)": D.DPMSolverPP(order=2),
    "UniPC (bh2, order 2)": D.UniPC(order=2, variant="bh2"),
}
nfes = [5, 10, 20, 40, 80, 160, 320]
errors = {name: [] for name in samplers}
outputs = {}
bar = core.ProgressBar(len(samplers) * len(nfes), desc="samplers x NFE", every=1)
for name, sampler in samplers.items():
    run = jax.jit(jax.vmap(lambda x, grid, f=sampler: f(model, schedule, x, grid).x, in_axes=(0, None)))
    for n in nfes:
        x0 = run(x_T, D.time_grid(schedule, n))
        errors[name].append(float(jnp.sqrt(jnp.mean((x0 - exact) ** 2))))
        outputs[name, n] = x0
        bar.update(len(outputs) - 1, rms=errors[name][-1])

print("NFE      " + "".join(f"{n:>10d}" for n in nfes))
for name, errs in errors.items():
    print(f"{name:22s}" + "".join(f"{e:10.2e}" for e in errs))

fig, ax = plt.subplots(figsize=(6, 4))
for name, errs in errors.items():
    ax.loglog(nfes, errs, "o-", label=name)
ax.set_xlabel("NFE (model evaluations)")
ax.set_ylabel("RMS error vs exact flow endpoint")
ax.set_title("8-Gaussian ring, VP linear schedule, logSNR grid")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The slope of each curve on the log-log plot is the observed order of convergence. We fit it
# over the three largest NFE, closest to the asymptotic regime; theory predicts 1 for DDIM, 2
# for DPM-Solver++(2M) and 3 for UniPC with a second-order predictor and its corrector.

# %%
for name, errs in errors.items():
    slope = -np.polyfit(np.log(nfes[-3:]), np.log(errs[-3:]), 1)[0]
    print(f"{name:22s} observed order {slope:.2f}")

# %% [markdown]
# The fitted slopes approach the predicted orders (the higher-order methods' slopes still
# creep up between 80 and 320 evaluations). At 5 evaluations all three samplers are far
# from the exact endpoint; from 10 evaluations on, the higher-order methods are several times
# more accurate than DDIM at the same cost, which is what makes 10-20 step sampling usable.
#
# ## What the samples look like
#
# The same 400 starting points, mapped by each sampler with 5 and 10 evaluations, next to the
# exact flow. Below the pictures, the mean distance of the samples to the nearest mode
# centre puts a number on how sharp they are: at 5 evaluations every sampler leaves them
# blurred between the modes; at 10 the higher-order samplers come close to the exact flow's
# spread while DDIM's samples are still visibly blurred.

# %%
fig, axes = plt.subplots(2, 4, figsize=(12, 6), sharex=True, sharey=True)
for row, n in enumerate([5, 10]):
    axes[row, 0].scatter(*np.asarray(exact).T, s=3, c="k")
    axes[row, 0].set_title("exact flow endpoint", fontsize=9)
    for ax, name in zip(axes[row, 1:], samplers):
        ax.scatter(*np.asarray(outputs[name, n]).T, s=3)
        ax.set_title(f"{name}, NFE {n}\nRMS error {errors[name][nfes.index(n)]:.2e}", fontsize=9)
for ax in axes.flat:
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()

# mean distance of the samples to the nearest mode centre, a number for the picture
for name in samplers:
    for n in [5, 10]:
        dist = jnp.min(jnp.linalg.norm(outputs[name, n][:, None, :] - means[None], axis=-1), axis=1)
        print(f"{name:22s} NFE {n:2d}: mean distance to the nearest mode {float(jnp.mean(dist)):.3f}")
dist = jnp.min(jnp.linalg.norm(exact[:, None, :] - means[None], axis=-1), axis=1)
print(f"{'exact flow':22s}        : mean distance to the nearest mode {float(jnp.mean(dist)):.3f}")
print(f"notebook ran in {time.perf_counter() - notebook_start:.1f} s")
