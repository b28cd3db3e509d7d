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
# # Taylor-mode derivatives and the Stochastic Taylor Derivative Estimator (STDE)
#
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/taylor_stde.ipynb)
#
# This notebook shows how `jaxsci.taylor` evaluates differential operators (Laplacian,
# biharmonic, any mixed partial) of a scalar function with Taylor-mode automatic
# differentiation, checks every result against nested `jax.jacfwd`, and then estimates the
# same operators from a few random directions with STDE (Shi, Hu, Lin, Kawaguchi,
# *Stochastic Taylor Derivative Estimator: Efficient amortization for arbitrary
# differential operators*, NeurIPS 2024). It runs on a laptop CPU in well under a minute.

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
from jax.experimental import jet

from jaxsci import taylor

jax.config.update("jax_enable_x64", True)  # float64: the checks below compare to ~1e-12
notebook_start = time.perf_counter()

# %% [markdown]
# ## 1. Taylor mode along a curve
#
# Push the curve $x(t) = x + v\,t$ through a scalar function $u:\mathbb R^d\to\mathbb R$.
# Taylor-mode AD propagates the whole truncated series of $x(t)$ through every primitive,
# one pass for all orders, and returns the derivatives of $u(x(t))$ at $t=0$:
#
# $$
# \frac{d^k}{dt^k}\, u(x + v t)\Big|_{t=0} = D^k u(x)[v, \dots, v]
#   = \sum_{i_1,\dots,i_k} \frac{\partial^k u}{\partial x_{i_1}\cdots\partial x_{i_k}}(x)\, v_{i_1}\cdots v_{i_k}.
# $$
#
# `jax.experimental.jet.jet(u, (x,), ((v, 0, ..., 0),))` computes exactly these numbers
# (output $k$ is the $k$-th derivative, not the $k$-th Taylor coefficient). Nested
# forward-mode AD computes the full derivative tensor instead, which costs $d^k$ entries;
# contracting it with $v$ must give the same number.

# %%
d = 5
x = jax.random.normal(jax.random.key(0), (d,))
v = jax.random.normal(jax.random.key(1), (d,))


def u(x):
    return jnp.sin(x[0] * x[1]) + jnp.exp(0.3 * jnp.sum(x)) * jnp.cos(x[2]) + x[3] ** 2 * x[4] ** 3


order = 4
primal, series = jax.jit(lambda x, v: jet.jet(u, (x,), ((v,) + (jnp.zeros(d),) * (order - 1),)))(x, v)


@jax.jit
def derivative_tensors(x):
    nested, tensors = u, []
    for _ in range(order):
        nested = jax.jacfwd(nested)
        tensors.append(nested(x))  # the k-th derivative tensor, shape (d,) * k
    return tensors


tensor = derivative_tensors(x)


def contract(t, v):
    while t.ndim:
        t = t @ v
    return t


for k in range(order):
    print(f"order {k + 1}: jet {float(series[k]): .12f}   nested jacfwd {float(contract(tensor[k], v)): .12f}")

# %% [markdown]
# ## 2. Operators as sums of directional derivatives
#
# Every linear operator with constant coefficients is a weighted sum of such directional
# derivatives. A pure partial is $\partial^k u/\partial x_i^k = D^k u[e_i,\dots,e_i]$, so the
# Laplacian is a sum over the $d$ unit vectors,
# $\Delta u = \sum_{i=1}^d D^2 u[e_i, e_i]$, and the biharmonic
# $\Delta^2 u = \sum_i \partial^4_{x_i} u + 2\sum_{i<j}\partial^2_{x_i}\partial^2_{x_j} u$.
# A mixed partial $\partial^\alpha u$ with $|\alpha| = K$ is recovered from pure directional
# derivatives by polarization: $s \mapsto D^K u[s\cdot e]$ is a homogeneous polynomial of
# degree $K$, and its mixed finite difference over the lattice $0\le s\le\alpha$ isolates
# one coefficient,
#
# $$
# \partial^\alpha u = \frac{1}{K!}\sum_{0\le s\le \alpha} (-1)^{K-|s|}
#   \prod_j \binom{\alpha_j}{s_j}\, D^K u\Big[\textstyle\sum_j s_j e_{i_j}\Big].
# $$
#
# (The STDE paper reads mixed partials off a single higher-order jet with Faà di Bruno
# coefficients instead; both are exact.) `taylor.laplacian`, `taylor.biharmonic` and
# `taylor.partial` build these operators; `taylor.Exact()` evaluates all their terms. Below,
# each is compared with the same quantity assembled from nested `jax.jacfwd` tensors.

