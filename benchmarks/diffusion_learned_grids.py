"""Learned step grids (``jaxsci.diffusion.fit_grid``) against the best hand-designed grid, at few NFE.

    python benchmarks/diffusion_learned_grids.py [--quick] [--json PATH] [--part tune|score]
        [--nfe 5] [--lr 0.05] [--steps 300] [--init logSNR|best|all]

Models: the exact noise prediction of Gaussian mixtures (8 equal-weight components, means
~ N(0, I), std ``--std``, in d = ``--dim``), VP linear schedule, grids from t = 1 to 1e-3.
Reference: each start-noise's exact probability-flow endpoint (float64 Dopri8 at 1e-10,
``GaussianMixture.flow_endpoint``). Everything runs in float64.

For each mixture and sampler (DPM-Solver++(2M), UniPC-bh1 order 2, DEIS order 3), with
disjoint start-noises for training (fitting the grid, and choosing the hand-designed kind),
and testing (scoring only):

* hand-designed: each of ``GRID_KINDS`` (uniform, logSNR, quadratic, karras); the kind
  with the lowest training MSE is the "chosen" one; the test MSE of every kind is also
  reported, so the best kind *on the test set* (an oracle no user has) is shown too;
* learned: ``fit_grid`` (Adam, step cosine-decayed from ``--lr``) on the training
  start-noises from the ``--init`` grid: ``logSNR``, ``best`` (the chosen kind) or ``all``
  (one fit from each kind, the one with the lowest training MSE kept).

``--part tune`` runs the fit settings (learning rate x initial grid) on mixture seeds 100-101
and scores them on validation start-noises of those mixtures; ``--part score`` runs one
setting on mixture seeds 0-4 (different means), which the tuning never saw, and with
``--digits`` on the trained 8x8-digits network of ``examples/diffusion_digits.py`` (references
from ``probability_flow_reference``). Reported: test
endpoint MSE, the ratio learned / chosen-hand and learned / oracle-hand, the fit's wall time.
"""

from __future__ import annotations

import functools
import itertools
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, parser, versions, write_json

from jaxsci import diffusion as D
from jaxsci.core import RESULTS, enable_x64

SAMPLERS = {
    "dpm_solver_pp_2m": D.DPMSolverPP(order=2),
    "unipc_bh1_2": D.UniPC(order=2, variant="bh1"),
    "deis_3": D.DEIS(order=3),
}
T_END = 1e-3


@functools.lru_cache(maxsize=2)  # the references of one mixture serve every sampler
def problem(seed, dim, std, n_train, n_test):
    if seed == "digits":
        return digits_problem(n_train, n_test)
    schedule = D.VPLinear()
    mix = D.GaussianMixture.random(8, dim, std=std, key=jax.random.key(seed))
    k_train, k_test = jax.random.split(jax.random.key(10_000 + seed))
    x_train = jax.random.normal(k_train, (n_train, dim))
    x_test = jax.random.normal(k_test, (n_test, dim))
    endpoint = jax.jit(jax.vmap(lambda x: mix.flow_endpoint(schedule, x, schedule.t_max, T_END)))
    return schedule, mix.noise_model(schedule), x_train, endpoint(x_train), x_test, endpoint(x_test)


def digits_problem(n_train, n_test):
    """The trained 8x8-digits eps-network (``examples/diffusion_digits.py``), float64, with the
    references from ``probability_flow_reference`` (Tsit5 at 1e-9)."""
    from _digits import digits_model

    model, schedule, _ = digits_model("eps")
    k_train, k_test = jax.random.split(jax.random.key(20_000))
    x_train = jax.random.normal(k_train, (n_train, 64), jnp.float64)
    x_test = jax.random.normal(k_test, (n_test, 64), jnp.float64)
    endpoint = jax.jit(jax.vmap(lambda x: D.probability_flow_reference(model, schedule, x, t_to=T_END)))
    return schedule, model, x_train, endpoint(x_train), x_test, endpoint(x_test)


