"""Laplacian of a tanh MLP (width 128, 4 linear layers) at 100 points, every backend.

    python benchmarks/taylor_operators.py [--quick] [--json PATH] [--dims 100 1000 10000]

Prints seconds per call of the value and of its gradient with respect to the network
parameters (jitted, median of repeats) and XLA's planned peak memory for the gradient.
"""

from __future__ import annotations

import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    compiled_memory_mb,
    machine,
    markdown_table,
    median_seconds,
    parser,
    versions,
    write_json,
)

from jaxsci import taylor

NUM_POINTS = 100
WIDTH = 128


def backends(dim: int) -> dict:
    """Method name -> backend. Expensive exact baselines are skipped where they would
    need more than this machine's memory or minutes per call."""
    out = {
        "stde_sparse_16_jet": taylor.SparseSTDE(16, mode="jet"),
        "stde_sparse_16_collapsed": taylor.SparseSTDE(16, mode="collapsed"),
        "stde_dense_16_collapsed": taylor.DenseSTDE(16, mode="collapsed"),
        "sdgd_16_hvp": taylor.SDGD(16),
        "hvp_hutchinson": taylor.Hutchinson(16),
    }
    if dim <= 1000:
        out["laplacian_collapsed"] = taylor.Exact(mode="collapsed")
        out["laplacian_jet"] = taylor.Exact(mode="jet")
        out["hessian_trace"] = taylor.HessianTrace()
    else:
        out["laplacian_collapsed"] = taylor.Exact(mode="collapsed", chunk_size=1000)
    out["folx"] = taylor.ForwardLaplacian()
    return out


def measure(dim: int, name: str, backend, net, points, key) -> dict:
    op = taylor.laplacian(dim)
    params, static = eqx.partition(net, eqx.is_inexact_array)
    keys = jax.random.split(key, NUM_POINTS)

    def values(params, points, keys):
        model = eqx.combine(params, static)
        return jax.vmap(lambda x, k: backend(op, model, x, key=k)[1])(points, keys)

    def loss(params, points, keys):
        return jnp.mean(values(params, points, keys) ** 2)

    value_fn = jax.jit(values)
    grad_fn = jax.jit(jax.grad(loss))
    value_s = median_seconds(value_fn, params, points, keys)
    grad_s = median_seconds(grad_fn, params, points, keys)
    mem = compiled_memory_mb(grad_fn, params, points, keys)
    return {"method": name, "dim": dim, "value_s": value_s, "grad_s": grad_s, "peak_mem_mb": mem}


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--dims", type=int, nargs="*", default=None)
    p.add_argument("--methods", nargs="*", default=None)
    args = p.parse_args(argv)
    dims = args.dims or ([100, 1000] if args.quick else [100, 1000, 10000])
    rows = []
    for dim in dims:
        key = jax.random.key(dim)
        net = eqx.nn.MLP(dim, "scalar", WIDTH, 3, activation=jnp.tanh, key=key)
        points = jax.random.uniform(jax.random.key(1), (NUM_POINTS, dim), minval=-1, maxval=1)
        points = points / jnp.sqrt(dim)
        for name, backend in backends(dim).items():
            if args.methods and name not in args.methods:
                continue
            row = measure(dim, name, backend, net, points, jax.random.key(2))
            rows.append(row)
            print(f"d={dim:6d} {name:26s} value {row['value_s']*1e3:9.2f} ms  "
                  f"grad {row['grad_s']*1e3:9.2f} ms", flush=True)
    print()
    print(markdown_table(rows, ["method", "dim", "value_s", "grad_s", "peak_mem_mb"]))
    payload = {"rows": rows, "jax_version": jax.__version__, "machine": machine(),
               "versions": versions(), "num_points": NUM_POINTS, "width": WIDTH,
               "network": "eqx.nn.MLP, tanh, 3 hidden layers of width 128 (4 linear layers)"}
    write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
