"""jaxsci's samplers side by side with Hugging Face diffusers' schedulers.

    python benchmarks/diffusion_vs_diffusers.py [--quick] [--json PATH]

Needs the optional extra ``compare`` (``make compare``); without it the script says so and
exits. Same setting for both libraries: diffusers' default discrete VP schedule (1000
linear betas), the same x_T at timestep 999, the same analytic model (a mixture of 8
narrow Gaussians, std 0.05, means ~ N(0, I)), every run ending at timestep 0. Error: RMS of
(sample - exact probability-flow endpoint), the endpoint from a float64 diffrax solve.
Each library's runs: diffusers' DDIM, DPM-Solver++ 2M/3M, UniPC bh1/bh2 (orders 2, 3) and
DEIS (orders 2, 3), with and without Karras sigmas where offered; jaxsci's samplers on
logSNR, Karras, uniform and quadratic grids. Wall time: 1024 samples in d = 3072 at NFE 10,
float32, the model written natively in each framework (jaxsci: jit(vmap(sampler));
diffusers: its Python loop of scheduler.step), median of 5 after a warm-up.
JSON: ``{"rows": [{"library", "sampler", "dim", "nfe", "endpoint_rmse", "wall_s"}], ...}``.
"""

from __future__ import annotations

import functools as ft
import math
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, parser, versions, write_json  # noqa: E402

from jaxsci import diffusion as D  # noqa: E402
from jaxsci.core import enable_x64  # noqa: E402

# diffusers scheduler -> the jaxsci sampler with the same formulas (run on the same timesteps)
TWINS = {
    "ddim": D.ddim,
    "dpm_solver_pp_2m": D.dpm_solver_pp_2m,
    "dpm_solver_pp_3m": D.dpm_solver_pp_3m,
    "unipc_bh1_2": ft.partial(D.unipc, order=2, variant="bh1"),
    "unipc_bh1_3": ft.partial(D.unipc, order=3, variant="bh1"),
    "unipc_bh2_2": ft.partial(D.unipc, order=2, variant="bh2"),
    "unipc_bh2_3": ft.partial(D.unipc, order=3, variant="bh2"),
}

JAXSCI = {
    "ddim": D.ddim,
    "dpm_solver_pp_2m": D.dpm_solver_pp_2m,
    "dpm_solver_pp_3m": D.dpm_solver_pp_3m,
    "dpm_solver_pp_3m_taylor": ft.partial(D.dpm_solver_pp, order=3, solver_type="taylor"),
    "unipc_bh1_2": ft.partial(D.unipc, order=2, variant="bh1"),
    "unipc_bh1_3": ft.partial(D.unipc, order=3, variant="bh1"),
    "unipc_bh2_2": ft.partial(D.unipc, order=2, variant="bh2"),
    "unipc_bh2_3": ft.partial(D.unipc, order=3, variant="bh2"),
    "deis_3": ft.partial(D.deis, order=3),
}


def diffusers_schedulers(diffusers):
    out = {"ddim": lambda: diffusers.DDIMScheduler(clip_sample=False, set_alpha_to_one=False,
                                                   timestep_spacing="linspace")}
    for karras in (False, True):
        tag = "_karras" if karras else ""
        for order in (2, 3):
            out[f"dpm_solver_pp_{order}m{tag}"] = ft.partial(
                diffusers.DPMSolverMultistepScheduler, solver_order=order, use_karras_sigmas=karras,
                final_sigmas_type="sigma_min")
            for variant in ("bh1", "bh2"):
                out[f"unipc_{variant}_{order}{tag}"] = ft.partial(
                    diffusers.UniPCMultistepScheduler, solver_order=order, solver_type=variant,
                    use_karras_sigmas=karras, final_sigmas_type="sigma_min")
            out[f"deis_{order}{tag}"] = ft.partial(diffusers.DEISMultistepScheduler, solver_order=order,
                                                   use_karras_sigmas=karras)
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


