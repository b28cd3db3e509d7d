"""TENG-Euler, TENG-Heun, OBTI and TDVP side by side on periodic and bounded problems.

    python benchmarks/teng.py [--quick] [--json PATH] [--problems heat allen_cahn burgers
           heat_1d heat_3d heat_dirichlet heat_neumann allen_cahn_dirichlet
           allen_cahn_neumann heat_dirichlet_1d heat_neumann_1d] [--boundary exact|rows] [--rows-weight W]
           [--grid N] [--net EMBED WIDTH DEPTH] [--dt DT] [--T T] [--plot PATH]
           [--teng-fit gauss-newton|levenberg-marquardt] [--lead TENG-Heun|TENG-RK4]
           [--sweep [--sweep-T T] [--sweep-teng-damping D...] [--sweep-teng-iterations I...]
            [--sweep-tdvp-damping D...] [--sweep-obti-lr LR...]]

For each problem (jaxsci.pde.evolution: heat, Allen-Cahn, Burgers on [0, 2pi)^2; periodic
heat in 1D (4N points) and 3D ((N/2)^3 points); heat and Allen-Cahn on [0, 1]^2 with
Dirichlet or Neumann faces, and heat on [0, 1] (4N points)) one network is fitted to the initial condition
(Levenberg-Marquardt with variable projection) on an N x N grid (faces included on the
box): a PeriodicMLP, or on the box a BoxMLP with the condition built in (``--boundary
exact``) or an unconstrained BoxMLP whose condition enters every method's fits as
BoundaryRows of weight ``--rows-weight`` on N points per face (``--boundary rows``).
Every method then starts from that same network and the same points and is evolved to T.
TENG-Euler and TENG-Heun (and TENG-RK4 with --rk4) run at the given dt and iterations of
their fit (``--teng-fit``: Gauss-Newton, or Levenberg-Marquardt with variable projection);
the baselines then get the compute of the lead TENG method (``--lead``, TENG-Heun by
default; ``--lead TENG-RK4`` runs TENG-RK4 at --dt): its
seconds per step times its number of steps, every method's seconds per step taken as the
minimum of interleaved timing probes (robust to other load on a shared machine): TDVP-RK4
and RSNG-RK4 (TDVP on ``--rsng-fraction`` of the parameters, drawn anew each step; its
damping is TDVP's) the step size that spends it, OBTI-Adam (Heun targets at the TENG dt) as many Adam
iterations per fit as it allows.
Reported: relative L2 error against the reference (exact for heat, float64 ETDRK4 on 128^2
modes otherwise) on an off-grid evaluation grid at t = T/8, 2T/8, ..., T and the cumulative
wall time (compilation excluded, measured apart).
With ``--sweep`` the settings are chosen first, per problem and method, on the held-out
initial condition (``problem.held_out()``, not the one reported) evolved to ``--sweep-T``:
the lead TENG method over damping x fit iterations, then TDVP-RK4 over its damping and
OBTI-Adam over its learning rate, each baseline at the wall time of the chosen lead
and with as many configurations as TENG had (checked). The lowest error at ``--sweep-T``
wins (a failed run counts as infinite error); the reported run on the evaluation initial
condition then uses the chosen settings (the other TENG methods share the lead's).
JSON: ``{"rows": [{"problem", "method", "t", "rel_l2", "wall_s"}], "settings", "sweep",
"picked", ...}``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import lineax as lx
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    machine,
    markdown_table,
    parser,
    versions,
    write_json,
)

jax.config.update("jax_enable_x64", True)

from jaxsci.core import num_params, relative_l2  # noqa: E402
from jaxsci.pde.evolution import (  # noqa: E402
    AllenCahn2D,
    BoxAllenCahn,
    BoxHeat,
    Burgers2D,
    Heat2D,
    PeriodicHeat,
    box_grid,
    grid_points,
    periodic_grid,
)
from jaxsci.teng import (  # noqa: E402
    EULER,
    HEUN,
    OBTI,
    RK4,
    TDVP,
    TENG,
    BoundaryRows,
    GaussNewton,
    LevenbergMarquardt,
    evolve,
    initial_network,
)

METHOD_NAMES = ["TENG-Euler", "TENG-Heun", "TENG-RK4", "TDVP-RK4", "RSNG-RK4", "OBTI-Adam"]
BASELINES = ("TDVP-RK4", "RSNG-RK4", "OBTI-Adam")
PROBLEMS = {"heat": Heat2D(), "allen_cahn": AllenCahn2D(), "burgers": Burgers2D(),
            "heat_1d": PeriodicHeat(1), "heat_3d": PeriodicHeat(3),
            "heat_dirichlet": BoxHeat(2, "dirichlet"), "heat_neumann": BoxHeat(2, "neumann"),
            "heat_dirichlet_1d": BoxHeat(1, "dirichlet"), "heat_neumann_1d": BoxHeat(1, "neumann"),
            "allen_cahn_dirichlet": BoxAllenCahn("dirichlet"),
            "allen_cahn_neumann": BoxAllenCahn("neumann")}
EXACT = (Heat2D, PeriodicHeat, BoxHeat)  # problems with an exact solution


def sample_points(problem, n: int):
    """The fit points: an N x N grid in 2D (faces included on the box), 4N points in 1D,
    (N/2)^3 in 3D."""
    if not problem.periodic:
        return box_grid(problem.dim, 4 * n if problem.dim == 1 else n)
    return {1: periodic_grid(1, 4 * n), 2: grid_points(n)}.get(
        problem.dim, periodic_grid(problem.dim, max(4, n // 2)))


def evaluation_points(problem, n: int):
    """Off-grid points: the shifted grid on periodic 2D problems, else 2000 uniform ones."""
    if problem.periodic and problem.dim == 2:
        return (grid_points(n + 5) + 0.37) % (2 * np.pi)
    scale = 2 * np.pi if problem.periodic else 1.0
    rng = np.random.default_rng(12345)
    return jax.numpy.asarray(scale * rng.random((2000, problem.dim)))


def with_rows(stepper, args):
    """``stepper`` with the problem's boundary rows (``args.rows``) when there are any."""
    rows = getattr(args, "rows", None)
    return stepper if rows is None else dataclasses.replace(stepper, boundary=rows)


