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
# # A PINN in 100 dimensions with stochastic Taylor derivatives
#
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/highdim_pinn.ipynb)
#
# Physics-informed neural networks (Raissi, Perdikaris, Karniadakis, J. Comput. Phys. 2019)
# fit a network $u_\theta$ to a PDE by minimising its squared residual at random
# collocation points. In high dimension the bottleneck is the differential operator: an
# exact Laplacian costs $d$ second-order directional derivatives per point and per step.
# STDE (Shi, Hu, Lin, Kawaguchi, NeurIPS 2024) replaces it by an unbiased estimate from $B \ll d$
# random directions, so a training step costs about as much in $d = 100$ as with $B$
# coordinates. This notebook trains the STDE paper's two-body Allen-Cahn problem at
# $d = 100$ on a CPU in under a minute and shows that the derivative backend is a single
# argument.

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

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from jaxsci import core, pinn, taylor
from jaxsci.pde.highdim import BallProblem

notebook_start = time.perf_counter()

# %% [markdown]
# ## The problem
#
# On the unit ball $B^d\subset\mathbb R^d$ (paper, App. H–I),
#
# $$
# \Delta u + u - u^3 = g \quad\text{in } B^d,\qquad u = 0 \text{ on } \partial B^d,
# $$
#
# with the exact "two-body" solution
# $u^*(x) = (1-|x|^2)\sum_{i=1}^{d-1} c_i \sin\!\big(x_i + \cos x_{i+1} + x_{i+1}\cos x_i\big)$,
# $c_i\sim\mathcal N(0,1)$, and $g$ the operator applied to $u^*$ (in closed form, O(d) per
# point). The boundary condition is built into the ansatz
# $u_\theta(x) = (1-|x|^2)\,\mathrm{MLP}_\theta(x)$, so the loss is the residual alone:
#
# $$
# L(\theta) = \frac1N\sum_{n=1}^N \Big(\widehat{\Delta u_\theta}(x_n) + u_\theta(x_n) - u_\theta(x_n)^3 - g(x_n)\Big)^2,
# \qquad \widehat{\Delta u_\theta}(x) = \frac{d}{B}\sum_{i\in\mathcal I} \partial^2_{x_i} u_\theta(x),
# $$
#
# where $\mathcal I$ is a fresh random set of $B$ coordinates for every point and step
# (sparse STDE, each $\partial^2_{x_i}u_\theta$ from one second-order jet).
# `BallProblem(d, "two_body", "allen_cahn")` holds the exact solution, the source and the
# hard constraint; `pinn.residual_loss(problem, u, points, backend, key=key)` is the loss.

# %%
dim = 100
problem = BallProblem(dim, "two_body", "allen_cahn")
test = problem.test_points(2000, key=jax.random.key(9))
exact = jax.vmap(problem.solution)(test)


def make_loss(backend):
    """The PINN loss with the given derivative backend: the only line that changes."""

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key=key)

    return loss


def error(model):
    return core.relative_l2(jax.vmap(problem.hard_constraint(model))(test), exact)


def train(backend, steps, lr=2e-3, batch=100, width=64, eval_every=100):
    """`pinn.train` is `core.fit` with fresh collocation points every step (`sample=`)."""
    net = eqx.nn.MLP(dim, "scalar", width, 2, activation=jnp.tanh, key=jax.random.key(0))
    return pinn.train(
        net, make_loss(backend), optax.adam(optax.linear_schedule(lr, 0.0, steps)), steps=steps,
        key=jax.random.key(1), sample=lambda k: pinn.uniform(problem.domain, batch, key=k),
        evaluate=error, chunk=eval_every, progress=True,
    )


net0 = eqx.nn.MLP(dim, "scalar", 64, 2, activation=jnp.tanh, key=jax.random.key(0))
print(f"{problem.name}: relative L2 error of the untrained network {float(eqx.filter_jit(error)(net0)):.3f}")

# %% [markdown]
# ## Training with sparse STDE
#
# A tanh MLP with two hidden layers of width 64 (the paper uses three of width 128; the
# smaller network keeps this notebook fast on a laptop CPU), 100 collocation points per step, $B = 16$ directions per point, Adam with a
# learning rate decaying linearly from $2\times10^{-3}$ to 0.

