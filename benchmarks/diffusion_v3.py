"""DPM-Solver-v3 (empirical model statistics) against DPM-Solver++, UniPC and DEIS at few NFE.

    python benchmarks/diffusion_v3.py [--quick] [--json PATH] [--nfes 5 10] [--seeds ...]

Models: the exact noise prediction of Gaussian mixtures (8 equal-weight components, means
~ N(0, I); settings (dim, std) below), VP linear schedule, grids uniform in log-SNR from
t = 1 to 1e-3. Reference: each start noise's exact probability-flow endpoint (float64 Dopri8
at 1e-10, ``GaussianMixture.flow_endpoint``). Everything runs in float64.

The statistics (``model_statistics``: 1200 log-SNRs, the authors' setting below 10 NFE) are
computed from draws of the mixture that are not the scored start noises. ``DPMSolverV3`` runs
with its defaults (order 3, corrector, pseudo-order predictor at 5 steps or fewer: the
authors' CIFAR-10 settings), fixed before this benchmark was run. Baselines: DPM-Solver++
(2M, 3M), UniPC (bh1 and bh2, orders 2 and 3), DEIS-tAB (order 3), on the same grid. Rows
``dpm_solver_v3_*`` are reported for information and are not in the ratio: ``degenerate``
(l = 1, s = b = 0: the v3 machinery without statistics, DPM-Solver++ "taylor" with the
corrector), ``pseudo`` (pseudo-order predictor at every NFE), ``no_corrector``.

Reported: endpoint MSE (mean over start noises and coordinates of (sample - reference)^2)
per sampler, and the ratio v3 / best of the baselines per mixture and NFE (below 1: v3 is
more accurate), with the geometric mean over seeds.

``compare(model, schedule, data, x_T, reference, nfes)`` takes any eps-model (a callable, best
an ``equinox.Module``, so that the compiled samplers are reused across models of one shape),
its data for the statistics, start noises and their reference endpoints.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, parser, versions, write_json
from diffusion_vs_diffusers import JAXSCI

from jaxsci import diffusion as D
from jaxsci.core import enable_x64

# the multistep baselines of the diffusers comparison (DDIM and the "taylor" 3M left out)
BASELINES = {k: v for k, v in JAXSCI.items() if k not in ("ddim", "dpm_solver_pp_3m_taylor")}
SETTINGS = {"quick": [(2, 0.3), (2, 0.05)], "full": [(2, 0.3), (2, 0.05), (8, 0.1)]}


class MixtureEps(eqx.Module):
    """The exact eps of a mixture as a module (its arrays are traced: one compile per shape)."""

    mixture: D.GaussianMixture
    schedule: D.AbstractSchedule

    def __call__(self, x, t):
        return self.mixture.noise_model(self.schedule)(x, t)


@eqx.filter_jit
def endpoints(sampler, model, schedule, x_T, grid):
    return jax.vmap(lambda x: sampler(model, schedule, x, grid).x)(x_T)


@eqx.filter_jit
def exact_endpoints(mixture, schedule, x_T):
    return jax.vmap(lambda x: mixture.flow_endpoint(schedule, x, schedule.t_max, schedule.t_min))(x_T)


def v3_samplers(ems):
    return {
        "dpm_solver_v3": D.DPMSolverV3(ems),
        "dpm_solver_v3_degenerate": D.DPMSolverV3(D.ModelStatistics.constant(ems.lambdas, ems.shape)),
        "dpm_solver_v3_pseudo": D.DPMSolverV3(ems, predictor_pseudo=True),
        "dpm_solver_v3_no_corrector": D.DPMSolverV3(ems, use_corrector=False),
    }


def compare(model, schedule, data, x_T, reference, nfes, *, key=None, num_lambdas=1200, chunk_size=256,
            extra_v3=True, kind="logSNR"):
    """Endpoint MSE of DPM-Solver-v3 (statistics of ``model`` from ``data``) and the baselines
    at each NFE in ``nfes`` on ``time_grid(schedule, nfe, kind)``; returns ``(rows, ratios, ems_s)``:
    one row per sampler and NFE, ``{nfe: v3 / best baseline}`` and the statistics' wall time."""
    key = jax.random.key(0) if key is None else key
    start = time.perf_counter()
    ems = D.model_statistics(model, schedule, data, key=key, num_lambdas=num_lambdas, chunk_size=chunk_size)
    jax.block_until_ready(ems.s)
    ems_s = time.perf_counter() - start
    samplers = dict(BASELINES)
    v3 = v3_samplers(ems)
    samplers.update(v3 if extra_v3 else {"dpm_solver_v3": v3["dpm_solver_v3"]})
    rows, ratios = [], {}
    for nfe in nfes:
        grid = D.time_grid(schedule, nfe, kind)
        mse = {name: float(jnp.mean((endpoints(sampler, model, schedule, x_T, grid) - reference) ** 2))
               for name, sampler in samplers.items()}
        best = min(mse[name] for name in BASELINES)
        ratios[nfe] = mse["dpm_solver_v3"] / best
        for name, value in mse.items():
            rows.append(dict(sampler=name, nfe=nfe, endpoint_mse=value, baseline=name in BASELINES))
    return rows, ratios, ems_s


