"""Neural Spectral Methods against two FNO baselines, and against the classical solver.

    python benchmarks/nsm.py [--quick] [--json PATH] [--seconds S] [--tests N] [--problems ...]
                             [--learning-rates LR ...]

Problems (jaxsci.pde.parametric): periodic Poisson with GP sources (16 modes per axis,
31 x 31 coefficients) and reaction-diffusion (rho = 5, nu = 0.01); Navier-Stokes
(nu = 1e-3, T = 3) for NSM alone.

Methods, one architecture size for all (width 16, depth 4, 16 modes per axis):
* NSM with the spectral loss and fresh PDE parameters every step (no solution data);
* FNO + PINN: FNO with the finite-difference residual loss on a 64^2 grid, fresh PDE
  parameters every step (no solution data);
* FNO trained on solution data (512 training instances with float64 references on the
  64^2 grid, relative L2 loss), the paper's second baseline.

Protocol (benchmarks/README.md): every method gets the same learning-rate sweep (Adam,
``--learning-rates``, default 3e-3 to 3e-1, each halved every 250 steps) and the same
training time. The time is turned into a step count per method by timing its compiled
training chunks (``core.fit`` through ``spectral.train_operator`` with ``compile_first``,
so compilation is outside the clock; median of 5 chunks), so a change of machine load
during the long runs does not change anyone's budget. Each method's learning rate is
chosen on validation instances (keys disjoint from the test instances) and only the chosen
run is scored on the test instances. Failed runs (non-finite loss) are counted and shown.
Errors: relative L2 per instance, averaged, against the exact solution (Poisson), a
float64 ETDRK4 reference (reaction-diffusion) or the pseudo-spectral reference
(Navier-Stokes), on each method's grid.
Inference: the chosen NSM's forward pass + evaluation on output grids 64..512 (batch 16).
Classical: the ETDRK4 configuration (n_x, steps) cheapest to reach NSM's error at
t = 0, 1/4, ..., 1 on 64 points, timed per instance (host NumPy, float64).
JSON: ``{"sweep": [...], "rows": [...], "inference": [...], "classical": {...}, ...}``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import git_state, machine, markdown_table, median_seconds, parser, versions, write_json

from jaxsci import core, spectral as sp
from jaxsci.pde import _spectral_solvers as solvers
from jaxsci.pde.parametric import NavierStokes, PeriodicPoisson, ReactionDiffusion

WIDTH, DEPTH, BATCH, MODES, GRID = 16, 4, 16, 16, 64
NU, RHO = 0.01, 5.0
LEARNING_RATES = (3e-3, 1e-2, 3e-2, 1e-1, 3e-1)  # brackets every method's best (validation runs)
CHUNK = 10
TEST_KEY, VALIDATION_KEY, TRAIN_DATA_KEY = 1234, 999, 77


def _optimizer(lr):
    return optax.adam(optax.exponential_decay(lr, transition_steps=250, decay_rate=0.5, end_value=lr / 100))


@dataclass
class Method:
    """One model to train: ``loss(model, batch)``, ``sample(key) -> batch`` and
    ``predict(model, inputs) -> values`` on the grid of ``refs``."""

    problem: str
    name: str
    make: Callable
    loss: Callable
    sample: Callable
    predict: Callable
    validation: tuple  # (inputs, refs)
    test: tuple


def _instances(problem, seed, count):
    """``count`` fixed instances from the integer ``seed`` (validation, test, training data)."""
    return problem.sample(count, key=jax.random.key(seed))


def _fresh(problem):
    """A batch of fresh PDE parameters from each training step's key."""
    return lambda k: problem.sample(BATCH, key=k)


def _from_dataset(inputs, refs):
    count = inputs.shape[0]

    def sample(k):
        i = jax.random.choice(k, count, (BATCH,), replace=False)
        return inputs[i], refs[i]

    return sample


def train(method: Method, lr: float, steps: int) -> core.FitResult:
    """The one training call of every run (calibration included)."""
    return sp.train_operator(method.make(), method.loss, method.sample, _optimizer(lr), key=jax.random.key(1),
                             steps=steps, chunk=CHUNK, compile_first=True)


def calibrate(methods: list[Method], seconds: float, rounds: int = 5) -> dict[str, tuple[int, float]]:
    """Steps per method that take ``seconds`` of training, and the median seconds per step
    (``rounds`` chunks per method, compilation excluded by ``compile_first``)."""
    out = {}
    for m in methods:
        res = train(m, 1e-3, rounds * CHUNK)
        per_step = float(np.median(np.diff(res.history_wall_time, prepend=0.0))) / CHUNK
        steps = max(CHUNK, int(round(seconds / per_step / CHUNK)) * CHUNK)
        out[m.name] = (steps, per_step)
        print(f"  {m.name}: {per_step * 1e3:.1f} ms per step (compiled in {res.compile_time:.1f} s) "
              f"-> {steps} steps", flush=True)
    return out