def main(argv=None):
    args = parser(__doc__).parse_args(argv)
    try:
        import diffusers
        import torch
    except ImportError:
        print("diffusers and torch are not installed (make compare): nothing to compare.")
        return []
    torch.set_num_threads(2)
    dims = [64] if args.quick else [2, 64]
    nfes = [5, 10] if args.quick else [5, 6, 8, 10, 15, 20]
    rows = []
    with enable_x64(True):
        base = diffusers.DDIMScheduler()
        schedule = D.VPDiscrete(base.betas.double().numpy())
        for dim in dims:
            gm = D.GaussianMixture.random(jax.random.key(0), 8, dim, std=0.05)
            model = gm.noise_model(schedule)
            x_T = jax.random.normal(jax.random.key(1), (128, dim))
            exact = jax.jit(jax.vmap(lambda x: gm.flow_endpoint(schedule, x, 999.0, 0.0)))(x_T)
            for nfe in nfes:
                for name, make in diffusers_schedulers(diffusers).items():
                    sch = make()
                    sch.set_timesteps(nfe)
                    sample = torch.tensor(np.asarray(x_T))
                    try:
                        for t in sch.timesteps:
                            e = np.asarray(jax.vmap(lambda x, t=t: model(x, float(t)))(jnp.asarray(sample.numpy())))
                            sample = sch.step(torch.tensor(e), t, sample).prev_sample
                        rmse = float(np.sqrt(np.mean((sample.numpy() - np.asarray(exact)) ** 2)))
                    except Exception as err:  # noqa: BLE001 - an option diffusers rejects
                        print(f"diffusers {name} NFE {nfe}: {err}")
                        continue
                    rows.append(dict(library="diffusers", sampler=name, dim=dim, nfe=nfe, endpoint_rmse=rmse, wall_s=None))
                    if name in TWINS:
                        steps = np.asarray(sch.timesteps, dtype=np.float64)
                        # DDIM's linspace timesteps end at 0 (its last step, 0 -> 0, changes nothing)
                        grid = jnp.asarray(steps if steps[-1] == 0 else np.append(steps, 0.0))
                        twin = TWINS[name]
                        out = jax.jit(jax.vmap(lambda x, f=twin, g=grid: f(model, schedule, x, g)))(x_T)
                        twin_rmse = float(jnp.sqrt(jnp.mean((out - exact) ** 2)))
                        rows.append(dict(library="jaxsci", sampler=f"{name}[diffusers timesteps]", dim=dim,
                                         nfe=nfe, endpoint_rmse=twin_rmse, wall_s=None, twin_ratio=twin_rmse / rmse))
                for name, sampler in JAXSCI.items():
                    for kind in ("logSNR", "karras", "uniform", "quadratic"):
                        grid = D.time_grid(schedule, nfe, kind, t_start=999.0, t_end=0.0)
                        out = jax.jit(jax.vmap(lambda x, f=sampler, g=grid: f(model, schedule, x, g)))(x_T)
                        rmse = float(jnp.sqrt(jnp.mean((out - exact) ** 2)))
                        rows.append(dict(library="jaxsci", sampler=f"{name}[{kind}]", dim=dim, nfe=nfe,
                                         endpoint_rmse=rmse, wall_s=None))
                best = {lib: min(r["endpoint_rmse"] for r in rows if r["library"] == lib and r["dim"] == dim
                                 and r["nfe"] == nfe) for lib in ("jaxsci", "diffusers")}
                print(f"d={dim} NFE {nfe}: best jaxsci {best['jaxsci']:.3e}  best diffusers {best['diffusers']:.3e}",
                      flush=True)

    # wall time, float32, natively in each framework
    num, dim = (256, 3072) if args.quick else (1024, 3072)
    schedule = D.VPDiscrete(diffusers.DDIMScheduler().betas.double().numpy())
    gm = D.GaussianMixture.random(jax.random.key(0), 8, dim, std=0.05)
    x_T = jax.random.normal(jax.random.key(1), (num, dim))
    grid = D.time_grid(schedule, 10, "logSNR", t_start=999.0, t_end=0.0)
    fn = jax.jit(jax.vmap(lambda x: D.dpm_solver_pp_2m(gm.noise_model(schedule), schedule, x, grid)))
    jax.block_until_ready(fn(x_T))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        jax.block_until_ready(fn(x_T))
        times.append(time.perf_counter() - start)
    rows.append(dict(library="jaxsci", sampler="dpm_solver_pp_2m", dim=dim, nfe=10, endpoint_rmse=None,
                     wall_s=statistics.median(times), samples=num))
    eps = torch_mixture_eps(torch, gm, np.exp(2 * np.asarray(schedule.log_alphas)))
    x_torch = torch.tensor(np.asarray(x_T))

    def diffusers_run():
        sch = diffusers.DPMSolverMultistepScheduler(solver_order=2, final_sigmas_type="sigma_min")
        sch.set_timesteps(10)
        sample = x_torch
        with torch.no_grad():
            for t in sch.timesteps:
                sample = sch.step(eps(sample, t), t, sample).prev_sample
        return sample

    diffusers_run()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        diffusers_run()
        times.append(time.perf_counter() - start)
    rows.append(dict(library="diffusers", sampler="dpm_solver_pp_2m", dim=dim, nfe=10, endpoint_rmse=None,
                     wall_s=statistics.median(times), samples=num))

    summary = []
    for dim in dims:
        ratios = []
        for nfe in nfes:
            best = {lib: min(r["endpoint_rmse"] for r in rows if r["library"] == lib and r["dim"] == dim
                             and r["nfe"] == nfe and r["endpoint_rmse"] is not None) for lib in ("jaxsci", "diffusers")}
            ratios.append(best["jaxsci"] / best["diffusers"])
            summary.append(dict(dim=dim, nfe=nfe, best_jaxsci=best["jaxsci"], best_diffusers=best["diffusers"],
                                ratio=ratios[-1]))
        summary.append(dict(dim=dim, nfe="geomean", ratio=math.exp(np.mean(np.log(ratios)))))
    print()
    print(markdown_table(summary, ["dim", "nfe", "best_jaxsci", "best_diffusers", "ratio"]))
    print()
    print(markdown_table([r for r in rows if r["wall_s"] is not None], ["library", "sampler", "dim", "nfe", "wall_s"]))
    write_json(args.json, {"rows": rows, "summary": summary, "machine": machine(),
                           "versions": {**versions(), "torch": torch.__version__, "diffusers": diffusers.__version__}})
    return rows


if __name__ == "__main__":
    main()