def gauss_newton(iterations, damping) -> GaussNewton:
    """TENG's fit: normal equations with relative damping (the GaussNewton defaults)."""
    return GaussNewton(iterations=iterations, solver=lx.Normal(lx.Cholesky()), damping=damping)


def teng_fit(args, iterations, damping):
    """TENG's fit per ``--teng-fit``: Gauss-Newton with fixed relative damping, or
    Levenberg-Marquardt with variable projection, ``damping`` its starting value."""
    if args.teng_fit == "levenberg-marquardt":
        return LevenbergMarquardt(iterations=iterations, damping=damping)
    return gauss_newton(iterations, damping)


LEAD_TABLEAUS = {"TENG-Heun": HEUN, "TENG-RK4": RK4}


def methods(args) -> dict:
    """name -> (stepper, dt) of the methods run at their own settings."""
    gn = teng_fit(args, args.iterations, args.damping)
    out = {
        "TENG-Euler": (with_rows(TENG(EULER, fit=gn), args), args.dt),
        "TENG-Heun": (with_rows(TENG(HEUN, fit=gn), args), args.dt),
    }
    if args.rk4 or args.lead == "TENG-RK4":
        rk4_dt = args.dt if args.lead == "TENG-RK4" else args.rk4_dt
        out["TENG-RK4"] = (with_rows(TENG(RK4, fit=gn), args), rk4_dt)
    if args.only:
        out = {k: v for k, v in out.items() if k in args.only}
    return out


def tdvp_at(dt, args):
    return with_rows(TDVP(RK4, solver=lx.Normal(lx.Cholesky()), damping=args.tdvp_damping),
                     args), dt


def rsng_at(dt, args):
    """TDVP-RK4 on a random subset of the parameters per step (RSNG, Berman & Peherstorfer
    2023, Alg. 1): ``--rsng-columns`` columns of the Jacobian."""
    return with_rows(TDVP(RK4, solver=lx.Normal(lx.Cholesky()), damping=args.tdvp_damping,
                          num_columns=args.rsng_columns), args), dt


def obti_at(steps, args):
    return with_rows(OBTI(optax.adam(args.obti_lr), steps=steps, tableau=HEUN), args), args.dt