def rel_l2(pred, ref) -> float:
    """Relative L2 error per instance, averaged (``core.relative_l2``)."""
    pred = jnp.asarray(pred)
    ref = jnp.asarray(ref, pred.dtype)
    return float(jnp.mean(core.relative_l2(pred, ref, axis=tuple(range(1, pred.ndim)))))


def error(method: Method, model, split) -> float:
    inputs, refs = split
    return rel_l2(method.predict(model, inputs), refs)


def sweep_and_select(methods: list[Method], budget: dict[str, tuple[int, float]], sweep_rows: list, rows: list,
                     learning_rates=LEARNING_RATES):
    """Train every method at every learning rate; score the validation-chosen run on the test set.

    ``train_s`` is the calibrated training time (steps x median step time); ``wall_s`` the
    measured wall time of the run, compilation and the machine's load included.
    """
    chosen = {}
    for m in methods:
        runs = []
        steps = {m.name: budget[m.name][0]}
        train_s = budget[m.name][0] * budget[m.name][1]
        for lr in learning_rates:
            start = time.perf_counter()
            try:
                res = train(m, lr, steps[m.name])
                val = error(m, res.model, m.validation)
                failed = not np.isfinite(val)
            except FloatingPointError:
                res, val, failed = None, float("nan"), True
            seconds = time.perf_counter() - start
            sweep_rows.append(dict(problem=m.problem, method=m.name, lr=lr, steps=steps[m.name],
                                   validation_rel_l2=val, train_s=train_s, wall_s=seconds, failed=failed))
            print(f"  {m.name} lr={lr:g}: validation {val:.3e} ({seconds:.0f} s, {steps[m.name]} steps)"
                  + (" FAILED" if failed else ""), flush=True)
            if not failed:
                runs.append((val, lr, res, seconds))
        if not runs:
            rows.append(dict(problem=m.problem, method=m.name, lr=None, rel_l2=None, failed_runs=len(learning_rates)))
            continue
        val, lr, res, seconds = min(runs, key=lambda r: r[0])
        test_err = error(m, res.model, m.test)
        inputs = m.test[0][:16]
        rows.append(dict(problem=m.problem, method=m.name, lr=lr, steps=res.num_steps, train_s=train_s, wall_s=seconds,
                         validation_rel_l2=val, rel_l2=test_err,
                         failed_runs=len(learning_rates) - len(runs),
                         infer_s=median_seconds(lambda mod, x: m.predict(mod, x), res.model, inputs, repeats=3)))
        chosen[m.name] = res.model
    return chosen


# ---------------------------------------------------------------- problems
def three_methods(name, problem, basis, reference, nsm_loss, nsm_predict, fno_pinn_loss, fno_data_loss,
                  fno_predict, out_scale, n_val, n_test, n_train):
    """NSM, FNO + PINN and FNO on solution data for one problem (the shared block)."""
    start = time.perf_counter()
    val, test = _instances(problem, VALIDATION_KEY, n_val), _instances(problem, TEST_KEY, n_test)
    x_train = _instances(problem, TRAIN_DATA_KEY, n_train)
    u_train = reference(x_train)
    splits = dict(validation=(val, reference(val)), test=(test, reference(test)))
    print(f"  references: {time.perf_counter() - start:.1f} s", flush=True)

    def fno():
        return sp.FNO(1, 1, (MODES, MODES), WIDTH, DEPTH, out_scale=out_scale, key=jax.random.key(0))

    return [
        Method(name, "NSM (spectral loss)",
               lambda: sp.NSM(basis, 1, 1, WIDTH, DEPTH, out_scale=out_scale, key=jax.random.key(0)),
               nsm_loss, _fresh(problem), nsm_predict, **splits),
        Method(name, f"FNO + PINN (FD, grid {GRID})", fno, fno_pinn_loss, _fresh(problem), fno_predict, **splits),
        Method(name, f"FNO (solution data, {n_train} instances)", fno,
               lambda m, b: fno_data_loss(m, b[0], b[1]), _from_dataset(x_train, u_train), fno_predict, **splits),
    ]


def poisson_methods(n_val, n_test, n_train):
    problem = PeriodicPoisson(modes=16)
    basis = sp.poisson_basis(MODES)

    def exact(f):
        return jnp.asarray(np.stack([problem.solve(x, GRID) for x in np.asarray(f)]), jnp.float32)

    return problem, basis, three_methods(
        "poisson", problem, basis, exact,
        lambda m, f: sp.nsm_poisson_loss(m, f, basis),
        eqx.filter_jit(lambda m, f: basis.to_grid(sp.nsm_poisson_solution(m, f, basis), GRID)),
        lambda m, f: sp.fno_poisson_pinn_loss(m, f, GRID),
        lambda m, f, u: sp.fno_poisson_data_loss(m, f, u, GRID),
        eqx.filter_jit(lambda m, f: sp.fno_poisson_solution(m, f, GRID)),
        0.01, n_val, n_test, n_train)