# %%
steps = 500
stde = train(taylor.SparseSTDE(16), steps)
print(f"SparseSTDE(16): relative L2 error {stde.history_error[-1]:.2e} after {steps} steps, "
      f"{stde.history_wall_time[-1]:.1f} s including compilation")

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogy(stde.history_step, stde.history_error, "o-", label="relative L2 error (2000 test points)")
ax.semilogy(stde.history_step, stde.history_loss, "s--", label="training loss (mean over 100 steps)")
ax.set_xlabel("Adam steps")
ax.set_title(f"two-body Allen-Cahn, d = {dim}, SparseSTDE(16)")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Switching the derivative backend
#
# Only the `backend` argument changes. Below, the trained network's loss is evaluated and one
# Adam step is timed (after compilation) with sparse STDE, dense STDE (16 Rademacher tangents,
# $\widehat{\Delta u} = \frac1B\sum_b D^2u[v_b, v_b]$), the exact Laplacian by collapsed
# Taylor mode (all $d$ directions) and the exact Laplacian from the full Hessian
# (forward-over-reverse AD, the textbook PINN way). Passing any of them to `train` above
# trains with it; so does swapping the optimizer object (`optax.lbfgs()` for Adam).

# %%
points = problem.domain.sample(100, key=jax.random.key(5))
optimizer = optax.adam(1e-3)
params, static = eqx.partition(stde.model, eqx.is_inexact_array)
opt_state = optimizer.init(params)
rows = []
for name, backend in [("SparseSTDE(16)", taylor.SparseSTDE(16)),
                      ("DenseSTDE(16)", taylor.DenseSTDE(16)),
                      ("Exact() (collapsed)", taylor.Exact()),
                      ("HessianTrace()", taylor.HessianTrace())]:
    step = jax.jit(pinn.make_step(make_loss(backend), optimizer, static))
    jax.block_until_ready(step(params, opt_state, points, jax.random.key(6)))  # compile
    start = time.perf_counter()
    for i in range(5):
        out = step(params, opt_state, points, jax.random.key(i))
    jax.block_until_ready(out)
    seconds = (time.perf_counter() - start) / 5
    loss = np.mean([float(step(params, opt_state, points, jax.random.key(100 + i))[2]) for i in range(5)])
    rows.append((name, 1e3 * seconds, loss))
print(f"{'backend':22s} {'ms per Adam step':>17s} {'loss of the trained net':>24s}")
for name, ms, loss in rows:
    print(f"{name:22s} {ms:17.1f} {loss:24.3e}")

# %% [markdown]
# All four backends see the same trained network and the same points. The two exact ones
# give the same loss; the two stochastic ones report a larger value, because the mean of a
# squared unbiased estimate exceeds the square of its mean by the estimator's variance,
# $\mathbb E[\hat r^2] = r^2 + \operatorname{Var}\hat r$ (sparse STDE, with its lower variance on
# this problem, is the closer of the two). The STDE paper (Sec. 4.4) removes this bias with
# the product of two independent draws, available as
# `pinn.residual_loss(..., unbiased=True)`:

# %%
loss_exact = rows[2][2]
for unbiased in (False, True):
    values = [float(pinn.residual_loss(problem, problem.hard_constraint(stde.model), points,
                                       taylor.SparseSTDE(16), key=jax.random.key(200 + i), unbiased=unbiased))
              for i in range(20)]
    print(f"SparseSTDE(16), unbiased={unbiased!s:5s}: mean loss over 20 keys {np.mean(values):.4e} "
          f"+- {np.std(values, ddof=1) / np.sqrt(20):.1e}   (exact loss {loss_exact:.4e})")

# %% [markdown]
# Timings on a shared laptop CPU are noisy; the benchmark `benchmarks/stde_highdim.py`
# measures the backends side by side at larger $d$, where the exact operators' cost grows
# with $d$ and STDE's does not.

# %%
print(f"notebook ran in {time.perf_counter() - notebook_start:.1f} s")
