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
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/regularized_node.ipynb)
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
# Set-up for Colab or any fresh kernel: install jaxsci and this notebook's extras when they
# are missing. The package comes from PyPI unless JAXSCI_PIP_SOURCE names a wheel file or a
# repository URL to install instead (in Colab: `%env JAXSCI_PIP_SOURCE=git+https://github.com/jaxsci/jaxsci`
# in a cell above). From a clone of the repository, `pip install -e ".[demo,datasets]"` in its root.
import importlib.util
import os
import subprocess
import sys

EXTRAS, NEEDED = "demo,datasets", ["jaxsci", "matplotlib", "sklearn"]
if any(importlib.util.find_spec(name) is None for name in NEEDED):
    source = os.environ.get("JAXSCI_PIP_SOURCE", "jaxsci")
    spec = f"jaxsci[{EXTRAS}] @ {source}" if "://" in source else f"{source}[{EXTRAS}]"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)
    importlib.invalidate_caches()

# %%

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from sklearn.datasets import load_digits

from jaxsci import nde
from jaxsci.core import fit

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
digits = load_digits()
x_all = (digits.data / 16.0).astype(np.float32)
order = np.random.default_rng(0).permutation(len(x_all))
x_all, y_all = jnp.asarray(x_all[order]), jnp.asarray(digits.target[order])
x_test, y_test, x_train, y_train = x_all[:360], y_all[:360], x_all[360:], y_all[360:]
ts = jnp.array([0.0, 1.0])


class Field(eqx.Module):
    mlp: eqx.nn.MLP

    def __call__(self, t, y):  # jaxsci's convention: f(t, y), here on a batch of rows
        return jax.vmap(lambda row: self.mlp(jnp.concatenate([row, jnp.full((1,), t, row.dtype)])))(y)


class Classifier(eqx.Module):
    encoder: eqx.nn.Linear
    field: Field
    decoder: eqx.nn.Linear

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.encoder = eqx.nn.Linear(64, 16, key=k1)
        self.field = Field(eqx.nn.MLP(17, 16, 32, 2, activation=jnp.tanh, key=k2))
        self.decoder = eqx.nn.Linear(16, 10, key=k3)

    def node(self):
        return nde.NeuralODE(self.field, diffrax.Tsit5(),
                             diffrax.PIDController(rtol=1e-4, atol=1e-4), max_steps=1024)


def loss(model, data, key, method):
    x, y = data
    k_batch, k_local = jax.random.split(key)
    idx = jax.random.choice(k_batch, x.shape[0], (256,), replace=False)
    h0, node = jax.vmap(model.encoder)(x[idx]), model.node()
    if method == "unregularized":
        sol, penalty = node(h0, ts), 0.0
    elif method == "error":  # R_E over the accepted steps
        sol = node(h0, ts, heuristics=True)
        penalty = sol.heuristics.error
    else:  # the local penalty at one accepted step, drawn at random
        sol, local = nde.local_regularization(node, h0, ts, key=k_local, sampling="biased")
        penalty = local.value
    logits = jax.vmap(model.decoder)(sol.ys[-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, y[idx]).mean() + 100.0 * penalty


@eqx.filter_jit
def evaluate(model):
    sol = model.node()(jax.vmap(model.encoder)(x_test), ts)
    accuracy = jnp.mean(jnp.argmax(jax.vmap(model.decoder)(sol.ys[-1]), -1) == y_test)
    return accuracy, sol.nfe


results = {}
for method in ("unregularized", "error", "local-biased"):
    out = fit(lambda m, data, key: loss(m, data, key, method), Classifier(jax.random.key(0)),
              optax.adam(1e-2), steps=300, key=jax.random.key(1), data=(x_train, y_train),
              compile_first=True, progress=True)
    accuracy, nfe = evaluate(out.model)
    results[method] = dict(metric=float(accuracy), test_nfe=float(nfe),
                           train_s=float(out.history_wall_time[-1]))
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
# prediction. (`jaxsci.core.fit` is jaxsci's one training loop: jitted optax steps with
# NaN/inf checks.) `benchmarks/nde_regularization.py` runs the full comparison (more steps,
# several seeds, the spiral and SDE experiments, and the TayNODE, RNODE and STEER
# baselines); its figures are in `benchmarks/RESULTS.md`.
#
# ## Using it in your own code
#
# * `node(y0, ts, heuristics=True)` returns `sol.heuristics.error` ($R_E$) and, with
#   `stiffness=True`, `sol.heuristics.stiffness` ($R_S$); add them to the loss.
# * `nde.local_regularization(node, y0, ts, key=key)` returns the solution and the local
#   penalty; it works with `diffrax.BacksolveAdjoint`.
# * Every solve returns `sol.result` (a `jaxsci.core.RESULTS` code); by default a failed
#   solve (too many steps, NaN/inf) raises, with `throw=False` it returns the code.
# * A diffrax field `f(t, y, args)` goes in as `nde.DiffraxField(f, args)`.
# * With plain diffrax, wrap the solver: `nde.HeuristicsSolver(diffrax.Tsit5(), controller)`
#   (it reads rtol/atol from the controller that `diffeqsolve` uses) and read
#   `nde.read_heuristics(sol).error` from a solve with `SaveAt(..., solver_state=True)`.
