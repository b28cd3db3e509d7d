# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Neural ODEs that are cheap to solve: regularizing the solver's own heuristics
#
# A neural ODE (Chen et al., NeurIPS 2018) computes its output by solving
# $\dot y = f_\theta(t, y)$ with an adaptive solver. The solver's cost, the number of
# function evaluations (NFE), is not fixed: it depends on how hard the learned dynamics
# are to integrate, and training without any pressure on it often produces dynamics that
# need many steps.
#
# An adaptive explicit Runge-Kutta solver already measures how hard each step is. For a
# step of size $\Delta t_j$ from $y_j$ to $y_{j+1}$ it forms an error estimate
# $\mathrm{err}_j$ from an embedded pair and accepts the step when
#
# $$E_j = \operatorname{RMS}\!\left(\frac{\mathrm{err}_j}{\mathrm{atol} + \mathrm{rtol}\,\max(|y_j|, |y_{j+1}|)}\right) \le 1 .$$
#
# Pal, Ma, Shah and Rackauckas (ICML 2021) add these numbers to the training loss:
#
# $$R_E = \sum_{j \in \text{accepted}} E_j\, |\Delta t_j|, \qquad
#   R_S = \sum_{j \in \text{accepted}} \frac{|\Delta t_j|\,\rho_j}{r},$$
#
# where $\rho_j \approx |k_s - k_{s-1}| / |g_s - g_{s-1}|$ is Hairer's estimate of the
# dominant eigenvalue from the last two stages and $r$ the size of the stability region
# (3.5068 for Tsit5). Their later paper (Pal, Edelman, Rackauckas, ICML 2023) takes a
# single extra step at a random time $t^*$ and penalizes its $E\,\Delta t$ only, which works
# with any adjoint. `jaxsci.nde` computes all of these inside diffrax.

# %%
# Colab or any environment without jaxsci: install it. From a clone of the repository,
# run `pip install -e .` in its root instead (or `pip install /path/to/clone`).
try:
    import jaxsci  # noqa: F401
except ImportError:
    # %pip install -q jaxsci scikit-learn
    import jaxsci  # noqa: F401

# %%
import dataclasses

import diffrax
import jax.numpy as jnp
import matplotlib.pyplot as plt

from jaxsci import nde
from jaxsci.nde import experiments

# %% [markdown]
# ## Counting what a solve costs
#
# `NeuralODE` returns the true NFE of every solve: stages times steps (rejected steps
# included), the first stage of a first-same-as-last method, and the two evaluations of
# Hairer's automatic initial step. A fast, stiff-ish decay costs more than a slow one at
# the same tolerance, and the solver's heuristics say why.

# %%
ts = jnp.array([0.0, 2.0])
for rate in (1.0, 10.0, 50.0):
    node = nde.NeuralODE(lambda t, y, rate=rate: -rate * y,
                         stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-5),
                         max_steps=4096)
    sol = node(jnp.ones(4), ts, heuristics=True, stiffness=True)
    print(f"rate {rate:4.0f}: NFE {int(sol.nfe):4d}, accepted steps {int(sol.num_accepted):3d}, "
          f"R_E {float(sol.heuristics.error):.3f}, R_S {float(sol.heuristics.stiffness):6.2f} "
          f"(= rate * T / 3.5068 = {rate * 2 / 3.5068:6.2f})")

# %% [markdown]
# For $\dot y = -\lambda y$ the stage estimate is exactly $\Delta t\,\lambda$, so
# $R_S = \lambda T / r$, as printed.
#
# ## Training a classifier with and without the regularizers
#
# A neural ODE classifier on scikit-learn's 8x8 digits: a linear map to 16 dimensions,
# an ODE on $[0, 1]$ with a tanh MLP field, a linear read-out. We train it three times
# with the same data, network and optimizer: unregularized, with $R_E$, and with the
# local (biased) penalty, and measure accuracy and NFE on the test set.

# %%
settings = dataclasses.replace(experiments.DEFAULTS["digits"], steps=300)
results = {m: experiments.run("digits", m, settings)
           for m in ("unregularized", "error", "local-biased")}
for m, r in results.items():
    print(f"{m:14s}: test accuracy {100 * r['metric']:.1f}%, NFE per prediction {r['test_nfe']:.0f}, "
          f"training {r['train_s']:.1f} s")

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
names = list(results)
axes[0].bar(names, [results[m]["test_nfe"] for m in names], color=["gray", "tab:blue", "tab:orange"])
axes[0].set_ylabel("NFE per test prediction")
axes[1].bar(names, [100 * results[m]["metric"] for m in names], color=["gray", "tab:blue", "tab:orange"])
axes[1].set_ylim(80, 100)
axes[1].set_ylabel("test accuracy (%)")
fig.tight_layout()

# %% [markdown]
# The regularized networks reach the same accuracy with fewer function evaluations per
# prediction. `benchmarks/nde_regularization.py` runs the full comparison (more steps,
# several seeds, the spiral and SDE experiments, and the TayNODE, RNODE and STEER
# baselines); its figures are in `benchmarks/RESULTS.md`.
#
# ## Using it in your own code
#
# * `node(y0, ts, heuristics=True)` returns `sol.heuristics.error` ($R_E$) and, with
#   `stiffness=True`, `sol.heuristics.stiffness` ($R_S$); add them to the loss.
# * `nde.local_regularization(node, y0, ts, key)` returns the solution and the local
#   penalty; it works with `diffrax.BacksolveAdjoint`.
# * With plain diffrax, wrap the solver: `nde.HeuristicsSolver(diffrax.Tsit5(), rtol, atol,
#   stiffness=False)` and read `sol.solver_state[1].error` from
#   `SaveAt(solver_state=True)`.
