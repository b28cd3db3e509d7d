"""Demo: diffusion samplers on a 2D Gaussian mixture with the exact probability flow.

Error against the exact ODE endpoint for several samplers and NFEs, and a picture of the
samples each draws at NFE = 6.
"""

from __future__ import annotations

import pathlib
import time

import jax
import jax.numpy as jnp

from jaxsci import diffusion as D
from jaxsci.core import enable_x64

from . import pyplot

SAMPLERS = {
    "DDIM": D.DDIM(),
    "DPM-Solver++(2M)": D.DPMSolverPP(order=2),
    "DPM-Solver++(3M, taylor)": D.DPMSolverPP(order=3, solver_type="taylor"),
    "UniPC-bh2 (order 2)": D.UniPC(order=2),
    "DEIS-tAB3": D.DEIS(order=3),
}

QUICK_SAMPLERS = ("DDIM", "DPM-Solver++(2M)", "UniPC-bh2 (order 2)")


def _mixture():
    angles = jnp.linspace(0.0, 2 * jnp.pi, 8, endpoint=False)
    means = 2.0 * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=1)
    return D.GaussianMixture(jnp.ones(8), means, jnp.full(8, 0.1))


def run(out_dir: pathlib.Path, quick: bool = False) -> list[dict]:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, curves, pictures = [], {}, {}
    nfes = [10] if quick else [5, 10, 20]
    num_samples = 100 if quick else 500
    samplers = {k: v for k, v in SAMPLERS.items() if not quick or k in QUICK_SAMPLERS}
    with enable_x64(True):
        s = D.VPLinear()
        gm = _mixture()
        model = gm.noise_model(s)
        x_T = jax.random.normal(jax.random.key(0), (num_samples, 2))
        exact = jax.jit(jax.vmap(lambda x: gm.flow_endpoint(s, x, s.t_max, s.t_min)))(x_T)
        for name, sampler in samplers.items():
            curves[name] = []
            for n in nfes:
                grid = D.time_grid(s, n)
                f = jax.jit(jax.vmap(lambda x, g=grid, sampler=sampler: sampler(model, s, x, g).x))
                jax.block_until_ready(f(x_T))
                start = time.perf_counter()
                out = jax.block_until_ready(f(x_T))
                seconds = time.perf_counter() - start
                err = float(jnp.sqrt(jnp.mean((out - exact) ** 2)))
                curves[name].append(err)
                if n == nfes[0]:
                    pictures[name] = out
                rows.append(dict(family="diffusion", problem=f"8-Gaussian ring in 2D, {num_samples} samples", method=name,
                                 error=err, seconds=seconds, note=f"NFE={n}, logSNR grid, RMS vs exact flow endpoint"))
    plt = pyplot()
    if plt is None:
        return rows
    fig, axes = plt.subplots(1, len(pictures) + 2, figsize=(3 * (len(pictures) + 2), 3))
    for name, errs in curves.items():
        axes[0].loglog(nfes, errs, "o-", label=name)
    axes[0].set_xlabel("NFE")
    axes[0].set_ylabel("RMS error vs exact endpoint")
    axes[0].legend(fontsize=6)
    axes[1].scatter(*exact.T, s=2)
    axes[1].set_title("exact flow", fontsize=8)
    for ax, (name, out) in zip(axes[2:], pictures.items()):
        ax.scatter(*out.T, s=2)
        ax.set_title(f"{name}, NFE {nfes[0]}", fontsize=8)
    for ax in axes[1:]:
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(out_dir / "diffusion_samplers.png", dpi=100)
    plt.close(fig)
    return rows
