"""Diffusion samplers on Gaussian mixtures: endpoint error against NFE, and wall time.

    python benchmarks/diffusion_samplers.py [--quick] [--json PATH] [--dims ...] [--nfes ...]

Data: a mixture of 8 equal-weight narrow Gaussians (std 0.05, means ~ N(0, I)) in each
dimension; model: its exact noise prediction under the VP linear schedule (beta 0.1..20,
t in [1e-3, 1]); reference: the exact probability-flow endpoint of each x_T from a float64
Dopri8 solve at rtol = atol = 1e-10. Every sampler runs in float64 on a logSNR-uniform grid
with NFE model evaluations (singlestep solvers of order k use NFE // k intervals), and
``endpoint_rmse`` is the RMS over samples and coordinates of (sample - exact endpoint).
``sliced_w1``: sliced Wasserstein-1 distance (64 random directions) between the samples and
as many fresh draws from the data (the exact endpoints' own distance is the ``exact_flow``
row: the floor set by the finite sample size).
Wall time: 1024 samples in d = 3072 at NFE = 10, float32, jit(vmap(sampler)), median of 5.
JSON: ``{"rows": [{"library", "sampler", "dim", "nfe", "endpoint_rmse", "sliced_w1", "wall_s"}], ...}``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, parser, versions, write_json

from jaxsci import diffusion as D
from jaxsci.core import enable_x64

# name -> (sampler, NFE per grid interval)
SAMPLERS = {
    "ddim": (D.DDIM(), 1),
    "dpm_solver_pp_2m": (D.DPMSolverPP(order=2), 1),
    "dpm_solver_pp_3m": (D.DPMSolverPP(order=3), 1),
    "dpm_solver_pp_3m_taylor": (D.DPMSolverPP(order=3, solver_type="taylor"), 1),
    "dpm_solver_2m": (D.DPMSolver(order=2), 1),
    "dpm_solver_3m_taylor": (D.DPMSolver(order=3, solver_type="taylor"), 1),
    "dpm_solver_2s": (D.DPMSolverSinglestep(order=2), 2),
    "dpm_solver_3s": (D.DPMSolverSinglestep(order=3), 3),
    "dpm_solver_pp_2s": (D.DPMSolverPP2S(), 2),
    "unipc_bh1_2": (D.UniPC(order=2, variant="bh1"), 1),
    "unipc_bh2_2": (D.UniPC(order=2, variant="bh2"), 1),
    "unipc_bh2_3": (D.UniPC(order=3, variant="bh2"), 1),
    "deis_3": (D.DEIS(order=3), 1),
}


def sliced_w1(a, b, key):
    """Sliced Wasserstein-1 distance over 64 random unit directions (equal sample sizes)."""
    return float(D.sliced_wasserstein(a, b, key=key, num_projections=64, p=1))


def error_rows(dim, nfes, num_samples, schedule):
    gm = D.GaussianMixture.random(8, dim, std=0.05, key=jax.random.key(0))
    model = gm.noise_model(schedule)
    x_T = jax.random.normal(jax.random.key(1), (num_samples, dim))
    exact = jax.jit(jax.vmap(lambda x: gm.flow_endpoint(schedule, x, schedule.t_max, schedule.t_min)))(x_T)
    data = gm.sample(num_samples, key=jax.random.key(2))
    proj_key = jax.random.key(3)
    rows = [dict(library="jaxsci", sampler="exact_flow", dim=dim, nfe=None, endpoint_rmse=0.0,
                 sliced_w1=sliced_w1(exact, data, proj_key), wall_s=None)]
    for name, (sampler, per_step) in SAMPLERS.items():
        for nfe in nfes:
            steps = nfe // per_step
            if steps < 1:
                continue
            grid = D.time_grid(schedule, steps)
            out = jax.jit(jax.vmap(lambda x, f=sampler, g=grid: f(model, schedule, x, g).x))(x_T)
            rmse = float(jnp.sqrt(jnp.mean((out - exact) ** 2)))
            rows.append(dict(library="jaxsci", sampler=name, dim=dim, nfe=steps * per_step,
                             endpoint_rmse=rmse, sliced_w1=sliced_w1(out, data, proj_key), wall_s=None))
            print(f"d={dim:5d} {name:26s} NFE {steps * per_step:3d}  rmse {rmse:.3e}  "
                  f"sliced W1 {rows[-1]['sliced_w1']:.3e}", flush=True)
    return rows


def wall_rows(num_samples, dim, nfe):
    s = D.VPLinear()
    gm = D.GaussianMixture.random(8, dim, std=0.05, key=jax.random.key(0))
    model = gm.noise_model(s)
    x_T = jax.random.normal(jax.random.key(1), (num_samples, dim))
    rows = []
    for name, (sampler, per_step) in SAMPLERS.items():
        grid = D.time_grid(s, nfe // per_step)
        fn = jax.jit(jax.vmap(lambda x, f=sampler, g=grid: f(model, s, x, g).x))
        jax.block_until_ready(fn(x_T))
        times = []
        for _ in range(5):
            start = time.perf_counter()
            jax.block_until_ready(fn(x_T))
            times.append(time.perf_counter() - start)
        rows.append(dict(library="jaxsci", sampler=name, dim=dim, nfe=(nfe // per_step) * per_step,
                         endpoint_rmse=None, wall_s=statistics.median(times), samples=num_samples))
        print(f"wall {name:26s} {rows[-1]['wall_s']:.4f} s", flush=True)
    return rows


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--dims", type=int, nargs="*", default=None)
    p.add_argument("--nfes", type=int, nargs="*", default=None)
    args = p.parse_args(argv)
    dims = args.dims or ([2, 64] if args.quick else [2, 64, 3072])
    nfes = args.nfes or ([5, 10, 20] if args.quick else [5, 6, 8, 10, 15, 20])
    rows = []
    with enable_x64(True):
        schedule = D.VPLinear()
        for dim in dims:
            rows += error_rows(dim, nfes, 64 if dim > 1000 else 256, schedule)
    rows += wall_rows(256 if args.quick else 1024, 3072, 10)
    print()
    print(markdown_table(rows, ["library", "sampler", "dim", "nfe", "endpoint_rmse", "sliced_w1", "wall_s"]))
    write_json(args.json, {"rows": rows, "machine": machine(), "versions": versions()})
    return rows


if __name__ == "__main__":
    main()