def digits_rows(args, rows):
    """``compare`` on the trained 8x8-digits eps-network of ``examples/diffusion_digits.py``:
    statistics from ``--digits-data`` images, 512 scored start noises, references from
    ``probability_flow_reference`` (Tsit5 at 1e-9); on the logSNR grid and on the time-uniform
    grid (the better hand-designed grid for this model)."""
    from _digits import digits_model

    net, schedule, images = digits_model("eps")
    data = images[jax.random.permutation(jax.random.key(5), images.shape[0])[: args.digits_data]]
    x_T = jax.random.normal(jax.random.key(2100), (512, 64), jnp.float64)
    reference = jax.jit(jax.vmap(lambda x: D.probability_flow_reference(net, schedule, x)))(x_T)
    out = []
    for kind in ("logSNR", "uniform"):
        got, ratios, ems_s = compare(net, schedule, data, x_T, reference, args.nfes, key=jax.random.key(3100),
                                     kind=kind)
        for row in got:
            rows.append(dict(dim=64, std="digits", seed=kind, **row))
        for nfe, ratio in ratios.items():
            print(f"digits {kind} NFE {nfe:3d}: v3 / best baseline {ratio:.3f} (statistics {ems_s:.1f} s)",
                  flush=True)
            out.append(dict(dim=64, std=f"digits, {kind} grid", nfe=nfe, ratio_geomean=ratio, ratio_min=ratio,
                            ratio_max=ratio, ratios=f"{ratio:.3g}"))
    return out


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--nfes", type=int, nargs="*", default=[5, 10])
    p.add_argument("--seeds", type=int, nargs="*", default=None)
    p.add_argument("--digits", action="store_true", help="also the trained digits network (dim 64, std 'digits')")
    p.add_argument("--digits-data", type=int, default=256, help="images the digits statistics are computed from")
    p.add_argument("--only-digits", action="store_true", help="with --digits: skip the mixtures")
    args = p.parse_args(argv)
    if args.only_digits:
        args.seeds = []
    settings = SETTINGS["quick" if args.quick else "full"]
    seeds = args.seeds if args.seeds is not None else ([0, 1, 2] if args.quick else [0, 1, 2, 3, 4])
    num_data, num_noises = (1024, 128) if args.quick else (4096, 1024)
    rows, summary = [], []
    with enable_x64(True):
        schedule = D.VPLinear()
        for dim, std in settings:
            ratios_by_nfe = {nfe: [] for nfe in args.nfes}
            for seed in seeds:
                mixture = D.GaussianMixture.random(8, dim, std=std, key=jax.random.key(seed))
                model = MixtureEps(mixture, schedule)
                data = mixture.sample(num_data, key=jax.random.key(1000 + seed))       # statistics only
                x_T = jax.random.normal(jax.random.key(2000 + seed), (num_noises, dim))  # scored only
                reference = exact_endpoints(mixture, schedule, x_T)
                got, ratios, ems_s = compare(model, schedule, data, x_T, reference, args.nfes,
                                             key=jax.random.key(3000 + seed), extra_v3=not args.quick or seed == 0)
                for row in got:
                    rows.append(dict(dim=dim, std=std, seed=seed, **row))
                for nfe, ratio in ratios.items():
                    ratios_by_nfe[nfe].append(ratio)
                    print(f"d={dim} std={std} seed={seed} NFE {nfe:3d}: v3 / best baseline {ratio:.3f} "
                          f"(statistics {ems_s:.1f} s)", flush=True)
            for nfe, values in ratios_by_nfe.items():
                summary.append(dict(dim=dim, std=std, nfe=nfe, ratio_geomean=geometric_mean(values),
                                    ratio_min=min(values), ratio_max=max(values),
                                    ratios=" ".join(f"{v:.3g}" for v in values)))
        if args.digits:
            summary += digits_rows(args, rows)
    print()
    print(markdown_table(rows, ["dim", "std", "seed", "sampler", "nfe", "endpoint_mse"]))
    print()
    print(markdown_table(summary, ["dim", "std", "nfe", "ratio_geomean", "ratio_min", "ratio_max", "ratios"]))
    write_json(args.json, {"rows": rows, "summary": summary, "machine": machine(), "versions": versions(),
                           "git": git_state("benchmarks/diffusion_v3.py"), "quick": args.quick})
    return rows, summary


if __name__ == "__main__":
    main()
