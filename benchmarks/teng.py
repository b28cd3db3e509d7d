"""TENG-Euler, TENG-Heun, OBTI and TDVP side by side on the periodic 2D problems.

    python benchmarks/teng.py [--quick] [--json PATH] [--problems heat allen_cahn burgers]
           [--grid N] [--net EMBED WIDTH DEPTH] [--dt DT] [--T T] [--plot PATH]

For each problem (jaxsci.pde.evolution: heat, Allen-Cahn, Burgers on [0, 2pi)^2) one
PeriodicMLP is fitted to the initial condition (Levenberg-Marquardt with variable
projection) on an N x N grid; every method then starts from that same network and the
same points and is evolved to T. TENG-Euler and TENG-Heun (and TENG-RK4 with --rk4) run at
the given dt and Gauss-Newton iterations; the baselines then get the wall time TENG-Heun
took: TDVP-RK4 the step size that spends it, OBTI-Adam (Heun targets at the TENG dt) as
many Adam iterations per fit as it allows (both calibrated by timing a few steps).
Reported: relative L2 error against the reference (exact for heat, float64 ETDRK4 on 128^2
modes otherwise) on an off-grid evaluation grid at t = T/8, 2T/8, ..., T and the cumulative
wall time (compilation excluded, measured apart).
JSON: ``{"rows": [{"problem", "method", "t", "rel_l2", "wall_s"}], "settings", ...}``.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import (  # noqa: E402
    machine,
    markdown_table,
    median_seconds,
    parser,
    versions,
    write_json,
)

jax.config.update("jax_enable_x64", True)

from jaxsci.pde.evolution import AllenCahn2D, Burgers2D, Heat2D, grid_points  # noqa: E402
from jaxsci.teng import (  # noqa: E402
    EULER,
    HEUN,
    RK4,
    PeriodicMLP,
    evolve,
    levenberg_marquardt_fit,
    obti_step,
    rel_l2,
    tdvp_step,
    teng_rk_step,
)

METHOD_NAMES = ["TENG-Euler", "TENG-Heun", "TENG-RK4", "TDVP-RK4", "OBTI-Adam"]
PROBLEMS = {"heat": Heat2D(), "allen_cahn": AllenCahn2D(), "burgers": Burgers2D()}


def methods(args) -> dict:
    """name -> (stepper, dt, keyword arguments) of the methods run at their own settings."""
    gn = dict(iterations=args.iterations, method="normal_cholesky", damping=args.damping)
    out = {
        "TENG-Euler": (teng_rk_step, args.dt, dict(tableau=EULER, **gn)),
        "TENG-Heun": (teng_rk_step, args.dt, dict(tableau=HEUN, **gn)),
    }
    if args.rk4:
        out["TENG-RK4"] = (teng_rk_step, args.rk4_dt, dict(tableau=RK4, **gn))
    if args.only:
        out = {k: v for k, v in out.items() if k in args.only}
    return out


def tdvp_at(dt, args):
    return tdvp_step, dt, dict(tableau=RK4, method="normal_cholesky", damping=args.tdvp_damping,
                               rcond=None)


def obti_at(steps, args):
    return obti_step, args.dt, dict(tableau=HEUN, optimizer="adam", steps=steps,
                                    learning_rate=args.obti_lr)


def block_runner(problem, points, stepper, dt, kw, num_steps):
    """A compiled function advancing a network by ``num_steps`` steps."""
    return eqx.filter_jit(lambda m: evolve(stepper, m, problem, points, dt, num_steps, **kw))


def seconds_per_step(problem, points, net, stepper, dt, kw, probe_steps: int = 4) -> float:
    """Wall seconds of one step (compilation excluded): the median of three probe blocks."""
    run = block_runner(problem, points, stepper, dt, kw, probe_steps)
    return median_seconds(run, net, repeats=3, min_time=0.0) / probe_steps


def equal_wall_baselines(problem, points, net, args, target_wall: float, wanted) -> dict:
    """TDVP-RK4 and OBTI-Adam tuned to take about ``target_wall`` seconds to reach T.

    TDVP gets the step size that spends the time (its error does not improve with more
    work per step); OBTI keeps the TENG step size and gets as many Adam iterations per fit
    as the time allows. Both are calibrated by timing a few steps first.
    """
    out = {}
    if "TDVP-RK4" in wanted:
        per_tdvp = seconds_per_step(problem, points, net, *tdvp_at(args.dt, args))
        blocks = max(1, round(target_wall / per_tdvp / 8))
        out["TDVP-RK4"] = tdvp_at(args.T / 8 / blocks, args)
    if "OBTI-Adam" in wanted:
        probe = 20
        per_obti = seconds_per_step(problem, points, net, *obti_at(probe, args))
        steps = max(1, round(probe * target_wall / (per_obti * round(args.T / args.dt))))
        out["OBTI-Adam"] = obti_at(steps, args)
    return out


def run_problem(name, args, table_rows, curves):
    problem = PROBLEMS[name]
    points = grid_points(args.grid)
    eval_points = (grid_points(args.grid + 5) + 0.37) % (2 * np.pi)
    times = [args.T * (i + 1) / 8 for i in range(8)]
    start = time.perf_counter()
    ref = reference_at(problem, times)
    ref_u = {t: ref(eval_points, t) for t in times}
    ref_s = time.perf_counter() - start

    net = PeriodicMLP(2, *args.net, key=jax.random.key(args.seed))
    fit = eqx.filter_jit(lambda m: levenberg_marquardt_fit(
        m, points, problem.initial(points), iterations=args.fit_iterations))
    start = time.perf_counter()
    net, fit_err = fit(net)
    fit_s = time.perf_counter() - start
    e0 = float(rel_l2(jax.vmap(net)(eval_points), problem.initial(eval_points)))
    print(f"## {name}: reference {ref_s:.1f} s; initial fit rel L2 {e0:.2e} (at the grid "
          f"{float(fit_err):.2e}) in {fit_s:.1f} s", flush=True)
    table_rows.append(dict(problem=name, method="initial fit (LM + VarPro)", t=0.0,
                           rel_l2=e0, wall_s=fit_s))

    walls = {}
    for method, (stepper, dt, kw) in methods(args).items():
        walls[method] = run_method(name, method, problem, points, net, stepper, dt, kw, times,
                                   eval_points, ref_u, table_rows, curves)
    target_wall = args.wall if args.wall is not None else walls.get("TENG-Heun")
    if target_wall is None:
        return
    wanted = args.only or METHOD_NAMES
    baselines = equal_wall_baselines(problem, points, net, args, target_wall, wanted)
    for method, (stepper, dt, kw) in baselines.items():
        setting = f"dt = {dt:g}" if method.startswith("TDVP") else f"{kw['steps']} Adam steps per fit"
        print(f"  {method} at {target_wall:.0f} s (the TENG-Heun wall time): {setting}",
              flush=True)
        run_method(name, method, problem, points, net, stepper, dt, kw, times, eval_points,
                   ref_u, table_rows, curves, note=setting)


def run_method(name, method, problem, points, net, stepper, dt, kw, times, eval_points, ref_u,
               table_rows, curves, note=""):
    """Evolve ``net`` to every time in ``times``, recording error and cumulative wall time."""
    per_block = round(times[0] / dt)
    if abs(per_block * dt - times[0]) > 1e-9:
        raise SystemExit(f"T/8 = {times[0]} must be a multiple of dt = {dt} ({method}).")
    run_block = block_runner(problem, points, stepper, dt, kw, per_block)
    start = time.perf_counter()
    run_block.lower(net).compile()
    compile_s = time.perf_counter() - start
    model, wall, t_now, errs = net, 0.0, 0.0, []
    for t in times:
        while t_now < t - 1e-9:
            start = time.perf_counter()
            model = jax.block_until_ready(run_block(model))
            wall += time.perf_counter() - start
            t_now += per_block * dt
        err = float(rel_l2(jax.vmap(model)(eval_points), ref_u[t]))
        errs.append(err)
        table_rows.append(dict(problem=name, method=method, t=t, rel_l2=err,
                               wall_s=wall, dt=dt, note=note))
        print(f"  {method:11s} t={t:<5g} rel L2 {err:.3e}  wall {wall:7.1f} s", flush=True)
    curves.append(dict(problem=name, method=method, times=times, errors=errs,
                       wall_s=wall, compile_s=compile_s, dt=dt, note=note))
    return wall


def reference_at(problem, times):
    """The reference at ``times``; the ETDRK4 step is at most 4e-3 and divides ``T/8``."""
    if isinstance(problem, Heat2D):
        return problem.reference(times)
    return problem.reference(times, dt=times[0] / math.ceil(times[0] / 4e-3 - 1e-9))


def plot(curves, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(c["problem"] for c in curves))
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for c in curves:
            if c["problem"] == name:
                ax.semilogy(c["times"], c["errors"], "o-",
                            label=f"{c['method']} ({c['wall_s']:.0f} s)")
        ax.set_title(name)
        ax.set_xlabel("t")
        ax.set_ylabel("relative L2 error")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    p.add_argument("--grid", type=int, default=None)
    p.add_argument("--net", type=int, nargs=3, default=None, metavar=("EMBED", "WIDTH", "DEPTH"))
    p.add_argument("--dt", type=float, default=None)
    p.add_argument("--T", type=float, default=None)
    p.add_argument("--iterations", type=int, default=None, help="Gauss-Newton iterations per fit")
    p.add_argument("--damping", type=float, default=1e-12,
                   help="relative damping of the TENG Gauss-Newton solves")
    p.add_argument("--tdvp-damping", type=float, default=1e-12,
                   help="relative damping of the TDVP solves (1e-12 was best of 1e-10, 1e-12 "
                        "and 1e-14 on Burgers)")
    p.add_argument("--obti-lr", type=float, default=1e-4, help="OBTI Adam learning rate")
    p.add_argument("--fit-iterations", type=int, default=None)
    p.add_argument("--rk4", action="store_true", help="also run TENG-RK4")
    p.add_argument("--only", nargs="+", default=None, choices=METHOD_NAMES,
                   help="run only these methods (e.g. TENG-Heun alone for a long run)")
    p.add_argument("--wall", type=float, default=None,
                   help="wall seconds for the baselines when TENG-Heun is not run (its time "
                        "from an earlier run with the same settings)")
    p.add_argument("--rk4-dt", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", type=Path, default=Path("benchmarks/teng_error_vs_time.png"))
    args = p.parse_args()
    quick = dict(grid=20, net=[4, 10, 2], dt=0.03125, T=0.5, fit_iterations=150, iterations=4)
    full = dict(grid=24, net=[6, 12, 2], dt=0.01, T=4.0, fit_iterations=400, iterations=20)
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.rk4_dt is None:
        args.rk4_dt = 5 * args.dt
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "plot")}
    print("settings:", settings, flush=True)
    rows, curves = [], []
    for name in args.problems:
        run_problem(name, args, rows, curves)
    print()
    print(markdown_table(rows, ["problem", "method", "t", "rel_l2", "wall_s"]))
    plot(curves, args.plot)
    write_json(args.json, {"rows": rows, "curves": curves, "settings": settings,
                           "machine": machine(), "versions": versions()})


if __name__ == "__main__":
    main()