def rd_methods(n_val, n_test, n_train):
    problem = ReactionDiffusion(nu=NU, rho=RHO, modes=16)
    basis = sp.reaction_diffusion_basis(MODES, MODES)

    def reference(u0):
        return jnp.asarray(np.stack([problem.solve(u, GRID, GRID, (GRID - 1) * 16) for u in np.asarray(u0)]),
                           jnp.float32)

    t = jnp.linspace(0, 1, GRID)
    return problem, basis, three_methods(
        "reaction-diffusion", problem, basis, reference,
        lambda m, u: sp.nsm_rd_loss(m, u, basis, NU, RHO),
        eqx.filter_jit(lambda m, u: sp.nsm_rd_values(m, u, basis, t, GRID)),
        lambda m, u: sp.fno_rd_pinn_loss(m, u, GRID, NU, RHO),
        lambda m, u0, u: sp.fno_rd_data_loss(m, u0, u, GRID),
        eqx.filter_jit(lambda m, u: sp.fno_rd_values(m, u, GRID)),
        1.0, n_val, n_test, n_train)


def ns_methods(n_val, n_test):
    """NSM only (the FNO baselines here are 2D; a 3D space-time FNO is not implemented)."""
    problem = NavierStokes(nu=1e-3, T=3.0, modes=8)
    basis = sp.navier_stokes_basis(8, 8, 3.0)

    def reference(w0):  # t = 1, 2, 3 on 32^2
        return jnp.asarray(np.stack([problem.solve(w, 32, 4, 600)[1:] for w in np.asarray(w0)]), jnp.float32)

    val, test = _instances(problem, VALIDATION_KEY, n_val), _instances(problem, TEST_KEY, n_test)
    predict = eqx.filter_jit(lambda m, w: sp.nsm_ns_values(m, w, basis, jnp.linspace(0, 3, 4), 32)[:, 1:])
    return problem, [
        Method("navier-stokes nu=1e-3", "NSM (spectral loss)",
               lambda: sp.NSM(basis, 1, 1, WIDTH, DEPTH, key=jax.random.key(0)),
               lambda m, w: sp.nsm_ns_loss(m, w, basis, problem.nu), _fresh(problem), predict,
               validation=(val, reference(val)), test=(test, reference(test))),
    ]


# ---------------------------------------------------------------- classical comparisons
def classical_rd(problem, basis, model, u_test, rows):
    """The cheapest ETDRK4 configuration at or below NSM's error (t = 0, 1/4, ..., 1)."""
    u_np = np.asarray(u_test, dtype=np.float64)
    ref5 = np.stack([problem.solve(u, 64, 5, 1024) for u in u_np])
    t5 = jnp.linspace(0, 1, 5)
    pts = eqx.filter_jit(lambda m, u: sp.nsm_rd_values(m, u, basis, t5, 64))
    nsm_err = rel_l2(pts(model, u_test), ref5)
    nsm_time = median_seconds(pts, model, u_test[:16], repeats=3) / 16
    best = None
    for n_x in (8, 12, 16, 24, 32):
        for steps in (4, 8, 16, 32, 64, 128):
            sol = np.stack([problem.solve(u, n_x, 5, steps) for u in u_np[:16]])
            err = rel_l2(solvers.resample_periodic(sol, 64), ref5[:16])
            if err <= nsm_err:
                start = time.perf_counter()
                for _ in range(3):
                    for u in u_np[:16]:
                        problem.solve(u, n_x, 5, steps)
                per = (time.perf_counter() - start) / 48
                if best is None or per < best[0]:
                    best = (per, n_x, steps, err)
    out = dict(nsm_rel_l2=nsm_err, nsm_s_per_instance=nsm_time)
    if best is not None:
        out.update(solver_s_per_instance=best[0], n_x=best[1], steps=best[2], solver_rel_l2=best[3])
        rows.append(dict(problem="reaction-diffusion", method=f"classical: ETDRK4 n_x={best[1]}, {best[2]} steps",
                         rel_l2=best[3], infer_s=best[0] * 16))
    return out