def block_runner(problem, points, stepper, dt, num_steps):
    """A compiled ``(network, key) -> network`` advancing by ``num_steps`` steps (the key
    feeds random strategies such as RSNG)."""
    return eqx.filter_jit(
        lambda m, key: evolve(stepper, problem, m, dt, num_steps, points=points,
                              key=key).model)


def probe_seconds_per_step(problem, points, net, specs: dict, probe_steps: int = 4,
                           rounds: int = 5) -> dict:
    """Seconds of one step of each ``name -> (stepper, dt)`` (compilation excluded).

    The probes of all methods are timed in turn, ``rounds`` times, and the minimum is kept:
    on a shared machine other load only ever adds time, so the minimum of interleaved probes
    is the least disturbed estimate and treats every method alike.
    """
    runs = {k: block_runner(problem, points, *v, probe_steps) for k, v in specs.items()}
    for run in runs.values():
        jax.block_until_ready(run(net, jax.random.key(0)))
    best = {k: math.inf for k in runs}
    for _ in range(rounds):
        for k, run in runs.items():
            start = time.perf_counter()
            jax.block_until_ready(run(net, jax.random.key(0)))
            best[k] = min(best[k], (time.perf_counter() - start) / probe_steps)
    return best


def equal_cost_baselines(problem, points, net, args, wanted, times=None, lead=None,
                         budget: float | None = None) -> tuple[dict, float]:
    """TDVP-RK4 and OBTI-Adam given the compute of the lead TENG method (``args.lead``,
    TENG-Heun by default; ``lead = (stepper, dt)``) to reach ``times[-1]``, or ``budget``
    seconds when given.

    The budget is ``(the lead's seconds per step) x (its number of steps)``, every per-step
    cost from :func:`probe_seconds_per_step` in one interleaved session. TDVP gets the step
    size that spends it (its error does not improve with more work per step); OBTI keeps
    the TENG step size and gets as many Adam iterations per fit as the budget allows.
    ``times`` are the output times (default ``T/8, ..., T``); TDVP's step divides the first.

    Returns the baselines ``name -> (stepper, dt)`` and the budget in seconds.
    """
    times = times or [args.T * (i + 1) / 8 for i in range(8)]
    probe = 20
    specs = {}
    if budget is None:
        specs[args.lead] = lead
    if "TDVP-RK4" in wanted:
        specs["TDVP-RK4"] = tdvp_at(args.dt, args)
    if "RSNG-RK4" in wanted:
        specs["RSNG-RK4"] = rsng_at(args.dt, args)
    if "OBTI-Adam" in wanted:
        specs["OBTI-Adam"] = obti_at(probe, args)
    per = probe_seconds_per_step(problem, points, net, specs)
    if budget is None:
        budget = per[args.lead] * round(times[-1] / lead[1])
    print("  seconds per step (min of interleaved probes): "
          + ", ".join(f"{k} {v:.4f}" for k, v in per.items())
          + f"; budget {budget:.1f} s", flush=True)
    out = {}
    if "TDVP-RK4" in wanted:
        blocks = max(1, round(budget / per["TDVP-RK4"] / len(times)))
        out["TDVP-RK4"] = tdvp_at(times[0] / blocks, args)
    if "RSNG-RK4" in wanted:
        blocks = max(1, round(budget / per["RSNG-RK4"] / len(times)))
        out["RSNG-RK4"] = rsng_at(times[0] / blocks, args)
    if "OBTI-Adam" in wanted:
        steps = max(1, round(probe * budget / (per["OBTI-Adam"] * round(times[-1] / args.dt))))
        out["OBTI-Adam"] = obti_at(steps, args)
    return out, budget


