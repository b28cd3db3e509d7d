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
# # TENG: evolving a network through time by least squares
#
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/teng.ipynb)
#
# To solve a time-dependent PDE $u_t = \mathcal{L}[u]$ with a neural network
# $u_\theta(x)$, one can let the *parameters* evolve: $\theta_n \to \theta_{n+1}$ so that
# $u_{\theta_{n+1}}$ is the solution one time step later. TENG, the time-evolving natural
# gradient (Chen, McCarran, Vizcaino, Soljacic, Luo; ICML 2024), forms the target of a
# classical time step from the PDE, e.g. Heun's method
#
# $$\tilde u = u_n + \Delta t\, \mathcal L[u_n], \qquad
#   u_{n+1}^\star = u_n + \tfrac{\Delta t}{2}\left(\mathcal L[u_n] + \mathcal L[\tilde u]\right),$$
#
# and fits the network to it with a few Gauss-Newton (natural-gradient) least-squares
# iterations at sample points, $\theta \leftarrow \theta - J^+ (u_\theta - u^\star)$, where
# $J = \partial u_\theta(x_i) / \partial \theta$. Because each fit is a small least-squares
# problem solved to high precision (in float64), the error stays near the time
# integrator's truncation error rather than an optimizer's loss floor.
#
# Two baselines use the same targets or the same Jacobian: OBTI fits the targets with
# Adam, and TDVP / Neural Galerkin integrates $\dot\theta = J^+ \mathcal L[u_\theta]$ with
# an explicit Runge-Kutta method.
#
# The problem: the heat equation $u_t = 0.1\,\Delta u$ on the periodic square
# $[0, 2\pi)^2$, whose exact solution decays each Fourier mode by $e^{-0.1 |k|^2 t}$.

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
import jax
import jax.numpy as jnp
import lineax as lx
import matplotlib.pyplot as plt
import optax

jax.config.update("jax_enable_x64", True)  # TENG runs in float64

from jaxsci.core import ProgressBar, relative_l2  # noqa: E402
from jaxsci.pde.evolution import Heat2D, grid_points  # noqa: E402
from jaxsci.teng import (  # noqa: E402
    HEUN,
    OBTI,
    TDVP,
    TENG,
    GaussNewton,
    LevenbergMarquardt,
    evolve,
    initial_network,
)

# %% [markdown]
# ## An exactly periodic network, fitted to the initial condition
#
# The first layer maps each coordinate through $a \cos(x + \phi) + c$, so the network is
# periodic by construction. The initial fit is Levenberg-Marquardt with variable
# projection (the linear read-out solved exactly at each iteration); with this small
# network (a few hundred parameters) it leaves an error of about 1e-5, which sets the
# floor for everything after it.

# %%
problem = Heat2D()
points = grid_points(16)
test_points = (grid_points(21) + 0.37) % (2 * jnp.pi)
start = initial_network(problem, points, key=jax.random.key(0), embed=4, width=8, depth=2,
                        fit=LevenbergMarquardt(iterations=150))
net0 = start.model
print(f"initial fit: relative L2 error {float(start.residual):.2e}")

# %% [markdown]
# ## TENG-Heun, OBTI and TDVP side by side
#
# The same network, points and step size; the error is measured at points that are not
# on the training grid. A method is one object: swapping TENG for TDVP or OBTI changes
# only the stepper passed to `evolve`, which returns the network, the times, the error
# of every step (through `evaluate`), the wall time and a result code.

# %%
dt, steps_per_chunk, chunks = 0.02, 10, 5
steppers = {
    "TENG-Heun": TENG(HEUN, fit=GaussNewton(iterations=2, solver=lx.SVD(rcond=1e-6), damping=0.0)),
    "TDVP (RK4)": TDVP(),
    "OBTI (Adam)": OBTI(optax.adam(1e-3), steps=50),
}


def error(net, t):
    return relative_l2(jax.vmap(net)(test_points), problem.exact(test_points, t))


history = {}
bar = ProgressBar(len(steppers), desc="methods", every=1)
for i, (name, stepper) in enumerate(steppers.items()):
    out = evolve(stepper, problem, net0, dt, steps_per_chunk * chunks, points=points,
                 evaluate=error)
    times, errors = out.times[steps_per_chunk - 1::steps_per_chunk], out.errors[steps_per_chunk - 1::steps_per_chunk]
    history[name] = (times, errors)
    print(f"{name:12s}: relative L2 at t = {float(times[-1]):.1f}: {float(errors[-1]):.2e} ({out.wall_time:.1f} s)")
    bar.update(i, error=float(errors[-1]))

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, (times, errors) in history.items():
    ax.semilogy(times, errors, "o-", label=name)
ax.set_xlabel("t")
ax.set_ylabel("relative L2 error")
ax.legend()
fig.tight_layout()

# %% [markdown]
# TENG stays orders of magnitude below OBTI, which fits the same targets with Adam; TDVP,
# which integrates the parameter ODE with the same Jacobian, is close to TENG at this size
# (both sit at the initial fit's error). `benchmarks/teng.py` runs the three problems of the issue (heat, Allen-Cahn,
# Burgers) to $T = 4$ with references from a float64 pseudo-spectral solver; its figures
# are in `benchmarks/RESULTS.md`.
