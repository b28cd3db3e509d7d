"""High-dimensional PINNs with STDE: the STDE paper's protocol, every backend in one run.

    python benchmarks/stde_highdim.py [--quick] [--json PATH] [--dims ...] [--steps N]
           [--problems allen_cahn poisson sine_gordon] [--methods ...] [--budget SECONDS]

Protocol (Shi et al., NeurIPS 2024, App. H-I): two-body exact solution on the unit ball,
hard constraint u = (1 - |x|^2) MLP(x), MLP with tanh and 3 hidden layers of width 128
(4 linear layers), 100 fresh residual points per step, Adam with learning rate 1e-3
decaying linearly to 0, relative L2 error on 20,000 test points (generated in chunks).
Each backend's speed is measured over a timed block of steps after compilation; a
backend whose full training run would exceed ``--budget`` seconds is trained for the
steps that fit and reports them in ``steps``. A backend that runs out of memory is
reported as OOM.

    python benchmarks/stde_highdim.py --target --dims 1000 --minutes 10

trains the best STDE backend for a wall-clock budget and reports the error over time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import compiled_memory_mb, machine, markdown_table, parser, versions, write_json

from jaxsci import pinn, taylor
from jaxsci.pde.highdim import BallProblem

BATCH = 100
TEST_POINTS = 20_000
TEST_CHUNK = 1000


def all_backends(dim: int) -> dict:
    out = {
        "stde_sparse_16_collapsed": taylor.SparseSTDE(16),
        "stde_sparse_16_jet": taylor.SparseSTDE(16, mode="jet"),
        "stde_dense_16_collapsed": taylor.DenseSTDE(16),
        "sdgd_16_hvp": taylor.SDGD(16),
        "folx": taylor.ForwardLaplacian(),
        "laplacian_collapsed": taylor.Exact(chunk_size=1000 if dim > 1000 else None),
    }
    if dim <= 1000:
        out["hessian_trace"] = taylor.HessianTrace()
    return out


def make_network(dim: int, key):
    return eqx.nn.MLP(dim, "scalar", 128, 3, activation=jnp.tanh, key=key)


def relative_l2_chunked(problem, model, key, num=TEST_POINTS):
    """Relative L2 error over ``num`` uniform test points drawn in chunks (memory-bounded)."""
    u = problem.hard_constraint(model)
    keys = jax.random.split(key, num // TEST_CHUNK)

    def chunk(k):
        pts = problem.domain.sample(TEST_CHUNK, key=k)
        pred = jax.vmap(u)(pts)
        exact = jax.vmap(problem.solution)(pts)
        return jnp.sum((pred - exact) ** 2), jnp.sum(exact**2)

    err, norm = jax.lax.map(chunk, keys)
    return jnp.sqrt(jnp.sum(err) / jnp.sum(norm))


def make_trainer(problem, backend, num_steps, unbiased=False, lr=1e-3):
    schedule = optax.linear_schedule(lr, 0.0, num_steps)
    optimizer = optax.adam(schedule)

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key=key,
                                  unbiased=unbiased)

    return loss, optimizer


def run_backend(problem, name, backend, num_steps, budget, seed=0, mem_limit_mb=16_000.0):
    """Compile one training step, check its planned memory, time it, then train for
    ``num_steps`` steps or ``budget`` seconds, whichever comes first."""
    dim = problem.dim
    net = make_network(dim, jax.random.key(seed))
    loss, optimizer = make_trainer(problem, backend, num_steps)
    params, static = eqx.partition(net, eqx.is_inexact_array)
    step = pinn.make_step(loss, optimizer, static)
    opt_state = optimizer.init(params)

    def full_step(params, opt_state, key):
        key, kp, kl = jax.random.split(key, 3)
        params, opt_state, value = step(params, opt_state, problem.domain.sample(BATCH, key=kp), kl)
        return params, opt_state, key, value

    key = jax.random.key(seed + 1)
    row = dict(method=name, dim=dim, it_per_s=None, peak_mem_mb=None, rel_l2=None, steps=0)
    start = time.perf_counter()
    try:
        compiled = jax.jit(full_step).lower(params, opt_state, key).compile()
    except jax.errors.JaxRuntimeError as err:  # a GPU compiler can run out while autotuning
        if "RESOURCE_EXHAUSTED" not in str(err):
            raise
        row["peak_mem_mb"] = "OOM (compilation)"
        return row
    row["compile_s"] = time.perf_counter() - start
    mem = compiled_memory_mb(jax.jit(full_step), params, opt_state, key)
    row["peak_mem_mb"] = mem
    if mem is not None and mem > mem_limit_mb:
        row["peak_mem_mb"] = f"OOM (plans {mem / 1024:.1f} GiB > {mem_limit_mb / 1024:.0f} GiB)"
        return row
    try:
        params, opt_state, key, _ = jax.block_until_ready(compiled(params, opt_state, key))
        start = time.perf_counter()
        params, opt_state, key, _ = jax.block_until_ready(compiled(params, opt_state, key))
        per_step = time.perf_counter() - start
        timed = max(1, min(50, int(10.0 / per_step)))
        start = time.perf_counter()
        for _ in range(timed):
            params, opt_state, key, _ = compiled(params, opt_state, key)
        jax.block_until_ready(params)
        row["it_per_s"] = timed / (time.perf_counter() - start)
    except (MemoryError, jax.errors.JaxRuntimeError) as err:  # XLA reports OOM as a runtime error
        if isinstance(err, MemoryError) or "RESOURCE_EXHAUSTED" in str(err):
            row["peak_mem_mb"] = "OOM"
            return row
        raise
    done = 2 + timed
    deadline = time.perf_counter() + budget
    while done < num_steps and time.perf_counter() < deadline:
        params, opt_state, key, _ = compiled(params, opt_state, key)
        done += 1
    model = eqx.combine(params, static)
    row["rel_l2"] = float(eqx.filter_jit(lambda m: relative_l2_chunked(problem, m, jax.random.key(12345)))(model))
    row["steps"] = done
    return row


def target_run(problem, backend_name, minutes, eval_every, num_steps, unbiased=False, seed=0, lr=1e-3,
               batch=BATCH):
    backend = all_backends(problem.dim)[backend_name]
    net = make_network(problem.dim, jax.random.key(seed))
    loss, optimizer = make_trainer(problem, backend, num_steps, unbiased, lr)
    evaluate = lambda m: relative_l2_chunked(problem, m, jax.random.key(12345))
    history = []
    start = time.perf_counter()
    deadline = start + 60 * minutes
    params, static = eqx.partition(net, eqx.is_inexact_array)
    step = pinn.make_step(loss, optimizer, static)
    opt_state = optimizer.init(params)

    @jax.jit
    def chunk(params, opt_state, key):
        def body(carry, _):
            params, opt_state, key = carry
            key, kp, kl = jax.random.split(key, 3)
            params, opt_state, value = step(params, opt_state, problem.domain.sample(batch, key=kp), kl)
            return (params, opt_state, key), value

        (params, opt_state, key), values = jax.lax.scan(body, (params, opt_state, key), None, length=eval_every)
        return params, opt_state, key, jnp.mean(values)

    eval_jit = eqx.filter_jit(evaluate)
    key = jax.random.key(seed + 1)
    done = 0
    while done < num_steps and time.perf_counter() < deadline:
        params, opt_state, key, mean_loss = chunk(params, opt_state, key)
        done += eval_every
        err = float(eval_jit(eqx.combine(params, static)))
        history.append(dict(step=done, wall_s=time.perf_counter() - start, loss=float(mean_loss), rel_l2=err))
        print(f"step {done:6d}  {history[-1]['wall_s']:7.1f} s  loss {float(mean_loss):.3e}  rel_l2 {err:.3e}", flush=True)
    peak = device_peak_mb()
    if peak is not None:
        history[-1]["device_peak_mb"] = peak
    return history


def device_peak_mb():
    """Peak bytes the accelerator's allocator has held so far (None on CPU)."""
    stats = jax.local_devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else peak / 2**20


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--dims", type=int, nargs="*", default=None)
    p.add_argument("--steps", type=int, default=None, help="training steps per backend")
    p.add_argument("--problems", nargs="*", default=["allen_cahn"])
    p.add_argument("--methods", nargs="*", default=None)
    p.add_argument("--budget", type=float, default=None, help="seconds of training per backend")
    p.add_argument("--mem-limit-gb", type=float, default=16.0,
                   help="a backend planning more memory than this is reported as OOM without running")
    p.add_argument("--target", action="store_true", help="long run of the best STDE backend")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--method", default="stde_sparse_16_collapsed")
    p.add_argument("--unbiased", action="store_true", help="two-draw unbiased residual loss")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0, help="network and sampling seed")
    p.add_argument("--problem-seeds", type=int, nargs="*", default=[0],
                   help="seeds of the coefficients c_i (target mode: one run per seed)")
    p.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate (target mode)")
    p.add_argument("--batch", type=int, default=BATCH, help="residual points per step (target mode)")
    args = p.parse_args(argv)
    if args.target:
        rows = []
        for dim in args.dims or [1000]:
            for problem_seed in args.problem_seeds:
                problem = BallProblem(dim, "two_body", args.problems[0], seed=problem_seed)
                steps = args.steps or 10_000
                history = target_run(problem, args.method, args.minutes, args.eval_every, steps,
                                     unbiased=args.unbiased, seed=args.seed, lr=args.lr,
                                     batch=args.batch)
                errors = [h["rel_l2"] for h in history]
                rows.append(dict(problem=problem.name, method=args.method, dim=dim, steps=steps,
                                 minutes=args.minutes, unbiased=args.unbiased, seed=args.seed,
                                 problem_seed=problem_seed, lr=args.lr, batch=args.batch, final_rel_l2=errors[-1],
                                 min_rel_l2=min(errors), history=history))
                print(f"d={dim} c-seed {problem_seed}: final {errors[-1]:.3e}  min {min(errors):.3e}  "
                      f"({history[-1]['step']} steps, {history[-1]['wall_s']:.1f} s)", flush=True)
        write_json(args.json, {"target_runs": rows, "machine": machine(), "versions": versions()})
        return rows
    dims = args.dims or ([100, 1000] if args.quick else [100, 1000, 10_000, 100_000])
    steps = args.steps or (200 if args.quick else 10_000)
    budget = args.budget or (30.0 if args.quick else 600.0)
    rows = []
    for nonlinearity in args.problems:
        for dim in dims:
            problem = BallProblem(dim, "two_body", nonlinearity)
            for name, backend in all_backends(dim).items():
                if args.methods and name not in args.methods:
                    continue
                row = run_backend(problem, name, backend, steps, budget,
                                  mem_limit_mb=1024 * args.mem_limit_gb)
                row["problem"] = problem.name
                rows.append(row)
                print(f"{problem.name:28s} {name:26s} {row['it_per_s'] or 0:9.2f} it/s  "
                      f"mem {row['peak_mem_mb']}  rel_l2 {row['rel_l2']}  steps {row['steps']}", flush=True)
    print()
    print(markdown_table(rows, ["problem", "method", "dim", "it_per_s", "peak_mem_mb", "rel_l2", "steps"]))
    write_json(args.json, {"rows": rows, "machine": machine(), "versions": versions(),
                           "protocol": {"batch": BATCH, "test_points": TEST_POINTS, "lr": "1e-3 -> 0 linear",
                                        "network": "tanh MLP, 3 hidden layers of width 128"}})
    return rows


if __name__ == "__main__":
    main()