def setup(name, problem, args, times):
    """Points, evaluation points, the reference at ``times`` and the fitted initial network."""
    points = sample_points(problem, args.grid)
    eval_points = evaluation_points(problem, args.grid)
    exact_boundary = args.boundary == "exact"
    args.rows = (None if problem.periodic or exact_boundary
                 else BoundaryRows.of(problem, args.grid, weight=args.rows_weight))
    start = time.perf_counter()
    ref = reference_at(problem, times)
    ref_u = {t: ref(eval_points, t) for t in times}
    ref_s = time.perf_counter() - start

    embed, width, depth = args.net
    start = time.perf_counter()
    fitted = initial_network(problem, points, key=jax.random.key(args.seed), embed=embed,
                             width=width, depth=depth, exact_boundary=exact_boundary,
                             fit=LevenbergMarquardt(iterations=args.fit_iterations))
    net, fit_err = fitted.model, fitted.residual
    size = num_params(net)
    args.rsng_columns = max(1, round(args.rsng_fraction * size))
    fit_s = time.perf_counter() - start
    e0 = float(relative_l2(jax.vmap(net)(eval_points), problem.initial(eval_points)))
    print(f"## {name}: reference {ref_s:.1f} s; initial fit rel L2 {e0:.2e} (at the grid "
          f"{float(fit_err):.2e}) in {fit_s:.1f} s", flush=True)
    return points, eval_points, ref_u, net, e0, fit_s


def run_problem(name, args, table_rows, curves):
    problem = PROBLEMS[name]
    times = [args.T * (i + 1) / 8 for i in range(8)]
    points, eval_points, ref_u, net, e0, fit_s = setup(name, problem, args, times)
    table_rows.append(dict(problem=name, method="initial fit (LM + VarPro)", t=0.0,
                           rel_l2=e0, wall_s=fit_s))

    own = methods(args)
    for method, (stepper, dt) in own.items():
        run_method(name, method, problem, points, net, stepper, dt, times, eval_points,
                   ref_u, table_rows, curves)
    wanted = [m for m in (args.only or METHOD_NAMES) if m in BASELINES]
    if not wanted or (args.wall is None and args.lead not in own):
        return
    baselines, budget = equal_cost_baselines(problem, points, net, args, wanted, times,
                                             lead=own.get(args.lead), budget=args.wall)
    for method, (stepper, dt) in baselines.items():
        setting = (f"dt = {dt:g}" if isinstance(stepper, TDVP)
                   else f"{stepper.steps} Adam steps per fit")
        if getattr(stepper, "num_columns", None):
            setting += f", {stepper.num_columns} random columns per step"
        print(f"  {method} at {budget:.0f} s ({args.lead}'s compute): {setting}", flush=True)
        run_method(name, method, problem, points, net, stepper, dt, times, eval_points,
                   ref_u, table_rows, curves, note=setting)


def run_method(name, method, problem, points, net, stepper, dt, times, eval_points, ref_u,
               table_rows, curves, note=""):
    """Evolve ``net`` to every time in ``times``, recording error and cumulative wall time."""
    per_block = round(times[0] / dt)
    if abs(per_block * dt - times[0]) > 1e-9 or any(
            abs(round(t / times[0]) * times[0] - t) > 1e-9 for t in times):
        raise SystemExit(f"the times {times} must be multiples of {times[0]}, a multiple of "
                         f"dt = {dt} ({method}).")
    run_block = block_runner(problem, points, stepper, dt, per_block)
    start = time.perf_counter()
    key = jax.random.key(0)  # random strategies (RSNG): block i gets fold_in(key, i)
    run_block.lower(net, key).compile()
    compile_s = time.perf_counter() - start
    model, wall, cpu, t_now, errs, failed = net, 0.0, 0.0, 0.0, [], False
    for t in times:
        while t_now < t - 1e-9 and not failed:
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                model = jax.block_until_ready(
                    run_block(model, jax.random.fold_in(key, round(t_now / dt))))
            except Exception as err:
                print(f"  {method} failed at t = {t_now:g}: {str(err).splitlines()[0][:200]}",
                      flush=True)
                failed = True
            wall += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            t_now += per_block * dt
        err = math.inf if failed else float(relative_l2(jax.vmap(model)(eval_points), ref_u[t]))
        if not math.isfinite(err):
            failed = True
        errs.append(err)
        table_rows.append(dict(problem=name, method=method, t=t, rel_l2=err,
                               wall_s=wall, cpu_s=cpu, dt=dt, note=note))
        print(f"  {method:11s} t={t:<5g} rel L2 {err:.3e}  wall {wall:7.1f} s", flush=True)
    curves.append(dict(problem=name, method=method, times=times, errors=errs,
                       wall_s=wall, compile_s=compile_s, dt=dt, note=note))
    return wall


