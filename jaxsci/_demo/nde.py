"""Demo: adaptive Tsit5 solve of a linear ODE with its NFE count, against exp(-t)."""

import pathlib
import time

import diffrax
import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jaxsci.nde import NeuralODE


def run(out_dir: pathlib.Path) -> list[dict]:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ts = jnp.linspace(0.0, 3.0, 31)
    rows, tols, nfes, errs = [], [1e-2, 1e-3, 1e-4, 1e-5], [], []
    for tol in tols:
        node = NeuralODE(
            lambda t, y: -y,
            stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol),
            max_steps=4096,
        )
        start = time.perf_counter()
        sol = jax.block_until_ready(jax.jit(node)(jnp.ones(1), ts))
        ys, nfe = sol.ys, sol.nfe
        seconds = time.perf_counter() - start
        err = float(jnp.max(jnp.abs(ys[:, 0] - jnp.exp(-ts))))
        nfes.append(int(nfe))
        errs.append(err)
        rows.append(
            dict(family="nde", problem="dy/dt=-y on [0,3]", method=f"Tsit5 tol={tol:g}",
                 error=err, seconds=seconds, note=f"NFE={int(nfe)} (incl. compile)")
        )
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.loglog(nfes, errs, "o-")
    ax.set_xlabel("NFE")
    ax.set_ylabel("max error vs exp(-t)")
    fig.tight_layout()
    fig.savefig(out_dir / "nde_nfe_error.png")
    plt.close(fig)
    return rows