# %%
hess, third, fourth = tensor[1], tensor[2], tensor[3]
checks = {
    "Laplacian": (taylor.laplacian(d), jnp.trace(hess)),
    "biharmonic": (taylor.biharmonic(d), jnp.einsum("iijj->", fourth)),
    "u_{x0 x0 x0 x1}": (taylor.partial(d, {0: 3, 1: 1}), fourth[0, 0, 0, 1]),
    "u_{x3 x3 x4 x4}": (taylor.partial(d, {3: 2, 4: 2}), fourth[3, 3, 4, 4]),
    "u_{x0 x1 x2}": (taylor.partial(d, {0: 1, 1: 1, 2: 1}), third[0, 1, 2]),
    "u_t - 0.5 Lap_x u (t = x4)": (
        taylor.time_derivative(d, 4) - 0.5 * taylor.laplacian(d, time_index=4),
        tensor[0][4] - 0.5 * jnp.trace(hess[:4, :4]),
    ),
}


@jax.jit
def taylor_mode_values(x):
    """Every operator with both engines, in one compiled function."""
    return {(name, mode): taylor.Exact(mode=mode)(op, u, x)[1]
            for name, (op, _) in checks.items() for mode in ("collapsed", "jet")}


values = taylor_mode_values(x)
worst = 0.0
for name, (op, reference) in checks.items():
    for mode in ("collapsed", "jet"):
        value = values[name, mode]
        worst = max(worst, abs(float(value - reference)) / max(1.0, abs(float(reference))))
    print(f"{name:28s} Taylor mode {float(value): .10f}   nested jacfwd {float(reference): .10f}")
print(f"largest relative difference over all operators and both engines: {worst:.1e}")
assert worst < 1e-10

# %% [markdown]
# `mode="jet"` runs one jet per direction (vmapped), as in the STDE paper's code;
# `mode="collapsed"` (the default) is *collapsed Taylor mode* (Dangel, Siebert, Zeinhofer,
# Walther, NeurIPS 2025): the highest Taylor coefficient enters every primitive linearly,
# so the directions' top coefficients are summed before they are propagated and only the
# lower orders are carried per direction.
#
# ## 3. STDE: unbiased estimates from a few directions
#
# In high dimension even the $d$ jets of the exact Laplacian are too many per collocation
# point. STDE replaces the sum over all terms by an unbiased random estimate:
#
# * **sparse STDE** draws $B$ of the $d$ coordinates $\mathcal I$ without replacement and
#   rescales,
#   $\widehat{\Delta u} = \frac{d}{B}\sum_{i\in\mathcal I} D^2u[e_i,e_i]$ (paper, Sec. 4.2);
# * **dense STDE** draws random tangents with $\mathbb E[vv^\top]=I$ (Rademacher or
#   Gaussian) and averages $D^2u[v,v] = v^\top \nabla^2 u\, v$ (Sec. 4.3); for Gaussian $v$,
#   Isserlis' theorem gives $\Delta^2 u = \tfrac13\,\mathbb E\,D^4u[v,v,v,v]$.
#
# Both are unbiased, so a PINN trained with them follows the true gradient on average, while
# the cost per point grows with $B$ instead of $d$. We take a hard-constrained tanh network
# $u(x) = (1-|x|^2)\,\mathrm{MLP}(x)$ in $d = 100$, as in the paper's experiments.