def sweep_problem(name, args, sweep_rows) -> dict:
    """Choose each method's settings on the held-out initial condition (see the module doc).

    Returns the chosen ``damping``, ``iterations``, ``tdvp_damping`` and ``obti_lr``."""
    if not hasattr(PROBLEMS[name], "held_out"):
        raise SystemExit(f"--sweep needs a held-out initial condition, which {name} lacks; "
                         "drop --sweep or the problem.")
    problem = PROBLEMS[name].held_out()
    T = args.sweep_T
    times = [T / 2, T]
    sub = copy.copy(args)
    sub.T = T
    points, eval_points, ref_u, net, e0, _ = setup(f"{name} (held-out initial condition)",
                                                  problem, sub, times)

    def run(method, stepper, dt, setting, extra):
        curves: list = []
        rows: list = []
        wall = run_method(name, method, problem, points, net, stepper, dt, times,
                          eval_points, ref_u, rows, curves, note=setting)
        err = rows[-1]["rel_l2"]
        sweep_rows.append(dict(problem=name, method=method, setting=setting, t=T, rel_l2=err,
                               wall_s=wall, initial_fit=e0, **extra))
        return err, wall

    picked = {}
    results = []
    for damping in args.sweep_teng_damping:
        for iterations in args.sweep_teng_iterations:
            gn = teng_fit(args, iterations, damping)
            setting = f"damping {damping:g}, {iterations} {args.teng_fit} iterations"
            err, wall = run(args.lead, TENG(LEAD_TABLEAUS[args.lead], fit=gn), args.dt, setting,
                            dict(damping=damping, iterations=iterations))
            results.append((err, wall, damping, iterations))
    err, wall, picked["damping"], picked["iterations"] = min(results, key=lambda r: r[0])
    if not math.isfinite(err):
        raise SystemExit(f"every {args.lead} configuration failed on held-out {name}.")
    print(f"  picked {args.lead}: damping {picked['damping']:g}, {picked['iterations']} iterations "
          f"(rel L2 {err:.3e}, {wall:.0f} s wall)", flush=True)
    gn = teng_fit(args, picked["iterations"], picked["damping"])
    base, _ = equal_cost_baselines(problem, points, net, sub, ["TDVP-RK4", "OBTI-Adam"], times,
                                   lead=(TENG(LEAD_TABLEAUS[args.lead], fit=gn), args.dt))
    tdvp_dt = base["TDVP-RK4"][1]
    obti_steps = base["OBTI-Adam"][0].steps
    results = []
    for damping in args.sweep_tdvp_damping:
        sub.tdvp_damping = damping
        stepper, dt = tdvp_at(tdvp_dt, sub)
        err, _ = run("TDVP-RK4", stepper, dt, f"damping {damping:g}, dt = {dt:g}",
                     dict(tdvp_damping=damping))
        results.append((err, damping))
    err, picked["tdvp_damping"] = min(results, key=lambda r: r[0])
    results = []
    for lr in args.sweep_obti_lr:
        sub.obti_lr = lr
        stepper, dt = obti_at(obti_steps, sub)
        err, _ = run("OBTI-Adam", stepper, dt, f"learning rate {lr:g}, {obti_steps} Adam "
                     "steps per fit", dict(obti_lr=lr))
        results.append((err, lr))
    err, picked["obti_lr"] = min(results, key=lambda r: r[0])
    print(f"  picked {name}: {picked}", flush=True)
    return picked


