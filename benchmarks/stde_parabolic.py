"""Semilinear parabolic equations in high dimension with STDE (STDE paper, App. H.2).

    python benchmarks/stde_parabolic.py [--quick] [--json PATH] [--dims ...] [--kinds ...]
           [--steps N] [--width W]

For each kind (semilinear heat, Allen-Cahn, Sine-Gordon; ``u_t + Lap u + f(u) = 0``,
terminal condition at T = 0.3) and dimension, trains a tanh MLP on (x, t) with the
residual at 100 Brownian collocation points and the terminal mismatch at 100 terminal
points (weight 20) per step, Adam 1e-3 decaying linearly to 0, the Laplacian by sparse
STDE with 16 sampled dimensions (exact below d = 16). Reports it/s and the relative error
of u(0, 0) against the published multilevel Picard value.
JSON: ``{"rows": [{"problem", "method", "dim", "it_per_s", "rel_err_u00", "steps", "wall_s"}], ...}``.
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
from _common import machine, markdown_table, parser, versions, write_json

from jaxsci import pinn, taylor
from jaxsci.pde.parabolic import SemilinearParabolic

BATCH = 100
TERMINAL_WEIGHT = 20.0
CHUNK = 250


def run(problem: SemilinearParabolic, steps: int, width: int, seed: int = 0) -> dict:
    dim = problem.space_dim
    backend = taylor.SparseSTDE(16) if dim > 16 else taylor.Exact()
    method = "stde_sparse_16_collapsed" if dim > 16 else "exact_collapsed"
    net = eqx.nn.MLP(dim + 1, "scalar", width, 3, activation=jnp.tanh, key=jax.random.key(seed))

    def loss(model, pts, key):
        inner, ends = pts
        residual = pinn.residual_loss(problem, model, inner, backend, key=key)
        terminal = pinn.data_loss(model, ends, jax.vmap(problem.terminal_condition)(ends))
        return residual + TERMINAL_WEIGHT * terminal

    optimizer = optax.adam(optax.linear_schedule(1e-3, 0.0, steps))
    params, static = eqx.partition(net, eqx.is_inexact_array)
    step = pinn.make_step(loss, optimizer, static)

    @jax.jit
    def chunk(params, opt_state, key):
        def body(carry, _):
            params, opt_state, key = carry
            key, k1, k2, k3 = jax.random.split(key, 4)
            pts = (problem.domain.sample(BATCH, key=k1), problem.domain.sample_terminal(BATCH, key=k2))
            params, opt_state, value = step(params, opt_state, pts, k3)
            return (params, opt_state, key), value

        return jax.lax.scan(body, (params, opt_state, key), None, length=CHUNK)

    carry = (params, optimizer.init(params), jax.random.key(seed + 1))
    carry, _ = jax.block_until_ready(chunk(*carry))  # compile + first chunk
    start = time.perf_counter()
    for _ in range(steps // CHUNK - 1):
        carry, _ = chunk(*carry)
    jax.block_until_ready(carry)
    wall = time.perf_counter() - start
    model = eqx.combine(carry[0], static)
    reference = problem.reference_value()
    u00 = float(model(problem.origin()))
    return dict(problem=problem.name, method=method, dim=dim, steps=(steps // CHUNK) * CHUNK,
                it_per_s=(steps // CHUNK - 1) * CHUNK / wall if steps >= 2 * CHUNK else None,
                u00=u00, reference=reference, rel_err_u00=abs(u00 - reference) / abs(reference),
                wall_s=wall)


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--dims", type=int, nargs="*", default=None)
    p.add_argument("--kinds", nargs="*", default=["heat", "allen_cahn", "sine_gordon"])
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--width", type=int, default=128)
    args = p.parse_args(argv)
    dims = args.dims or ([10, 100] if args.quick else [10, 100, 1000, 10_000])
    steps = args.steps or (1000 if args.quick else 3000)
    rows = []
    for kind in args.kinds:
        for dim in dims:
            row = run(SemilinearParabolic(dim, kind), steps, args.width)
            rows.append(row)
            print(f"{row['problem']:28s} {row['it_per_s'] or 0:8.1f} it/s  u00 {row['u00']:.5f} "
                  f"(ref {row['reference']:.5f})  rel err {row['rel_err_u00']:.2e}", flush=True)
    print()
    print(markdown_table(rows, ["problem", "method", "dim", "it_per_s", "rel_err_u00", "steps", "wall_s"]))
    write_json(args.json, {"rows": rows, "machine": machine(), "versions": versions(),
                           "protocol": {"batch": BATCH, "terminal_weight": TERMINAL_WEIGHT,
                                        "lr": "1e-3 -> 0 linear", "width": args.width}})
    return rows


if __name__ == "__main__":
    main()