def one_case(seed, name, args, lr, init):
    schedule, model, x_tr, r_tr, x_te, r_te = problem(seed, args.dim, args.std, args.train, args.test)
    sampler = SAMPLERS[name]
    mse = jax.jit(lambda x, r, g: D.endpoint_mse(sampler, model, schedule, x, r, g))
    hand = {}
    for kind in D.GRID_KINDS:
        grid = D.time_grid(schedule, args.nfe, kind, t_end=T_END)
        hand[kind] = (float(mse(x_tr, r_tr, grid)), float(mse(x_te, r_te, grid)))
    chosen = min(hand, key=lambda k: hand[k][0])
    oracle = min(hand, key=lambda k: hand[k][1])
    starts = {"logSNR": ["logSNR"], "best": [chosen], "all": list(D.GRID_KINDS)}[init]
    start = time.perf_counter()
    fits = {kind: D.fit_grid(sampler, model, schedule, x_tr, r_tr,
                             D.time_grid(schedule, args.nfe, kind, t_end=T_END),
                             steps=args.steps, batch_size=min(args.batch, args.train),
                             optimizer=optax.adam(optax.cosine_decay_schedule(lr, args.steps)),
                             key=jax.random.key(seed if isinstance(seed, int) else 0))
            for kind in starts}
    fit_s = time.perf_counter() - start
    start_kind = min(fits, key=lambda k: fits[k].training_mse)  # chosen on the training set
    out = fits[start_kind]
    learned_test = float(mse(x_te, r_te, out.grid))
    row = dict(seed=seed, sampler=name, nfe=args.nfe, lr=lr, init=init, start_kind=start_kind,
               chosen_kind=chosen, oracle_kind=oracle,
               hand_test={k: v[1] for k, v in hand.items()}, hand_train={k: v[0] for k, v in hand.items()},
               chosen_test=hand[chosen][1], oracle_test=hand[oracle][1],
               learned_train=out.training_mse, learned_test=learned_test,
               ratio_chosen=learned_test / hand[chosen][1], ratio_oracle=learned_test / hand[oracle][1],
               grid=[float(t) for t in out.grid], fit_s=fit_s, best_step=out.best_step,
               training_mse_by_start={k: f.training_mse for k, f in fits.items()}, successful=bool(out.result == RESULTS.successful))
    print(f"seed {seed} {name:17s} lr {lr:g} init {start_kind:9s}: hand chosen {chosen} "
          f"{hand[chosen][1]:.3e} (oracle {oracle} {hand[oracle][1]:.3e}), learned {learned_test:.3e} "
          f"-> {row['ratio_chosen']:.3f}x chosen, {row['ratio_oracle']:.3f}x oracle; fit {fit_s:.1f} s",
          flush=True)
    return row


def summarize(rows):
    out = []
    keys = sorted({(r["sampler"], r["lr"], r["init"]) for r in rows})
    for name, lr, init in keys:
        mine = [r for r in rows if (r["sampler"], r["lr"], r["init"]) == (name, lr, init)]
        rc = [r["ratio_chosen"] for r in mine]
        ro = [r["ratio_oracle"] for r in mine]
        out.append(dict(sampler=name, lr=lr, init=init, cases=len(mine),
                        median_ratio_chosen=statistics.median(rc), max_ratio_chosen=max(rc),
                        median_ratio_oracle=statistics.median(ro), max_ratio_oracle=max(ro),
                        median_fit_s=statistics.median(r["fit_s"] for r in mine)))
    return out


def main():
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--part", choices=("tune", "score"), default="score")
    p.add_argument("--nfe", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--init", choices=("logSNR", "best", "all"), default="all")
    p.add_argument("--dim", type=int, default=16)
    p.add_argument("--std", type=float, default=0.1)
    p.add_argument("--train", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--test", type=int, default=4096)
    p.add_argument("--samplers", default=",".join(SAMPLERS))
    p.add_argument("--digits", action="store_true", help="--part score: also the trained digits model")
    p.add_argument("--digits-only", action="store_true", help="with --digits: the digits model alone")
    p.add_argument("--tune-inits", default="best,all", help="the starts --part tune compares")
    args = p.parse_args()
    if args.quick:
        args.steps, args.train, args.test = 30, 64, 128
    names = args.samplers.split(",")
    if args.part == "tune":
        seeds, settings = [100, 101], list(itertools.product([0.05, 0.1], args.tune_inits.split(",")))
    else:
        seeds, settings = [0, 1, 2, 3, 4], [(args.lr, args.init)]
        if args.digits:
            seeds = ["digits"] if args.digits_only else seeds + ["digits"]
    if args.quick:
        seeds, settings = seeds[:1], settings[:1]
    header = dict(command=" ".join([Path(sys.executable).name, *sys.argv]), machine=machine(),
                  versions=versions(), git=git_state("benchmarks/diffusion_learned_grids.py",
                                                     "jaxsci/diffusion"),
                  settings=vars(args) | {"json": str(args.json)})
    rows = []
    with enable_x64(True):
        for seed, name, (lr, init) in itertools.product(seeds, names, settings):
            rows.append(one_case(seed, name, args, lr, init))
            write_json(args.json, {**header, "rows": rows, "partial": True})
    summary = summarize(rows)
    print()
    print(markdown_table(summary, ["sampler", "lr", "init", "cases", "median_ratio_chosen",
                                   "max_ratio_chosen", "median_ratio_oracle", "max_ratio_oracle",
                                   "median_fit_s"]))
    write_json(args.json, {**header, "rows": rows, "summary": summary, "partial": False})


if __name__ == "__main__":
    main()