# %%
dim = 100
mlp = eqx.nn.MLP(dim, "scalar", 64, 2, activation=jnp.tanh, key=jax.random.key(2))


def net(x):
    return (1.0 - x @ x) * mlp(x)


x0 = jax.random.uniform(jax.random.key(3), (dim,), minval=-1, maxval=1) / jnp.sqrt(dim)
lap = taylor.laplacian(dim)
H = jax.jit(jax.hessian(net))(x0)  # the full Hessian: the independent reference
exact = float(jnp.trace(H))
print(f"Lap u(x0): Exact() {float(jax.jit(lambda x: taylor.Exact()(lap, net, x)[1])(x0)): .10f}   trace of the Hessian {exact: .10f}")


@eqx.filter_jit
def draws(backend, keys, op=lap, fn=net, point=x0):
    """Independent estimates of ``op[fn](point)``, one per key (compiled once per backend)."""
    return jax.vmap(lambda k: backend(op, fn, point, key=k)[1])(keys)


keys = jax.random.split(jax.random.key(4), 1000)
for backend in (taylor.SparseSTDE(16), taylor.DenseSTDE(16), taylor.DenseSTDE(16, "gaussian")):
    est = np.asarray(draws(backend, keys))
    sem = est.std(ddof=1) / np.sqrt(est.size)
    print(f"{type(backend).__name__}(16, {getattr(backend, 'distribution', 'sparse'):10s}) "
          f"mean of 1000 draws {est.mean(): .5f} +- {sem:.5f}   (exact {exact: .5f}, "
          f"|mean - exact| / standard error = {abs(est.mean() - exact) / sem:.2f})")
    assert abs(est.mean() - exact) < 4 * sem

# %% [markdown]
# Each mean lies within a few standard errors of the exact value, as it must for an unbiased
# estimator (a deviation of 2 or 3 standard errors turns up now and then by chance).

# %% [markdown]
# ### Variance against the number of directions
#
# The variances have closed forms in terms of the Hessian $H$, which lets us check the
# measured spread. With $h_i = H_{ii}$ and $s_h^2$ their sample variance over the $d$
# coordinates, sampling without replacement gives
# $\operatorname{Var}[\widehat{\Delta u}_{\text{sparse}}] = \frac{d^2 s_h^2}{B}\,\frac{d-B}{d}$
# (zero at $B=d$: the estimate becomes exact), while for $B$ independent tangents
# $\operatorname{Var}_{\text{Rademacher}} = \frac{2}{B}\big(\|H\|_F^2-\sum_i H_{ii}^2\big)$
# and $\operatorname{Var}_{\text{Gauss}} = \frac{2}{B}\|H\|_F^2$. Which estimator wins
# depends on the function: sparse sampling suffers when the diagonal entries differ a lot,
# dense sampling when the off-diagonal part of the Hessian is large.

# %%
h = np.asarray(jnp.diag(H))
fro2 = float(jnp.sum(H**2))
predicted = {
    "sparse STDE": lambda B: dim**2 * h.var(ddof=1) / B * (dim - B) / dim,
    "dense STDE (Rademacher)": lambda B: 2.0 / B * (fro2 - np.sum(h**2)),
    "dense STDE (Gaussian)": lambda B: 2.0 / B * fro2,
}
makers = {
    "sparse STDE": taylor.SparseSTDE,
    "dense STDE (Rademacher)": taylor.DenseSTDE,
    "dense STDE (Gaussian)": lambda B: taylor.DenseSTDE(B, "gaussian"),
}
directions = [1, 16, 64]
measured = {name: [] for name in makers}
for name, make in makers.items():
    for B in directions:
        measured[name].append(float(np.var(np.asarray(draws(make(B), keys)), ddof=1)))

