"""Sampler overhead on a trained network: time per step outside the model evaluation.

    python benchmarks/diffusion_overhead.py [--quick] [--json PATH] [--nfe 10] [--batch 256]

Model: the trained 8x8-digits eps-network of ``examples/diffusion_digits.py`` (an MLP of
width 512, 3 hidden layers), float32. Each sampler runs as ``jit(vmap(sampler))`` on a batch
of ``--batch`` start-noises at ``--nfe`` model evaluations. The floor is one compiled program
that only evaluates the model ``nfe`` times in sequence (``x <- model(x, t_k)`` in a
``lax.scan`` over the same grid, vmapped alike), so dispatch and the model's own cost are the
same on both sides. Sampler and floor are timed alternately ``--repeats`` times (each over
about 0.2 s). Reported per sampler: wall time (median), and the overhead, the median of the
paired ratios ``T_sampler / T_floor`` minus 1 (with its quartiles): the sampler's time per
step outside the model evaluation, as a fraction of one model evaluation.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, median_seconds, parser, versions, write_json
from _digits import digits_model

from jaxsci import diffusion as D


def samplers(num_steps):
    return {
        "ddim": D.DDIM(),
        "dpm_solver_pp_2m": D.DPMSolverPP(order=2),
        "dpm_solver_pp_3m": D.DPMSolverPP(order=3),
        "unipc_bh2_3": D.UniPC(order=3, variant="bh2"),
        "unipc_bh2_3_dc": D.UniPC(order=3, variant="bh2", compensation=jnp.linspace(1.2, 0.8, num_steps)),
        "deis_3": D.DEIS(order=3),
    }


def main():
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--nfe", type=int, default=10)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeats", type=int, default=21)
    args = p.parse_args()
    if args.quick:
        args.repeats = 5
    model, schedule, images = digits_model("eps", dtype=jnp.float32)
    grid = D.time_grid(schedule, args.nfe, t_end=1e-3)
    x_T = jax.random.normal(jax.random.key(0), (args.batch, 64), jnp.float32)

    def floor_one(x):
        def body(x, t):
            return model(x, t), None
        return jax.lax.scan(body, x, grid[:-1])[0]

    floor = jax.jit(jax.vmap(floor_one))
    t_floor = median_seconds(floor, x_T, repeats=args.repeats)
    rows = [dict(sampler="model evaluations only", nfe=args.nfe, wall_ms=1e3 * t_floor, overhead=0.0)]
    print(f"floor: {1e3 * t_floor:.3f} ms for {args.nfe} model evaluations of batch {args.batch}", flush=True)
    for name, sampler in samplers(args.nfe).items():
        run = jax.jit(jax.vmap(lambda x, f=sampler: f(model, schedule, x, grid).x))
        # sampler and floor alternate, each timed over ~0.2 s, so that both see the same load;
        # the overhead is the median of the paired ratios
        pairs = [(median_seconds(run, x_T, repeats=1), median_seconds(floor, x_T, repeats=1))
                 for _ in range(args.repeats)]
        ratios = sorted(a / b for a, b in pairs)
        overhead = statistics.median(ratios) - 1.0
        spread = (ratios[len(ratios) // 4] - 1.0, ratios[(3 * len(ratios)) // 4] - 1.0)
        t = statistics.median(a for a, _ in pairs)
        rows.append(dict(sampler=name, nfe=args.nfe, wall_ms=1e3 * t, overhead=overhead,
                         overhead_quartiles=spread))
        print(f"{name:18s} {1e3 * t:.3f} ms, overhead {overhead:+.2%} of the model time "
              f"(quartiles {spread[0]:+.2%} .. {spread[1]:+.2%})", flush=True)
    print()
    print(markdown_table(rows, ["sampler", "nfe", "wall_ms", "overhead"]))
    write_json(args.json, dict(command=" ".join([Path(sys.executable).name, *sys.argv]), machine=machine(),
                               versions=versions(), git=git_state("benchmarks/diffusion_overhead.py"),
                               settings=vars(args) | {"json": str(args.json)}, rows=rows))


if __name__ == "__main__":
    main()
