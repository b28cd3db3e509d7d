"""Neural Spectral Methods against FNO + grid-PINN loss, and against the classical solver.

    python benchmarks/nsm.py [--quick] [--json PATH] [--seconds S] [--tests N]

Problems (jaxsci.pde.parametric): periodic Poisson with GP sources (16 modes per axis,
31 x 31 coefficients) and reaction-diffusion (rho = 5, nu = 0.01; NSM basis 16 Chebyshev
modes in t x 16 Fourier wavenumbers in x). Every method gets the same wall-time budget
(after compilation) with fresh PDE parameters at every step (batch 16, no solution
data): NSM with the spectral loss; FNO with the finite-difference PINN loss on a 64 and a
128 grid (``--quick``: 64 only). Sizes reduced for a shared 2-core CPU: width 16, depth 4, FNO 8 x 8 modes.
Errors: relative L2 over the test instances against the exact solution (Poisson) or a
float64 ETDRK4 reference (reaction-diffusion), on each method's grid.
Inference: NSM forward pass + evaluation on output grids 64..512 for a batch of 16.
Navier-Stokes (nu = 1e-3, T = 3, 8 modes per axis, 8 Chebyshev modes in t, at most 32
test instances): NSM only, against the pseudo-spectral reference at t = 1, 2, 3.
Classical: the ETDRK4 configuration (n_x, steps) cheapest to reach NSM's error at
t = 0, 1/4, ..., 1 on 64 points, timed per instance (host NumPy, float64).
JSON: ``{"rows": [{"problem", "method", "rel_l2", "train_s", "infer_s", "resolution"}], ...}``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, median_seconds, parser, versions, write_json  # noqa: E402

from jaxsci import spectral as sp  # noqa: E402
from jaxsci.pde import _spectral_solvers as solvers  # noqa: E402
from jaxsci.pde.parametric import NavierStokes, PeriodicPoisson, ReactionDiffusion  # noqa: E402

WIDTH, DEPTH, BATCH, FNO_MODES = 16, 4, 16, 8
NU, RHO = 0.01, 5.0


def _schedule(lr):
    return optax.exponential_decay(lr, transition_steps=250, decay_rate=0.5, end_value=lr / 100)


def _batches(problem):
    return lambda k: jax.vmap(problem.sample)(jax.random.split(k, BATCH))


def _train(model, loss, sample, lr, seconds):
    result = sp.train_operator(model, loss, sample, optax.adam(_schedule(lr)),
                               key=jax.random.key(1), seconds=seconds, chunk=10,
                               compile_first=True)
    return result


def poisson(seconds, n_test, rows, grids):
    problem = PeriodicPoisson(modes=16)
    basis = sp.poisson_basis(16)
    sample = _batches(problem)
    f_test = jax.vmap(problem.sample)(jax.random.split(jax.random.key(1234), n_test))
    refs = {n: np.stack([problem.solve(f, n) for f in np.asarray(f_test)]) for n in (64, 128)}

    nsm = sp.NSM(basis, 1, 1, WIDTH, DEPTH, out_scale=0.01, key=jax.random.key(0))
    res = _train(nsm, lambda m, f: sp.nsm_poisson_loss(m, f, basis), sample, 3e-3, seconds)
    solve = eqx.filter_jit(lambda m, f, n: basis.to_grid(sp.nsm_poisson_solution(m, f, basis), n))
    for n in (64, 128):
        err = float(sp.relative_l2(solve(res.model, f_test, n), refs[n]))
        rows.append(dict(problem="poisson", method="NSM (spectral loss)", rel_l2=err,
                         train_s=res.seconds, steps=res.steps, resolution=n,
                         infer_s=median_seconds(solve, res.model, f_test[:16], n, repeats=3)))
    for grid in grids:
        fno = sp.FNO(1, 1, (FNO_MODES, FNO_MODES), WIDTH, DEPTH, out_scale=0.01, key=jax.random.key(0))
        r = _train(fno, lambda m, f: sp.fno_poisson_pinn_loss(m, f, grid), sample, 1e-3, seconds)
        pred = eqx.filter_jit(sp.fno_poisson_solution)
        err = float(sp.relative_l2(pred(r.model, f_test, grid), refs[grid]))
        rows.append(dict(problem="poisson", method=f"FNO + PINN (FD, grid {grid})", rel_l2=err,
                         train_s=r.seconds, steps=r.steps, resolution=grid,
                         infer_s=median_seconds(pred, r.model, f_test[:16], grid, repeats=3)))
    t0 = time.perf_counter()
    for f in np.asarray(f_test):
        problem.solve(f, 64)
    rows.append(dict(problem="poisson", method="classical: exact FFT solve (float64)", rel_l2=0.0,
                     train_s=None, steps=None, resolution=64,
                     infer_s=(time.perf_counter() - t0) / n_test * 16))
    return res.model, basis, f_test


def reaction_diffusion(seconds, n_test, rows, grids):
    problem = ReactionDiffusion(nu=NU, rho=RHO, modes=16)
    basis = sp.reaction_diffusion_basis(16, 16)
    sample = _batches(problem)
    u_test = jax.vmap(problem.sample)(jax.random.split(jax.random.key(1234), n_test))
    u_np = np.asarray(u_test, dtype=np.float64)
    t0 = time.perf_counter()
    refs = {n: np.stack([problem.solve(u, n, n, (n - 1) * 16) for u in u_np]) for n in (64, 128)}
    ref5 = np.stack([problem.solve(u, 64, 5, 1024) for u in u_np])
    print(f"  references: {time.perf_counter() - t0:.1f} s", flush=True)

    nsm = sp.NSM(basis, 1, 1, WIDTH, DEPTH, key=jax.random.key(0))
    res = _train(nsm, lambda m, u: sp.nsm_rd_loss(m, u, basis, NU, RHO), sample, 3e-3, seconds)
    values = eqx.filter_jit(lambda m, u, n: sp.nsm_rd_values(m, u, basis, jnp.linspace(0, 1, n), n))
    for n in (64, 128):
        err = float(sp.relative_l2(values(res.model, u_test, n), refs[n]))
        rows.append(dict(problem="reaction-diffusion", method="NSM (spectral loss)", rel_l2=err,
                         train_s=res.seconds, steps=res.steps, resolution=n,
                         infer_s=median_seconds(values, res.model, u_test[:16], n, repeats=3)))
    for grid in grids:
        fno = sp.FNO(1, 1, (FNO_MODES, FNO_MODES), WIDTH, DEPTH, key=jax.random.key(0))
        r = _train(fno, lambda m, u: sp.fno_rd_pinn_loss(m, u, grid, NU, RHO), sample, 1e-3, seconds)
        pred = eqx.filter_jit(sp.fno_rd_values)
        err = float(sp.relative_l2(pred(r.model, u_test, grid), refs[grid]))
        rows.append(dict(problem="reaction-diffusion", method=f"FNO + PINN (FD, grid {grid})", rel_l2=err,
                         train_s=r.seconds, steps=r.steps, resolution=grid,
                         infer_s=median_seconds(pred, r.model, u_test[:16], grid, repeats=3)))

    # classical solver at equal accuracy (t = 0, 1/4, ..., 1 on 64 points)
    t5 = jnp.linspace(0, 1, 5)
    pts = eqx.filter_jit(lambda m, u: sp.nsm_rd_values(m, u, basis, t5, 64))
    nsm_err = float(sp.relative_l2(pts(res.model, u_test), ref5))
    nsm_time = median_seconds(pts, res.model, u_test[:16], repeats=3) / 16
    best = None
    for n_x in (8, 12, 16, 24, 32):
        for steps in (4, 8, 16, 32, 64, 128):
            sol = np.stack([problem.solve(u, n_x, 5, steps) for u in u_np[:16]])
            err = float(sp.relative_l2(solvers.resample_periodic(sol, 64), ref5[:16]))
            if err <= nsm_err:
                start = time.perf_counter()
                for _ in range(3):
                    for u in u_np[:16]:
                        problem.solve(u, n_x, 5, steps)
                per = (time.perf_counter() - start) / 48
                if best is None or per < best[0]:
                    best = (per, n_x, steps, err)
    classical = dict(nsm_rel_l2=nsm_err, nsm_s_per_instance=nsm_time)
    if best is not None:
        classical.update(solver_s_per_instance=best[0], n_x=best[1], steps=best[2], solver_rel_l2=best[3])
        rows.append(dict(problem="reaction-diffusion",
                         method=f"classical: ETDRK4 n_x={best[1]}, {best[2]} steps", rel_l2=best[3],
                         train_s=None, steps=None, resolution=64, infer_s=best[0] * 16))
    return res.model, basis, u_test, classical


def navier_stokes(seconds, n_test, rows):
    """NSM only (the FNO baseline here is 2D; a 3D space-time FNO is not implemented)."""
    problem = NavierStokes(nu=1e-3, T=3.0, modes=8)
    basis = sp.navier_stokes_basis(8, 8, 3.0)
    sample = _batches(problem)
    w_test = jax.vmap(problem.sample)(jax.random.split(jax.random.key(1234), n_test))
    w_np = np.asarray(w_test, dtype=np.float64)
    t0 = time.perf_counter()
    ref = np.stack([problem.solve(w, 32, 4, 600) for w in w_np])  # t = 0, 1, 2, 3
    ref_s = (time.perf_counter() - t0) / n_test
    nsm = sp.NSM(basis, 1, 1, WIDTH, DEPTH, key=jax.random.key(0))
    res = _train(nsm, lambda m, w: sp.nsm_ns_loss(m, w, basis, problem.nu), sample, 3e-3, seconds)
    values = eqx.filter_jit(lambda m, w: sp.nsm_ns_values(m, w, basis, jnp.linspace(0, 3, 4), 32))
    err = float(sp.relative_l2(values(res.model, w_test)[:, 1:], ref[:, 1:]))
    rows.append(dict(problem="navier-stokes nu=1e-3", method="NSM (spectral loss)", rel_l2=err,
                     train_s=res.seconds, steps=res.steps, resolution=32,
                     infer_s=median_seconds(values, res.model, w_test[:16], repeats=3)))
    best = None
    for n in (16, 24, 32):
        for steps in (6, 12, 24, 48, 96):
            start = time.perf_counter()
            sol = np.stack([problem.solve(w, n, 4, steps) for w in w_np[:8]])
            per = (time.perf_counter() - start) / 8
            e = float(sp.relative_l2(solvers.resample_periodic(sol, 32, (-2, -1))[:, 1:], ref[:8, 1:]))
            if np.isfinite(e) and e <= err and (best is None or per < best[0]):
                best = (per, n, steps, e)
    if best is not None:
        rows.append(dict(problem="navier-stokes nu=1e-3",
                         method=f"classical: IF-RK4 n={best[1]}, {best[2]} steps", rel_l2=best[3],
                         train_s=None, steps=None, resolution=32, infer_s=best[0] * 16))
    rows.append(dict(problem="navier-stokes nu=1e-3", method="reference: IF-RK4 n=32, 600 steps",
                     rel_l2=0.0, train_s=None, steps=None, resolution=32, infer_s=ref_s * 16))


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
    p.add_argument("--seconds", type=float, default=None, help="training budget per method")
    p.add_argument("--tests", type=int, default=None, help="number of test instances")
    p.add_argument("--problems", default="poisson,rd,ns", help="comma-separated subset of poisson,rd,ns")
    args = p.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 90.0)
    n_test = args.tests or (16 if args.quick else 128)
    problems = args.problems.split(",")
    rows, scaling, classical = [], [], None
    print(f"# NSM vs FNO + PINN ({seconds:.0f} s of training per method, {n_test} test instances)", flush=True)
    grids = (64,) if args.quick else (64, 128)
    if "poisson" in problems:
        print("poisson ...", flush=True)
        pm, pb, pf = poisson(seconds, n_test, rows, grids)
        scaling += inference_scaling(pm, pb, pf, "poisson")
    if "rd" in problems:
        print("reaction-diffusion ...", flush=True)
        rm, rb, ru, classical = reaction_diffusion(seconds, n_test, rows, grids)
        scaling += inference_scaling(rm, rb, ru, "reaction-diffusion")
    if "ns" in problems:
        print("navier-stokes ...", flush=True)
        navier_stokes(seconds, min(n_test, 32), rows)
    cols = ["problem", "method", "resolution", "rel_l2", "train_s", "steps", "infer_s"]
    print(markdown_table(rows, cols))
    print("\nNSM inference (batch of 16) vs output resolution")
    print(markdown_table(scaling, ["problem", "resolution", "infer_s", "ratio_to_64"]))
    print("\nreaction-diffusion, classical solver at NSM's accuracy:", classical)
    write_json(args.json, dict(rows=rows, inference=scaling, classical=classical,
                               settings=dict(seconds=seconds, tests=n_test, width=WIDTH, depth=DEPTH,
                                             batch=BATCH, fno_modes=FNO_MODES, quick=args.quick),
                               machine=machine(), versions=versions()))


if __name__ == "__main__":
    main()