all_b = np.arange(1, dim)
fig, ax = plt.subplots(figsize=(6, 4))
for (name, values), color in zip(measured.items(), ["C0", "C1", "C2"]):
    ax.loglog(directions, values, "o", color=color, label=f"{name}: measured (1000 draws)")
    ax.loglog(all_b, [predicted[name](B) for B in all_b], "-", color=color, lw=1, label="closed form")
ax.set_xlabel("number of directions B")
ax.set_ylabel("variance of the Laplacian estimate")
ax.set_title(f"STDE Laplacian of a tanh network, d = {dim}")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# a sample variance from n draws of a Gaussian quantity has relative standard error sqrt(2/(n-1))
print(f"relative standard error of a {keys.shape[0]}-draw variance (Gaussian case): {np.sqrt(2 / (keys.shape[0] - 1)):.3f}")
for name in makers:
    ratio = np.array(measured[name]) / np.array([predicted[name](B) for B in directions])
    print(f"{name:26s} measured / predicted variance for B = {directions}: {np.round(ratio, 2)}")

# %% [markdown]
# The measured variances follow the closed forms: the printed ratios scatter around 1 by
# roughly the sampling error of a variance estimated from 1000 draws. All three fall like
# $1/B$; the sparse estimator's finite-population factor $(d-B)/d$ makes it exact at $B=d$.
#
# ### A fourth-order operator: the biharmonic
#
# Dense Gaussian jets of order 4 estimate $\Delta^2 u$ (the `distribution="gaussian"`
# argument is required); sparse STDE samples the operator's terms
# $\partial_{x_i}^4 u$ and $\partial^2_{x_i}\partial^2_{x_j} u$. We check both against the
# exact biharmonic on a smaller network in $d = 6$.

# %%
small = eqx.nn.MLP(6, "scalar", 32, 2, activation=jnp.tanh, key=jax.random.key(5))
x6 = jax.random.normal(jax.random.key(6), (6,)) / 3
bih = taylor.biharmonic(6)
reference = float(jnp.einsum("iijj->", jax.jit(jax.jacfwd(jax.jacfwd(jax.hessian(small))))(x6)))
print(f"exact biharmonic (collapsed Taylor mode) {float(jax.jit(lambda x: taylor.Exact()(bih, small, x)[1])(x6)): .8f}")
print(f"nested jacfwd                            {reference: .8f}")
for backend in (taylor.DenseSTDE(16, "gaussian"), taylor.SparseSTDE(16)):
    est = np.asarray(draws(backend, keys, bih, small, x6))
    sem = est.std(ddof=1) / np.sqrt(est.size)
    print(f"{type(backend).__name__}(16): mean of 1000 draws {est.mean(): .6f} +- {sem:.6f}   "
          f"(|mean - exact| / standard error = {abs(est.mean() - reference) / sem:.2f})")

# %% [markdown]
# ## 4. Gradients through the estimators
#
# Every backend is a pure function of `(op, u, x, *, key)`: it can be jitted, vmapped over points
# and keys, and differentiated with respect to the parameters that `u` closes over. That is
# what PINN training needs (see the `highdim_pinn` notebook).

# %%
points = jax.random.uniform(jax.random.key(7), (32, dim), minval=-1, maxval=1) / jnp.sqrt(dim)


def mean_estimate(model, key):
    keys = jax.random.split(key, points.shape[0])
    u_of = lambda x: (1.0 - x @ x) * model(x)  # noqa: E731
    return jnp.mean(jax.vmap(lambda p, k: taylor.SparseSTDE(16)(lap, u_of, p, key=k)[1])(points, keys))


grads = eqx.filter_jit(eqx.filter_grad(mean_estimate))(mlp, jax.random.key(8))
norm = jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grads)))
print(f"norm of the parameter gradient of the mean STDE Laplacian over 32 points: {float(norm):.4f}")
print(f"notebook ran in {time.perf_counter() - notebook_start:.1f} s")
