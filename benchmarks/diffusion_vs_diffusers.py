"""jaxsci's samplers side by side with Hugging Face diffusers' schedulers.

    python benchmarks/diffusion_vs_diffusers.py [--quick] [--json PATH]

Needs the optional extra ``compare`` (``make compare``); without it the script says so and
exits. Same setting for both libraries: diffusers' default discrete VP schedule (1000
linear betas), x_T at timestep 999, an analytic model (a mixture of 8 narrow Gaussians,
std 0.05, means ~ N(0, I)), every run ending at timestep 0. Error: RMS of (sample - exact
probability-flow endpoint), the endpoint from a float64 diffrax solve.

Protocol (held-out selection, the same for both libraries):

* selection set: mixture A (means from seed 0) and 128 start noises (seed 1);
  test set: mixture B (means from seed 10, same dimension) and 128 fresh start noises (seed 11);
* at each (dim, NFE) each library's best configuration is the one with the lowest error on
  the selection set; that configuration alone is then scored on the test set;
* the twins (jaxsci's sampler run on diffusers' own timesteps, equal to diffusers by
  construction) are reported separately and never enter a best-of;
* defaults, fixed before the run: jaxsci's recommended default (docs/diffusion.md:
  DPM-Solver++(2M) on the logSNR grid) and diffusers' default DPMSolverMultistepScheduler
  (solver_order=2, its default "linspace" timesteps), both scored on the test set.

Candidates. diffusers: DPM-Solver++ 2M/3M, UniPC bh1/bh2 (orders 2, 3) and DEIS (orders 2,
3), each on its linspace and trailing timesteps and with Karras, exponential and beta
sigmas, DPM-Solver++ also with Lu's uniform-logSNR lambdas, plus DDIM (linspace, trailing);
jaxsci: 9 samplers on logSNR, Karras, uniform and quadratic grids.

Wall time: 1024 samples in d = 3072 at NFE 10, float32, DPM-Solver++(2M) in each library's
default setting, the model written natively in each framework (jaxsci: jit(vmap(sampler));
diffusers: its Python loop of scheduler.step), one warm-up run each (jaxsci compiles there),
then 5 runs of each, interleaved so that both see the same machine load, torch with 1 and
with 2 threads; median and minimum.
JSON: ``{"rows": [{"library", "sampler", "role", "set", "dim", "nfe", "endpoint_rmse"}],
"summary": ..., "defaults": ..., "twins": ..., "wall": ...}``.
"""

from __future__ import annotations

import functools as ft
import math
import os
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, parser, versions, write_json

from jaxsci import diffusion as D
from jaxsci.core import enable_x64

# (mixture seed, start-noise seed): configurations are chosen on "selection", scored on "test"
SETS = {"selection": (0, 1), "test": (10, 11)}
NUM_SAMPLES = 128
# dims, NFEs, (samples, dim) of the wall-time run
SIZES = {"full": ([2, 64], [5, 6, 8, 10, 15, 20], (1024, 3072)), "quick": ([64], [5, 10], (256, 3072))}

JAXSCI = {
    "ddim": D.DDIM(),
    "dpm_solver_pp_2m": D.DPMSolverPP(order=2),
    "dpm_solver_pp_3m": D.DPMSolverPP(order=3),
    "dpm_solver_pp_3m_taylor": D.DPMSolverPP(order=3, solver_type="taylor"),
    "unipc_bh1_2": D.UniPC(order=2, variant="bh1"),
    "unipc_bh1_3": D.UniPC(order=3, variant="bh1"),
    "unipc_bh2_2": D.UniPC(order=2, variant="bh2"),
    "unipc_bh2_3": D.UniPC(order=3, variant="bh2"),
    "deis_3": D.DEIS(order=3),
}
JAXSCI_GRIDS = ("logSNR", "karras", "uniform", "quadratic")
# the recommended default, named in docs/diffusion.md before this benchmark was run
JAXSCI_DEFAULT = "dpm_solver_pp_2m[logSNR]"
# diffusers' default DPMSolverMultistepScheduler (order 2, "linspace" timesteps); the last
# step goes to timestep 0 (final_sigmas_type="sigma_min"), the common endpoint of every run
DIFFUSERS_DEFAULT = "dpm_solver_pp_2m[linspace]"

