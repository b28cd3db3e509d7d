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
# # Neural spectral methods: learning a PDE solver in coefficient space
#
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/neural_spectral.ipynb)
#
# A neural operator maps a PDE's data (a source, an initial condition) to its solution.
# Neural Spectral Methods (Du, Chalapathi, Krishnapriyan, ICLR 2024) represent both as
# coefficients of a spectral basis (Fourier series for periodic directions, Chebyshev
# series on intervals) and train without any solution data: the PDE residual $R[u]$ is
# assembled in coefficient space, and Parseval's identity turns its squared norm into a
# sum over coefficients,
#
# $$\int_\Omega |R[u]|^2\,dx = \sum_k w_k\, |\hat R_k|^2 ,$$
#
# with weights $w_k$ that depend on the basis (1 for an orthonormal Fourier basis; the
# Chebyshev weights follow from $\int_{-1}^1 T_j T_k\,dx$). No quadrature grid, no
# collocation points: the loss is exact for the truncated series, and the trained network
# can be evaluated at any resolution.
#
# This notebook checks the spectral toolbox against closed forms, then trains an NSM for
# the reaction-diffusion equation $u_t - \nu u_{xx} = \rho\, u(1-u)$ on
# $(t, x) \in [0, 1]^2$, periodic in $x$, and compares it with a float64 ETDRK4 solver.

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

from jaxsci import core, spectral as sp
from jaxsci.core import enable_x64
from jaxsci.pde.parametric import ReactionDiffusion

# %% [markdown]
# ## Series in Chebyshev(t) x Fourier(x)
#
# Take $u(t, x) = e^{-t} \sin 2\pi x$. Its coefficients come from a transform of grid
# values; derivatives are recurrences (Chebyshev) and multiplications by $ik$ (Fourier) in
# coefficient space; the product $u^2$ is computed on a padded grid so that it is exact
# (no aliasing); the norm comes from Parseval. In float64 each agrees with the closed
# form to round-off.

# %%
with enable_x64():
    basis = sp.TensorBasis((sp.Chebyshev(24, (0.0, 1.0)), sp.Fourier(8)))
    t, x = basis.grids()
    T, X = jnp.meshgrid(t, x, indexing="ij")
    c = basis.transform(jnp.exp(-T) * jnp.sin(2 * jnp.pi * X))
    pts = jax.random.uniform(jax.random.key(0), (200, 2), dtype=jnp.float64)
    exact = jnp.exp(-pts[:, 0]) * jnp.sin(2 * jnp.pi * pts[:, 1])
    uu, big = basis.product(c, c)
    checks = {
        "u_t": jnp.max(jnp.abs(basis.evaluate(basis.derivative(c, 0), pts) + exact)),
        "u_xx": jnp.max(jnp.abs(basis.evaluate(basis.derivative(c, 1, order=2), pts) + 4 * jnp.pi**2 * exact)),
        "u^2 (dealiased)": jnp.max(jnp.abs(big.evaluate(uu, pts) - exact**2)),
        "||u||^2 by Parseval": jnp.abs(basis.norm2(c) - (1 - jnp.exp(-2.0)) / 4),
    }
for name, err in checks.items():
    print(f"{name:>20}: max error {float(err):.1e}")

# %% [markdown]
# ## Training an NSM without solution data
#
# The initial values come from a periodic Gaussian process; each training step draws a
# fresh batch of them. The network maps the initial condition's coefficients to the
# solution's coefficients; the initial condition is imposed exactly by a mollifier in
# $t$, and the loss is the Parseval norm of the residual.

# %%
problem = ReactionDiffusion(nu=0.01, rho=5.0, modes=16)
rd_basis = sp.reaction_diffusion_basis(16, 16)
model = sp.NSM(rd_basis, 1, 1, width=16, depth=4, key=jax.random.key(0))
sample = lambda k: problem.sample(16, key=k)
loss = lambda m, u0: sp.nsm_rd_loss(m, u0, rd_basis, problem.nu, problem.rho)
result = sp.train_operator(model, loss, sample, optax.adam(optax.exponential_decay(3e-3, 250, 0.5)),
                           key=jax.random.key(1), steps=300, progress=True)
# `train_operator` is `core.fit` with a fresh batch every step; it returns a `core.FitResult`
print(f"{result.num_steps} steps in {result.history_wall_time[-1]:.1f} s ({result.result}); "
      f"loss {float(result.losses[0]):.2e} -> {float(result.losses[-1]):.2e}")

# %% [markdown]
# ## Against the classical solver, at several resolutions
#
# Four held-out initial conditions, solved in float64 by ETDRK4 (64 Fourier modes, 512
# time steps). The NSM's output is a series, so it can be evaluated on a 64-point grid
# or a 256-point grid from the same coefficients.

# %%
u0 = sample(jax.random.key(42))[:4]
errors = {}
for n in (64, 256):
    ref = np.stack([problem.solve(u, n, 33, 512) for u in np.asarray(u0, dtype=np.float64)])
    predict = eqx.filter_jit(lambda m, u, n=n: sp.nsm_rd_values(m, u, rd_basis, jnp.linspace(0, 1, 33), n))
    values = predict(result.model, u0)
    start = time.perf_counter()
    jax.block_until_ready(predict(result.model, u0))
    errors[n] = float(jnp.mean(core.relative_l2(values, jnp.asarray(ref, values.dtype), axis=(1, 2))))
    print(f"grid {n:3d}: relative L2 vs ETDRK4 {errors[n]:.2e}, inference {1e3 * (time.perf_counter() - start):.1f} ms")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=True)
for ax, field, title in zip(axes, (values[0], ref[0], values[0] - ref[0]), ("NSM", "ETDRK4", "difference")):
    im = ax.imshow(np.asarray(field).T, origin="lower", extent=(0, 1, 0, 1), aspect="auto", cmap="viridis")
    ax.set_xlabel("t")
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
axes[0].set_ylabel("x")
fig.tight_layout()

# %% [markdown]
# The benchmark `benchmarks/nsm.py` trains NSM, an FNO with a finite-difference PINN
# loss and an FNO on solution data for the same wall time, each with the same
# learning-rate sweep chosen on validation instances, on Poisson and reaction-diffusion
# (NSM alone on Navier-Stokes); its figures are in `benchmarks/RESULTS.md`.
