"""DC-Solver's fitted compensation (``jaxsci.diffusion.fit_compensation``) against plain UniPC.

    python benchmarks/diffusion_dc_solver.py [--quick] [--json PATH] [--part tune|score]
        [--nfe 5 10] [--config 2,bh2,trajectory] [--digits]

Models: the exact noise prediction of Gaussian mixtures (8 equal-weight components, means
~ N(0, I), std 0.1, d = 16; reference: ``GaussianMixture.flow_endpoint``, float64 Dopri8 at
1e-10), and with ``--digits`` the trained 8x8-digits network of
``examples/diffusion_digits.py`` (reference: ``probability_flow_reference``, float64 Tsit5 at
1e-9). VP linear schedule, logSNR grid from t = 1 to 1e-3, float64.

The ratios are fitted on ``--train`` start-noises (the paper uses 10) and every sampler is
scored on ``--test`` other start-noises by the endpoint MSE. The baseline is the best of the
four plain UniPC variants (order 2 or 3, bh1 or bh2) *on the test noises* (an oracle choice
that favours the baseline); DC-Solver's configuration (UniPC order, variant, objective) is
chosen by ``--part tune`` on mixture seeds 100-101 and scored by ``--part score`` on mixture
seeds 0-4 and the digits model, which the tuning never saw. The ratio to the same-variant
UniPC is reported too.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, parser, versions, write_json

from jaxsci import diffusion as D
from jaxsci.core import RESULTS, enable_x64

T_END = 1e-3
VARIANTS = [(2, "bh1"), (2, "bh2"), (3, "bh1"), (3, "bh2")]
OBJECTIVES = ("trajectory", "endpoint")
FIT = {"trajectory": dict(steps=40, learning_rate=0.1), "endpoint": dict(steps=200, learning_rate=0.05)}


def mixture_problem(seed, n_train, n_test):
    schedule = D.VPLinear()
    mix = D.GaussianMixture.random(8, 16, std=0.1, key=jax.random.key(seed))
    k_train, k_test = jax.random.split(jax.random.key(10_000 + seed))
    x_te = jax.random.normal(k_test, (n_test, 16))
    endpoint = jax.jit(jax.vmap(lambda x: mix.flow_endpoint(schedule, x, schedule.t_max, T_END)))
    return schedule, mix.noise_model(schedule), jax.random.normal(k_train, (n_train, 16)), x_te, endpoint(x_te)


def digits_problem(n_train, n_test):
    from _digits import digits_model

    model, schedule, _ = digits_model("eps")
    k_train, k_test = jax.random.split(jax.random.key(20_000))
    x_te = jax.random.normal(k_test, (n_test, 64), dtype=jnp.float64)
    ref = jax.jit(jax.vmap(lambda x: D.probability_flow_reference(model, schedule, x, t_to=T_END)))(x_te)
    return schedule, model, jax.random.normal(k_train, (n_train, 64), dtype=jnp.float64), x_te, ref


def one_case(label, problem, nfe, configs):
    schedule, model, x_tr, x_te, ref = problem
    grid = D.time_grid(schedule, nfe, t_end=T_END)
    mse = lambda sampler: float(D.endpoint_mse(sampler, model, schedule, x_te, ref, grid))
    plain = {f"{o}{v}": mse(D.UniPC(order=o, variant=v)) for o, v in VARIANTS}
    best_plain = min(plain, key=plain.get)
    rows = []
    for order, variant, objective in configs:
        start = time.perf_counter()
        fitted = D.fit_compensation(D.UniPC(order=order, variant=variant), model, schedule, x_tr, grid,
                                    objective=objective, **FIT[objective])
        fit_s = time.perf_counter() - start
        dc = mse(fitted.sampler)
        row = dict(problem=label, nfe=nfe, order=order, variant=variant, objective=objective, dc_test=dc,
                   plain_test=plain, best_plain=best_plain, ratio_best_plain=dc / plain[best_plain],
                   ratio_same_variant=dc / plain[f"{order}{variant}"], fit_s=fit_s,
                   ratios=[float(r) for r in fitted.ratios], successful=bool(fitted.result == RESULTS.successful))
        print(f"{label} NFE {nfe} UniPC-{variant} order {order} {objective:10s}: DC {dc:.4e}, same variant "
              f"{plain[f'{order}{variant}']:.4e} ({row['ratio_same_variant']:.3f}x), best plain {best_plain} "
              f"{plain[best_plain]:.4e} ({row['ratio_best_plain']:.3f}x); fit {fit_s:.1f} s", flush=True)
        rows.append(row)
    return rows


def summarize(rows):
    out = []
    for key in sorted({(r["nfe"], r["order"], r["variant"], r["objective"]) for r in rows}):
        mine = [r for r in rows if (r["nfe"], r["order"], r["variant"], r["objective"]) == key]
        out.append(dict(nfe=key[0], config=f"UniPC-{key[2]} order {key[1]}, {key[3]}", cases=len(mine),
                        median_ratio_best_plain=statistics.median(r["ratio_best_plain"] for r in mine),
                        max_ratio_best_plain=max(r["ratio_best_plain"] for r in mine),
                        median_ratio_same_variant=statistics.median(r["ratio_same_variant"] for r in mine),
                        median_fit_s=statistics.median(r["fit_s"] for r in mine)))
    return out


def main():
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--part", choices=("tune", "score"), default="score")
    p.add_argument("--nfe", type=int, nargs="+", default=[5])
    p.add_argument("--config", default="2,bh2,trajectory", help="order,variant,objective for --part score")
    p.add_argument("--train", type=int, default=16)
    p.add_argument("--test", type=int, default=1024)
    p.add_argument("--digits", action="store_true", help="also score on the trained digits model")
    args = p.parse_args()
    if args.quick:
        args.train, args.test = 8, 64
    if args.part == "tune":
        seeds = [100, 101]
        configs = [(o, v, obj) for (o, v), obj in itertools.product(VARIANTS, OBJECTIVES)]
    else:
        seeds = [0, 1, 2, 3, 4]
        order, variant, objective = args.config.split(",")
        configs = [(int(order), variant, objective)]
    if args.quick:
        seeds, configs = seeds[:1], configs[:2]
    header = dict(command=" ".join([Path(sys.executable).name, *sys.argv]), machine=machine(),
                  versions=versions(), git=git_state("benchmarks/diffusion_dc_solver.py", "jaxsci/diffusion"),
                  settings=vars(args) | {"json": str(args.json)})
    rows = []
    with enable_x64(True):
        problems = [(f"mixture {seed}", lambda seed=seed: mixture_problem(seed, args.train, args.test))
                    for seed in seeds]
        if args.digits and args.part == "score":
            problems.append(("digits", lambda: digits_problem(args.train, args.test)))
        for label, make in problems:
            problem = make()
            for nfe in args.nfe:
                rows += one_case(label, problem, nfe, configs)
                write_json(args.json, {**header, "rows": rows, "partial": True})
    summary = summarize(rows)
    print()
    print(markdown_table(summary, ["nfe", "config", "cases", "median_ratio_best_plain", "max_ratio_best_plain",
                                   "median_ratio_same_variant", "median_fit_s"]))
    write_json(args.json, {**header, "rows": rows, "summary": summary, "partial": False})


if __name__ == "__main__":
    main()