# diffusers scheduler -> the jaxsci sampler with the same formulas (run on diffusers' timesteps)
TWINS = ("ddim", "dpm_solver_pp_2m", "dpm_solver_pp_3m", "unipc_bh1_2", "unipc_bh1_3", "unipc_bh2_2",
         "unipc_bh2_3")


def diffusers_schedulers(diffusers):
    """name[timesteps] -> scheduler factory (every run's last step goes to timestep 0)."""
    grids = {"linspace": {}, "trailing": {"timestep_spacing": "trailing"},
             "karras": {"use_karras_sigmas": True}, "exponential": {"use_exponential_sigmas": True},
             "beta": {"use_beta_sigmas": True}}
    out = {}
    for g in ("linspace", "trailing"):
        out[f"ddim[{g}]"] = ft.partial(diffusers.DDIMScheduler, clip_sample=False, set_alpha_to_one=False,
                                       timestep_spacing=g)
    for g, opts in grids.items():
        for order in (2, 3):
            out[f"dpm_solver_pp_{order}m[{g}]"] = ft.partial(
                diffusers.DPMSolverMultistepScheduler, solver_order=order, final_sigmas_type="sigma_min", **opts)
            for variant in ("bh1", "bh2"):
                out[f"unipc_{variant}_{order}[{g}]"] = ft.partial(
                    diffusers.UniPCMultistepScheduler, solver_order=order, solver_type=variant,
                    final_sigmas_type="sigma_min", **opts)
            out[f"deis_{order}[{g}]"] = ft.partial(diffusers.DEISMultistepScheduler, solver_order=order, **opts)
    for order in (2, 3):
        out[f"dpm_solver_pp_{order}m[lu_lambdas]"] = ft.partial(
            diffusers.DPMSolverMultistepScheduler, solver_order=order, final_sigmas_type="sigma_min",
            use_lu_lambdas=True)
    return out


def torch_mixture_eps(torch, gm, acp):
    """The mixture's exact eps in torch (the native model for diffusers' timing)."""
    means = torch.tensor(np.asarray(gm.means), dtype=torch.float32)
    s2 = torch.tensor(np.asarray(gm.stds) ** 2, dtype=torch.float32)
    logw = torch.tensor(np.asarray(gm.log_weights), dtype=torch.float32)
    acp = torch.tensor(np.asarray(acp), dtype=torch.float32)

    def eps(x, t):
        a = acp[int(t)].sqrt()
        s = (1 - acp[int(t)]).sqrt()
        y, rho2 = x / a, (s / a) ** 2
        var = s2 + rho2
        sq = torch.cdist(y, means) ** 2
        logits = logw - 0.5 * sq / var - 0.5 * x.shape[1] * torch.log(var)
        gamma = torch.softmax(logits, dim=1)
        den = (gamma * (1 - s2 / var)) @ means + (gamma * (s2 / var)).sum(1, keepdim=True) * y
        return (x - a * den) / s

    return eps


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def geomean(values) -> float:
    return math.exp(float(np.mean(np.log(values))))


