"""On the trained digits model: learned step grids against jaxsci's and diffusers' best samplers.

    python benchmarks/diffusion_digits_vs_diffusers.py [--quick] [--json PATH] [--nfe 5 10]

Needs the optional extra ``compare`` (``make compare``) for the diffusers side; without it only
jaxsci runs. Model: the 8x8-digits eps-network of ``examples/diffusion_digits.py`` (trained on
the VP linear schedule, t in [1e-3, 1]), put on the discrete axis diffusers uses: training
step ``k = 0..999`` is ``t_k = (k + 1) / 1000``, with betas chosen so that diffusers'
``alphas_cumprod[k]`` equals the VP linear ``alpha(t_k)^2`` (``trained_betas``), and jaxsci's
``VPDiscrete`` of the same betas. Every run goes from step 999 to step 0, float64. Error: the
endpoint MSE against the same model's probability-flow ODE solved with diffrax (Tsit5, 1e-9)
on that schedule.

Protocol (held-out selection, the same for both libraries; one model, so the sets are
disjoint start-noises):

* selection: 128 start-noises (seed 1); test: 512 (seed 11); training (learned grids only):
  1024 (seed 21);
* diffusers' candidates (as in ``benchmarks/diffusion_vs_diffusers.py``: DDIM, DPM-Solver++
  2M/3M, UniPC bh1/bh2 of orders 2 and 3, DEIS 2/3 on linspace, trailing, Karras, exponential
  and beta timesteps, Lu's lambdas) and jaxsci's hand-designed candidates (9 samplers and
  DPM-Solver-v3 on 4 grid kinds; v3's statistics from 256 of the images): the best on the
  selection set is scored on the test set;
* learned: ``fit_grid`` for DPM-Solver++(2M), UniPC-bh1 order 2, DEIS order 3 and
  DPM-Solver-v3 with the
  settings chosen on the mixtures (``benchmarks/diffusion_learned_grids.py --part tune``: Adam
  from 0.05, cosine, 300 steps, batch 256, one fit from each grid kind, the lowest training
  MSE kept), on the training noises; the sampler with the lowest selection MSE is scored on
  the test set.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, parser, versions, write_json
from _digits import digits_model
from diffusion_vs_diffusers import JAXSCI, JAXSCI_GRIDS, diffusers_schedulers

from jaxsci import diffusion as D
from jaxsci.core import enable_x64

NUM_TRAIN_STEPS = 1000
SETS = {"selection": (1, 128), "test": (11, 512), "train": (21, 1024)}
LEARNED = {"dpm_solver_pp_2m": D.DPMSolverPP(order=2), "unipc_bh1_2": D.UniPC(order=2, variant="bh1"),
           "deis_3": D.DEIS(order=3)}


def discrete_betas():
    """Betas whose cumulative products are the VP linear ``alpha(t_k)^2``, ``t_k = (k + 1) / 1000``."""
    t = (np.arange(NUM_TRAIN_STEPS) + 1.0) / NUM_TRAIN_STEPS
    s = D.VPLinear()
    acp = np.exp(2.0 * np.asarray(jnp.log(s.alpha(jnp.asarray(t, jnp.float64)))))
    return 1.0 - acp / np.concatenate([[1.0], acp[:-1]])


def main(argv=None):
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--nfe", type=int, nargs="+", default=[5, 10])
    p.add_argument("--fit-steps", type=int, default=300)
    args = p.parse_args(argv)
    if args.quick:
        args.fit_steps = 30
        SETS.update(selection=(1, 32), test=(11, 64), train=(21, 128))
    try:
        import diffusers
        import torch
    except ImportError:
        diffusers = torch = None
        print("diffusers and torch are not installed (make compare): jaxsci only.")
    rows, summary = [], []
    with enable_x64(True):
        net_model, _, _ = digits_model("eps")
        betas = discrete_betas()
        schedule = D.VPDiscrete(betas)
        model = lambda x, k: net_model(x, (k + 1.0) / NUM_TRAIN_STEPS)
        batched_eps = jax.jit(jax.vmap(model, in_axes=(0, None)))
        reference = jax.jit(jax.vmap(lambda x: D.probability_flow_reference(
            model, schedule, x, t_from=999.0, t_to=0.0)))
        data = {}
        for name, (seed, n) in SETS.items():
            x = jax.random.normal(jax.random.key(seed), (n, 64), jnp.float64)
            start = time.perf_counter()
            data[name] = (x, reference(x))
            print(f"{name}: {n} references in {time.perf_counter() - start:.1f} s", flush=True)
        mse = lambda out, name: float(jnp.mean((jnp.asarray(out) - data[name][1]) ** 2))
        # DPM-Solver-v3's statistics from 256 images (not start-noises of any set)
        _, _, images = digits_model("eps")
        start = time.perf_counter()
        ems = D.model_statistics(model, schedule, images[jax.random.permutation(jax.random.key(5), 1797)[:256]],
                                 key=jax.random.key(3100), num_lambdas=1200, chunk_size=256)
        print(f"v3 statistics in {time.perf_counter() - start:.1f} s", flush=True)
        jaxsci_samplers = {**JAXSCI, "dpm_solver_v3": D.DPMSolverV3(ems)}
        learned_samplers = {**LEARNED, "dpm_solver_v3": D.DPMSolverV3(ems)}
        jaxsci_fns = {k: jax.jit(jax.vmap(lambda x, g, f=f: f(model, schedule, x, g).x, in_axes=(0, None)))
                      for k, f in jaxsci_samplers.items()}

        def run_diffusers(make, nfe, name):
            sch = make(trained_betas=betas, num_train_timesteps=NUM_TRAIN_STEPS)
            sch.set_timesteps(nfe)
            sample = torch.tensor(np.asarray(data[name][0]))
            for t in sch.timesteps:
                eps = np.asarray(batched_eps(jnp.asarray(sample.numpy()), float(t)))
                sample = sch.step(torch.tensor(eps), t, sample).prev_sample
            return sample.numpy()

        def hand(config, nfe, name):
            sampler, kind = config[:-1].split("[")
            grid = D.time_grid(schedule, nfe, kind, t_start=999.0, t_end=0.0)
            return jaxsci_fns[sampler](data[name][0], grid)

        for nfe in args.nfe:
            entry = dict(nfe=nfe)
            libraries = {"jaxsci_hand": (hand, [f"{n}[{k}]" for n in jaxsci_samplers for k in JAXSCI_GRIDS])}
            if diffusers is not None:
                makers = diffusers_schedulers(diffusers)
                libraries["diffusers"] = (lambda c, nfe, name: run_diffusers(makers[c], nfe, name), list(makers))
            for lib, (run, configs) in libraries.items():
                sel = {}
                for c in configs:
                    try:
                        value = mse(run(c, nfe, "selection"), "selection")
                    except Exception as err:  # a scheduler that refuses these settings counts as failed
                        print(f"{lib} {c} NFE {nfe}: {err}")
                        continue
                    if np.isfinite(value):
                        sel[c] = value
                        rows.append(dict(library=lib, config=c, nfe=nfe, set="selection", mse=value))
                    else:
                        print(f"{lib} {c} NFE {nfe}: non-finite, counted as a failure")
                chosen = min(sel, key=sel.get)
                entry[f"{lib}_config"], entry[f"{lib}_selection"] = chosen, sel[chosen]
                entry[f"{lib}_test"] = mse(run(chosen, nfe, "test"), "test")
                entry[f"{lib}_failed"] = len(configs) - len(sel)
            # learned grids, fitted on the training noises, chosen on the selection noises
            learned = {}
            x_tr, r_tr = data["train"]
            for name, sampler in learned_samplers.items():
                start = time.perf_counter()
                fits = [D.fit_grid(sampler, model, schedule, x_tr, r_tr,
                                   D.time_grid(schedule, nfe, kind, t_start=999.0, t_end=0.0),
                                   steps=args.fit_steps, batch_size=min(256, x_tr.shape[0]),
                                   optimizer=optax.adam(optax.cosine_decay_schedule(0.05, args.fit_steps)),
                                   key=jax.random.key(0)) for kind in D.GRID_KINDS]
                best = min(fits, key=lambda f: f.training_mse)
                grid = best.grid
                sel = float(D.endpoint_mse(sampler, model, schedule, *data["selection"], grid))
                learned[name] = (sel, grid, time.perf_counter() - start)
                rows.append(dict(library="jaxsci_learned", config=name, nfe=nfe, set="selection", mse=sel,
                                 grid=[float(t) for t in grid], fit_s=learned[name][2]))
            chosen = min(learned, key=lambda k: learned[k][0])
            entry["learned_config"], entry["learned_selection"] = chosen, learned[chosen][0]
            entry["learned_test"] = float(D.endpoint_mse(learned_samplers[chosen], model, schedule, *data["test"],
                                                         learned[chosen][1]))
            entry["learned_fit_s"] = learned[chosen][2]
            entry["learned_vs_hand"] = entry["learned_test"] / entry["jaxsci_hand_test"]
            if "diffusers_test" in entry:
                entry["learned_vs_diffusers"] = entry["learned_test"] / entry["diffusers_test"]
                entry["hand_vs_diffusers"] = entry["jaxsci_hand_test"] / entry["diffusers_test"]
            summary.append(entry)
            print({k: v for k, v in entry.items()}, flush=True)
    print()
    print(markdown_table(summary, [c for c in ["nfe", "diffusers_config", "diffusers_test", "jaxsci_hand_config",
                                               "jaxsci_hand_test", "learned_config", "learned_test",
                                               "learned_vs_hand", "learned_vs_diffusers", "hand_vs_diffusers"]
                                   if any(c in s for s in summary)]))
    extra = {} if diffusers is None else {"torch": torch.__version__, "diffusers": diffusers.__version__}
    write_json(args.json, dict(command=" ".join([Path(sys.executable).name, *sys.argv]), machine=machine(),
                               versions={**versions(), **extra},
                               git=git_state("benchmarks/diffusion_digits_vs_diffusers.py"),
                               protocol=dict(sets=SETS, learned=[*LEARNED, "dpm_solver_v3"], fit_steps=args.fit_steps),
                               rows=rows, summary=summary))
    return summary


if __name__ == "__main__":
    main()
