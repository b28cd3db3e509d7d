"""Error vs NFE and wall time of jaxsci.diffusion samplers on an exact Gaussian model.

    python benchmarks/diffusion_samplers.py [--quick] [--json PATH]
"""

import argparse
import json
import time

import jax
import jax.numpy as jnp

from jaxsci.core import enable_x64
from jaxsci.diffusion import GaussianEps, VPLinear, ddim, dpm_solver_pp_2m, time_grid

SAMPLERS = {"DDIM": ddim, "DPM-Solver++(2M)": dpm_solver_pp_2m}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    rows = []
    with enable_x64(True):
        s = VPLinear()
        d = 16
        model = GaussianEps(s, jnp.linspace(-1.0, 1.0, d), 0.5)
        x_T = jax.random.normal(jax.random.key(0), (256, d))
        exact = jax.vmap(lambda x: model.exact_flow(x, s.t_max, s.t_min))(x_T)
        for name, f in SAMPLERS.items():
            for n in [5, 10, 20] if a.quick else [5, 10, 20, 50, 100]:
                g = time_grid(s, n)
                out = jax.jit(jax.vmap(lambda x, f=f, g=g: f(model, s, x, g)))(x_T)
                err = float(jnp.sqrt(jnp.mean((out - exact) ** 2)))
                rows.append(dict(kind="error", method=name, nfe=n, rms_error=err))
    # wall time, float32, 1024 samples in d = 3072 (quick: 256), NFE = 10
    bs, d = (256, 3072) if a.quick else (1024, 3072)
    s = VPLinear()
    model = GaussianEps(s, jnp.zeros(d), 0.5)
    x_T = jax.random.normal(jax.random.key(1), (bs, d))
    g = time_grid(s, 10)
    for name, f in SAMPLERS.items():
        fn = jax.jit(jax.vmap(lambda x, f=f: f(model, s, x, g)))
        fn(x_T).block_until_ready()
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn(x_T).block_until_ready()
            ts.append(time.perf_counter() - t0)
        rows.append(dict(kind="walltime", method=name, nfe=10, batch=bs, dim=d,
                         median_seconds=sorted(ts)[2]))
    print("| kind | method | NFE | RMS error | median s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['kind']} | {r['method']} | {r['nfe']} | {r.get('rms_error', '')} "
              f"| {r.get('median_seconds', '')} |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