def main(argv=None):
    args = parser(__doc__).parse_args(argv)
    try:
        import diffusers
        import torch
    except ImportError:
        print("diffusers and torch are not installed (make compare): nothing to compare.")
        return []
    torch.set_num_threads(2)
    dims, nfes, (num, wall_dim) = SIZES["quick" if args.quick else "full"]
    rows, summary, defaults, twins = [], [], [], []
    with enable_x64(True):
        schedule = D.VPDiscrete(diffusers.DDIMScheduler().betas.double().numpy())
        # one compiled function per sampler: the mixture, the noises and the grid are arguments
        jaxsci_fns = {name: jax.jit(jax.vmap(lambda gm, x, g, f=f: f(gm.noise_model(schedule), schedule, x, g).x,
                                             in_axes=(None, 0, None))) for name, f in JAXSCI.items()}
        eps_fn = jax.jit(jax.vmap(lambda gm, x, t: gm.noise_model(schedule)(x, t), in_axes=(None, 0, None)))
        endpoint_fn = jax.jit(jax.vmap(lambda gm, x: gm.flow_endpoint(schedule, x, 999.0, 0.0), in_axes=(None, 0)))
        schedulers = diffusers_schedulers(diffusers)

        def run_diffusers(make, nfe, gm, x_T):
            sch = make()
            sch.set_timesteps(nfe)
            sample = torch.tensor(np.asarray(x_T))
            for t in sch.timesteps:
                e = np.asarray(eps_fn(gm, jnp.asarray(sample.numpy()), float(t)))
                sample = sch.step(torch.tensor(e), t, sample).prev_sample
            return sample.numpy(), np.asarray(sch.timesteps, dtype=np.float64)

        def run_jaxsci(config, nfe, gm, x_T):
            name, kind = config[:-1].split("[")
            grid = D.time_grid(schedule, nfe, kind, t_start=999.0, t_end=0.0)
            return jaxsci_fns[name](gm, x_T, grid)

        for dim in dims:
            data = {}
            for set_name, (mix_seed, noise_seed) in SETS.items():
                gm = D.GaussianMixture.random(8, dim, std=0.05, key=jax.random.key(mix_seed))
                x_T = jax.random.normal(jax.random.key(noise_seed), (NUM_SAMPLES, dim))
                data[set_name] = (gm, x_T, np.asarray(endpoint_fn(gm, x_T)))

            def score(lib, config, nfe, set_name, role):
                gm, x_T, exact = data[set_name]
                try:
                    if lib == "diffusers":
                        out, _ = run_diffusers(schedulers[config], nfe, gm, x_T)
                    else:
                        out = run_jaxsci(config, nfe, gm, x_T)
                except Exception as err:
                    print(f"{lib} {config} NFE {nfe}: {err}")
                    return None
                err = rmse(out, exact)
                if not np.isfinite(err):
                    print(f"{lib} {config} NFE {nfe}: non-finite error, counted as a failure")
                    return None
                rows.append(dict(library=lib, sampler=config, role=role, set=set_name, dim=dim, nfe=nfe,
                                 endpoint_rmse=err))
                return err

            candidates = {"diffusers": list(schedulers),
                          "jaxsci": [f"{n}[{k}]" for n in JAXSCI for k in JAXSCI_GRIDS]}
            for nfe in nfes:
                entry = dict(dim=dim, nfe=nfe)
                for lib, configs in candidates.items():
                    sel = {c: score(lib, c, nfe, "selection", "candidate") for c in configs}
                    sel = {c: e for c, e in sel.items() if e is not None}
                    chosen = min(sel, key=sel.get)
                    entry[f"{lib}_config"] = chosen
                    entry[f"{lib}_selection"] = sel[chosen]
                    entry[f"{lib}_test"] = score(lib, chosen, nfe, "test", "best")
                    entry[f"{lib}_candidates"] = len(sel)
                entry["ratio"] = entry["jaxsci_test"] / entry["diffusers_test"]
                summary.append(entry)
                d = dict(dim=dim, nfe=nfe, jaxsci_default=score("jaxsci", JAXSCI_DEFAULT, nfe, "test", "default"),
                         diffusers_default=score("diffusers", DIFFUSERS_DEFAULT, nfe, "test", "default"),
                         diffusers_best=entry["diffusers_test"])
                d["vs_default"] = d["jaxsci_default"] / d["diffusers_default"]
                d["vs_best"] = d["jaxsci_default"] / d["diffusers_best"]
                defaults.append(d)
                # twins, on the test set, outside every best-of
                gm, x_T, exact = data["test"]
                for name in TWINS:
                    theirs, steps = run_diffusers(schedulers[f"{name}[linspace]"], nfe, gm, x_T)
                    # DDIM's linspace timesteps end at 0 (its last step, 0 -> 0, changes nothing)
                    grid = jnp.asarray(steps if steps[-1] == 0 else np.append(steps, 0.0))
                    ours = jaxsci_fns[name](gm, x_T, grid)
                    twins.append(dict(dim=dim, nfe=nfe, sampler=name, diffusers=rmse(theirs, exact),
                                      jaxsci_twin=rmse(ours, exact), ratio=rmse(ours, exact) / rmse(theirs, exact)))
                print(f"d={dim} NFE {nfe}: jaxsci {entry['jaxsci_config']} sel {entry['jaxsci_selection']:.3e} "
                      f"test {entry['jaxsci_test']:.3e} | diffusers {entry['diffusers_config']} sel "
                      f"{entry['diffusers_selection']:.3e} test {entry['diffusers_test']:.3e} | defaults "
                      f"{d['jaxsci_default']:.3e} / {d['diffusers_default']:.3e}", flush=True)

    # wall time, float32, natively in each framework
    dim = wall_dim
    schedule = D.VPDiscrete(diffusers.DDIMScheduler().betas.double().numpy())
    gm = D.GaussianMixture.random(8, dim, std=0.05, key=jax.random.key(0))
    x_T = jax.random.normal(jax.random.key(1), (num, dim))
    grid = D.time_grid(schedule, 10, "logSNR", t_start=999.0, t_end=0.0)
    sampler = D.DPMSolverPP(order=2)
    fn = jax.jit(jax.vmap(lambda x: sampler(gm.noise_model(schedule), schedule, x, grid).x))
    eps = torch_mixture_eps(torch, gm, np.exp(2 * np.asarray(schedule.log_alphas)))
    x_torch = torch.tensor(np.asarray(x_T))

    def jaxsci_run():
        jax.block_until_ready(fn(x_T))

    def diffusers_run():
        sch = diffusers.DPMSolverMultistepScheduler(solver_order=2, final_sigmas_type="sigma_min")
        sch.set_timesteps(10)
        sample = x_torch
        with torch.no_grad():
            for t in sch.timesteps:
                sample = sch.step(eps(sample, t), t, sample).prev_sample
        return sample

    # warm-up (jaxsci compiles here), then the two interleaved so that both see the same load;
    # torch with 1 and with 2 intra-op threads (on a loaded 2-core machine 2 threads can be
    # much slower), the faster counting as diffusers' time
    jaxsci_run()
    times = {"jaxsci": []}
    load_before = os.getloadavg()[0]
    for threads in (1, 2):
        torch.set_num_threads(threads)
        diffusers_run()
        times[f"diffusers ({threads} threads)"] = []
        for _ in range(5):
            for lib, run in (("jaxsci", jaxsci_run), (f"diffusers ({threads} threads)", diffusers_run)):
                start = time.perf_counter()
                run()
                times[lib].append(time.perf_counter() - start)
    torch.set_num_threads(2)
    wall = [dict(library=lib, sampler="dpm_solver_pp_2m[logSNR]" if lib == "jaxsci" else "dpm_solver_pp_2m[linspace]",
                 dim=dim, nfe=10, samples=num, wall_s=statistics.median(t), wall_min_s=min(t),
                 load_average=load_before) for lib, t in times.items()]

    geo = {}
    for dim in dims:
        geo[dim] = dict(
            best=geomean([s["ratio"] for s in summary if s["dim"] == dim]),
            default_vs_default=geomean([d["vs_default"] for d in defaults if d["dim"] == dim]),
            default_vs_best=geomean([d["vs_best"] for d in defaults if d["dim"] == dim]))
    print()
    print("Best configuration per (dim, NFE), chosen on the selection set, scored on the test set:")
    print(markdown_table(summary, ["dim", "nfe", "jaxsci_config", "jaxsci_selection", "jaxsci_test",
                                   "diffusers_config", "diffusers_selection", "diffusers_test", "ratio"]))
    print()
    print(f"Defaults on the test set (jaxsci {JAXSCI_DEFAULT}, diffusers {DIFFUSERS_DEFAULT}):")
    print(markdown_table(defaults, ["dim", "nfe", "jaxsci_default", "diffusers_default", "diffusers_best",
                                    "vs_default", "vs_best"]))
    print()
    for dim, g in geo.items():
        print(f"d={dim}: geometric mean ratio best/best {g['best']:.3f}; jaxsci default / diffusers default "
              f"{g['default_vs_default']:.3f}; jaxsci default / diffusers best {g['default_vs_best']:.3f}")
    print()
    print("Twins (test set, not in any best-of):")
    print(markdown_table(twins, ["dim", "nfe", "sampler", "diffusers", "jaxsci_twin", "ratio"]))
    print()
    print(markdown_table(wall, ["library", "sampler", "dim", "nfe", "samples", "wall_s", "wall_min_s",
                              "load_average"]))
    write_json(args.json, {"protocol": {"sets": SETS, "num_samples": NUM_SAMPLES, "jaxsci_default": JAXSCI_DEFAULT,
                                        "diffusers_default": DIFFUSERS_DEFAULT},
                           "rows": rows, "summary": summary, "defaults": defaults, "geomean": geo, "twins": twins,
                           "wall": wall, "machine": machine(),
                           "versions": {**versions(), "torch": torch.__version__, "diffusers": diffusers.__version__}})
    return rows


if __name__ == "__main__":
    main()
