"""Demo: TENG-Euler, TENG-Heun, TDVP and OBTI on the periodic 2D heat equation (exact
Fourier-decay solution), from one network fitted to the initial condition."""

import pathlib
import time

import jax
import jax.numpy as jnp
import lineax as lx
import optax

from jaxsci.core import enable_x64, num_params, relative_l2
from jaxsci.pde.evolution import Heat2D, grid_points
from jaxsci.teng import (
    EULER,
    HEUN,
    OBTI,
    TDVP,
    TENG,
    GaussNewton,
    LevenbergMarquardt,
    evolve,
    initial_network,
)

from . import pyplot

T, DT, BLOCKS = 0.5, 0.05, 2
QUICK = dict(T=0.1, BLOCKS=1, obti_steps=20)  # quick: two steps of dt, one error check


def run(out_dir: pathlib.Path, quick: bool = False) -> list[dict]:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with enable_x64(True):
        if quick:
            return _run(out_dir, QUICK["T"], QUICK["BLOCKS"], QUICK["obti_steps"], quick=True)
        return _run(out_dir, T, BLOCKS, 100)


def _run(out_dir, T, BLOCKS, obti_steps, quick=False):
    p = Heat2D()
    pts = grid_points(12)
    x = (grid_points(21) + 0.37) % (2 * jnp.pi)
    start = time.perf_counter()
    net = initial_network(p, pts, key=jax.random.key(0), embed=3, width=6, depth=2,
                          fit=LevenbergMarquardt(iterations=60)).model
    e0 = float(relative_l2(jax.vmap(net)(x), p.initial(x)))
    rows = [dict(family="teng", problem="heat 2D periodic, t=0", method="LM + VarPro fit",
                 error=e0, seconds=time.perf_counter() - start, note=f"12^2 points, {num_params(net)} params")]
    gn = GaussNewton(iterations=2, solver=lx.SVD(rcond=1e-6), damping=0.0)
    methods = {
        "TENG-Euler": TENG(EULER, fit=gn),
        "TENG-Heun": TENG(HEUN, fit=gn),
        "TDVP-RK4": TDVP(),
        "OBTI-Adam": OBTI(optax.adam(1e-4), steps=obti_steps),
    }
    if quick:  # the method and one baseline
        methods = {k: v for k, v in methods.items() if k in ("TENG-Heun", "TDVP-RK4")}
    n_block = round(T / BLOCKS / DT)
    ts = [T * (i + 1) / BLOCKS for i in range(BLOCKS)]
    curves = {}
    for name, stepper in methods.items():
        start = time.perf_counter()
        model, errs = net, []
        for i, t in enumerate(ts):
            t0 = T * i / BLOCKS
            model = evolve(stepper, p, model, DT, n_block, points=pts, t0=t0).model
            errs.append(float(relative_l2(jax.vmap(model)(x), p.exact(x, t))))
        seconds = time.perf_counter() - start
        curves[name] = errs
        rows.append(dict(family="teng", problem=f"heat 2D periodic, t={T}", method=name,
                         error=errs[-1], seconds=seconds,
                         note=f"dt={DT}, rel L2 vs exact, incl. compile"))
    plt = pyplot()
    if plt is None:
        return rows
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for name, errs in curves.items():
        ax.semilogy(ts, errs, "o-", label=name)
    ax.set_xlabel("t")
    ax.set_ylabel("relative L2 error vs exact")
    ax.set_title("heat on [0, 2pi)^2")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "teng_heat_error.png")
    plt.close(fig)
    return rows