def reference_at(problem, times):
    """The reference at ``times``; the ETDRK4 step is at most 4e-3 and divides ``T/8``."""
    if isinstance(problem, EXACT):
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
    p.add_argument("--boundary", choices=["exact", "rows"], default="exact",
                   help="bounded problems: the condition built into the network, or as "
                        "least-squares rows in every fit")
    p.add_argument("--rows-weight", type=float, default=1.0, help="weight of the rows")
    p.add_argument("--net", type=int, nargs=3, default=None, metavar=("EMBED", "WIDTH", "DEPTH"))
    p.add_argument("--dt", type=float, default=None)
    p.add_argument("--T", type=float, default=None)
    p.add_argument("--iterations", type=int, default=None, help="Gauss-Newton iterations per fit")
    p.add_argument("--damping", type=float, default=1e-12,
                   help="relative damping of the TENG Gauss-Newton solves (the starting "
                        "damping with --teng-fit levenberg-marquardt)")
    p.add_argument("--teng-fit", choices=["gauss-newton", "levenberg-marquardt"],
                   default="gauss-newton",
                   help="TENG's fit per stage: Gauss-Newton with fixed damping, or "
                        "Levenberg-Marquardt with variable projection")
    p.add_argument("--lead", choices=list(LEAD_TABLEAUS), default="TENG-Heun",
                   help="the TENG method whose settings --sweep chooses and whose compute the "
                        "baselines get; it runs at --dt")
    p.add_argument("--tdvp-damping", type=float, default=1e-12,
                   help="relative damping of the TDVP solves (--sweep chooses it on the "
                        "held-out initial condition instead; 1e-14 won there on all three)")
    p.add_argument("--rsng-fraction", type=float, default=0.25,
                   help="RSNG-RK4 updates this fraction of the parameters per step")
    p.add_argument("--obti-lr", type=float, default=1e-4, help="OBTI Adam learning rate")
    p.add_argument("--fit-iterations", type=int, default=None)
    p.add_argument("--rk4", action="store_true", help="also run TENG-RK4")
    p.add_argument("--only", nargs="+", default=None, choices=METHOD_NAMES,
                   help="run only these methods (e.g. TENG-Heun alone for a long run)")
    p.add_argument("--wall", type=float, default=None,
                   help="the baselines' budget in seconds instead of TENG-Heun's probed "
                        "compute (e.g. when TENG-Heun is not run)")
    p.add_argument("--rk4-dt", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", type=Path, default=Path("benchmarks/teng_error_vs_time.png"))
    p.add_argument("--sweep", action="store_true",
                   help="choose every method's settings on the held-out initial condition "
                        "first (per problem), then report with them")
    p.add_argument("--sweep-T", type=float, default=None, help="horizon of the sweep runs")
    p.add_argument("--sweep-teng-damping", type=float, nargs="+", default=[1e-10, 1e-12])
    p.add_argument("--sweep-teng-iterations", type=int, nargs="+", default=[5, 20])
    p.add_argument("--sweep-tdvp-damping", type=float, nargs="+",
                   default=[1e-8, 1e-10, 1e-12, 1e-14])
    p.add_argument("--sweep-obti-lr", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2, 1e-1])
    args = p.parse_args()
    quick = dict(grid=20, net=[4, 10, 2], dt=0.03125, T=0.5, fit_iterations=150, iterations=4,
                 sweep_T=0.25)
    full = dict(grid=24, net=[6, 12, 2], dt=0.01, T=4.0, fit_iterations=400, iterations=20,
                sweep_T=0.5)
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.rk4_dt is None:
        args.rk4_dt = 5 * args.dt
    budgets = {args.lead: len(args.sweep_teng_damping) * len(args.sweep_teng_iterations),
               "TDVP-RK4": len(args.sweep_tdvp_damping), "OBTI-Adam": len(args.sweep_obti_lr)}
    if args.sweep and len(set(budgets.values())) != 1:
        raise SystemExit(f"unequal tuning budgets (configurations per method): {budgets}; "
                         "give every method as many configurations as TENG.")
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "plot")}
    print("settings:", settings, flush=True)
    rows, curves, sweep_rows, picked = [], [], [], {}
    for name in args.problems:
        run_args = args
        if args.sweep:
            picked[name] = sweep_problem(name, args, sweep_rows)
            run_args = copy.copy(args)
            for k, v in picked[name].items():
                setattr(run_args, k, v)
        run_problem(name, run_args, rows, curves)
        write_json(args.json, {"rows": rows, "curves": curves, "settings": settings,
                               "sweep": sweep_rows, "picked": picked, "budgets": budgets,
                               "machine": machine(), "versions": versions(), "partial": True})
    print()
    if sweep_rows:
        print(markdown_table(sweep_rows, ["problem", "method", "setting", "rel_l2", "wall_s"]))
        print("picked:", picked)
        print()
    print(markdown_table(rows, ["problem", "method", "t", "rel_l2", "wall_s"]))
    plot(curves, args.plot)
    write_json(args.json, {"rows": rows, "curves": curves, "settings": settings,
                           "sweep": sweep_rows, "picked": picked, "budgets": budgets,
                           "machine": machine(), "versions": versions()})


if __name__ == "__main__":
    main()