def classical_ns(problem, nsm_err, w_test, rows):
    w_np = np.asarray(w_test, dtype=np.float64)
    ref = np.stack([problem.solve(w, 32, 4, 600) for w in w_np[:8]])
    best = None
    for n in (16, 24, 32):
        for steps in (6, 12, 24, 48, 96):
            start = time.perf_counter()
            sol = np.stack([problem.solve(w, n, 4, steps) for w in w_np[:8]])
            per = (time.perf_counter() - start) / 8
            e = rel_l2(solvers.resample_periodic(sol, 32, (-2, -1))[:, 1:], ref[:, 1:])
            if np.isfinite(e) and e <= nsm_err and (best is None or per < best[0]):
                best = (per, n, steps, e)
    if best is not None:
        rows.append(dict(problem="navier-stokes nu=1e-3", method=f"classical: IF-RK4 n={best[1]}, {best[2]} steps",
                         rel_l2=best[3], infer_s=best[0] * 16))


def inference_scaling(model, basis, inputs, kind):
    out = []
    if kind == "poisson":
        fn = eqx.filter_jit(lambda m, f, n: basis.to_grid(sp.nsm_poisson_solution(m, f, basis), n))
    else:
        fn = eqx.filter_jit(lambda m, u, n: sp.nsm_rd_values(m, u, basis, jnp.linspace(0, 1, n), n))
    for n in (64, 128, 256, 512):
        out.append(dict(problem=kind, resolution=n, infer_s=median_seconds(fn, model, inputs[:16], n, repeats=5)))
    base = out[0]["infer_s"]
    for r in out:
        r["ratio_to_64"] = r["infer_s"] / base
    return out


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=None, help="training time per run (default 40; quick 3)")
    p.add_argument("--tests", type=int, default=None, help="number of test instances (default 128; quick 16)")
    p.add_argument("--problems", default="poisson,rd,ns", help="comma-separated subset of poisson,rd,ns")
    p.add_argument("--learning-rates", type=float, nargs="+", default=list(LEARNING_RATES),
                   help="the Adam learning rates every method is trained with")
    args = p.parse_args()
    git = git_state("benchmarks/nsm.py")  # the code this run starts with
    lrs = tuple(args.learning_rates)
    seconds = args.seconds or (3.0 if args.quick else 40.0)
    n_test = args.tests or (16 if args.quick else 128)
    n_val = 8 if args.quick else 32
    n_train = 64 if args.quick else 512
    problems = args.problems.split(",")
    sweep, rows, scaling, classical = [], [], [], None
    print(f"# NSM vs FNO + PINN vs FNO on data ({seconds:g} s of training per run, learning rates "
          f"{lrs}, {n_val} validation / {n_test} test instances)", flush=True)
    if "poisson" in problems:
        print("poisson ...", flush=True)
        _, basis, methods = poisson_methods(n_val, n_test, n_train)
        chosen = sweep_and_select(methods, calibrate(methods, seconds), sweep, rows, lrs)
        if methods[0].name in chosen:
            scaling += inference_scaling(chosen[methods[0].name], basis, methods[0].test[0], "poisson")
    if "rd" in problems:
        print("reaction-diffusion ...", flush=True)
        problem, basis, methods = rd_methods(n_val, n_test, n_train)
        chosen = sweep_and_select(methods, calibrate(methods, seconds), sweep, rows, lrs)
        if methods[0].name in chosen:
            nsm = chosen[methods[0].name]
            scaling += inference_scaling(nsm, basis, methods[0].test[0], "reaction-diffusion")
            classical = classical_rd(problem, basis, nsm, methods[0].test[0], rows)
    if "ns" in problems:
        print("navier-stokes ...", flush=True)
        problem, methods = ns_methods(n_val // 2, min(n_test, 32))
        chosen = sweep_and_select(methods, calibrate(methods, seconds), sweep, rows, lrs)
        if chosen:
            classical_ns(problem, rows[-1]["rel_l2"], methods[0].test[0], rows)
    print("\nLearning-rate sweep (validation instances)")
    print(markdown_table(sweep, ["problem", "method", "lr", "steps", "validation_rel_l2", "train_s", "wall_s", "failed"]))
    print("\nChosen configuration per method, scored on the test instances")
    print(markdown_table(rows, ["problem", "method", "lr", "steps", "train_s", "validation_rel_l2", "rel_l2",
                                "failed_runs", "infer_s"]))
    print("\nNSM inference (batch of 16) vs output resolution")
    print(markdown_table(scaling, ["problem", "resolution", "infer_s", "ratio_to_64"]))
    print("\nreaction-diffusion, classical solver at NSM's accuracy:", classical)
    write_json(args.json, dict(sweep=sweep, rows=rows, inference=scaling, classical=classical,
                               settings=dict(seconds=seconds, tests=n_test, validation=n_val, train_data=n_train,
                                             learning_rates=lrs, width=WIDTH, depth=DEPTH,
                                             batch=BATCH, modes=MODES, grid=GRID, quick=args.quick),
                               git=git, machine=machine(), versions=versions()))


if __name__ == "__main__":
    main()
