"""Where TENG's margin over TDVP and RSNG comes from: each method's error floor against the
time step and the network size.

    python benchmarks/teng_margin.py [--problem heat_1d] [--widths 8 12 16] [--embed 6]
           [--depth 2] [--grid 48] [--teng-dt 0.02 0.01 0.005]
           [--tdvp-dt 0.002 0.001 0.0005] [--methods TENG-Heun TDVP-RK4 RSNG-RK4]
           [--teng-fit gauss-newton levenberg-marquardt ...] [--T 4] [--held-out]
           [--json PATH]

For each network width one network is fitted to the initial condition (Levenberg-Marquardt
with variable projection, the set-up of ``benchmarks/teng.py``: same points, same
evaluation points, same reference), and from that one network TENG-Heun runs at every
``--teng-dt``, TDVP-RK4 and RSNG-RK4 (``--rsng-fraction`` of the columns) at every
``--tdvp-dt`` (and TENG-RK4 at every ``--teng-dt`` when asked), to T (on
``problem.held_out()`` with ``--held-out``). TENG's fit is Gauss-Newton, or with
``--teng-fit`` also Levenberg-Marquardt with or without variable projection. Reported per
run: relative L2 at T/2 and T, wall seconds (compilation excluded) and seconds per step.
No setting is chosen here: the table shows how each method's error moves with its step,
its damping and the network, so that the ratio between the methods at equal compute can
be traced to what sets each one's error.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import teng as bench
from _common import git_state, machine, markdown_table, versions, write_json

from jaxsci.core import num_params
from jaxsci.teng import HEUN, RK4, TENG, LevenbergMarquardt

FITS = {
    "gauss-newton": bench.gauss_newton,
    "levenberg-marquardt": lambda it, d: LevenbergMarquardt(iterations=it, damping=d),
    "levenberg-marquardt-no-projection": lambda it, d: LevenbergMarquardt(
        iterations=it, damping=d, projection=False
    ),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problem", default="heat_1d", choices=list(bench.PROBLEMS))
    p.add_argument("--widths", type=int, nargs="+", default=[8, 12, 16])
    p.add_argument("--embed", type=int, default=6)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--grid", type=int, default=48)
    p.add_argument("--teng-dt", type=float, nargs="+", default=[0.02, 0.01, 0.005])
    p.add_argument("--tdvp-dt", type=float, nargs="+", default=[0.002, 0.001, 0.0005])
    p.add_argument(
        "--methods",
        nargs="+",
        default=["TENG-Heun", "TDVP-RK4", "RSNG-RK4"],
        choices=["TENG-Heun", "TENG-RK4", "TDVP-RK4", "RSNG-RK4"],
    )
    p.add_argument("--iterations", type=int, default=20, help="TENG's fit iterations")
    p.add_argument(
        "--teng-fit",
        nargs="+",
        default=["gauss-newton"],
        choices=list(FITS),
        help="TENG's fits per stage (the dampings are Levenberg-Marquardt's starting values)",
    )
    p.add_argument(
        "--damping", type=float, nargs="+", default=[1e-12], help="TENG's relative dampings"
    )
    p.add_argument(
        "--tdvp-damping",
        type=float,
        nargs="+",
        default=[1e-12],
        help="TDVP's and RSNG's relative dampings",
    )
    p.add_argument("--rsng-fraction", type=float, default=0.25)
    p.add_argument("--fit-iterations", type=int, default=400)
    p.add_argument("--T", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--held-out",
        action="store_true",
        help="run on problem.held_out(), the initial condition settings are chosen on",
    )
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    args.boundary, args.rows_weight = "exact", 1.0
    problem = bench.PROBLEMS[args.problem]
    if args.held_out:
        problem = problem.held_out()
    times = [args.T / 2, args.T]
    rows = []
    settings = {k: v for k, v in vars(args).items() if k != "json"}

    def save(partial: bool):
        payload = {
            "rows": rows,
            "settings": settings,
            "machine": machine(),
            "versions": versions(),
            "git": git_state("benchmarks/teng.py", "benchmarks/teng_margin.py"),
        }
        write_json(args.json, payload | ({"partial": True} if partial else {}))

    for width in args.widths:
        args.net = [args.embed, width, args.depth]
        points, eval_points, ref_u, net, e0, fit_s = bench.setup(
            f"{args.problem}, width {width}", problem, args, times
        )
        size = num_params(net)
        base = dict(problem=args.problem, width=width, parameters=size, points=len(points))
        rows.append(dict(base, method="initial fit", dt=0.0, rel_l2_T=e0, wall_s=fit_s))
        runs = []
        for method, tableau in (("TENG-Heun", HEUN), ("TENG-RK4", RK4)):
            if method not in args.methods:
                continue
            for fit_name, damping in itertools.product(args.teng_fit, args.damping):
                fit = FITS[fit_name](args.iterations, damping)
                label = method if fit_name == "gauss-newton" else f"{method} ({fit_name})"
                runs += [(label, damping, TENG(tableau, fit=fit), dt) for dt in args.teng_dt]
        sub = argparse.Namespace(**vars(args))
        for damping in args.tdvp_damping:
            sub.tdvp_damping = damping
            for dt in args.tdvp_dt:
                for method, at in (("TDVP-RK4", bench.tdvp_at), ("RSNG-RK4", bench.rsng_at)):
                    if method in args.methods:
                        runs.append((method, damping, *at(dt, sub)))
        for method, damping, stepper, dt in runs:
            table, curves = [], []
            wall = bench.run_method(
                args.problem,
                method,
                problem,
                points,
                net,
                stepper,
                dt,
                times,
                eval_points,
                ref_u,
                table,
                curves,
            )
            rows.append(
                dict(
                    base,
                    method=method,
                    damping=damping,
                    dt=dt,
                    rel_l2_half=table[0]["rel_l2"],
                    rel_l2_T=table[-1]["rel_l2"],
                    wall_s=wall,
                    s_per_step=wall / round(args.T / dt),
                )
            )
        save(partial=True)
    print(
        markdown_table(
            rows,
            [
                "width",
                "parameters",
                "method",
                "damping",
                "dt",
                "rel_l2_half",
                "rel_l2_T",
                "wall_s",
                "s_per_step",
            ],
        )
    )
    save(partial=False)


if __name__ == "__main__":
    main()
