"""PINN optimizers side by side: Gauss-Newton / ENGD against Adam, L-BFGS, Adam -> L-BFGS.

    python benchmarks/pinn_optimizers.py [--quick] [--json PATH] [--plot PATH]
           [--problems poisson2d heat1d poisson5d allen_cahn ac1000] [--seconds S]
           [--methods gauss_newton engd gauss_newton_lm gauss_newton_lm_decay adam lbfgs adam_lbfgs]
    python benchmarks/pinn_optimizers.py --bias [--quick]   # the step's bias with STDE

float64 throughout. Every optimizer of a problem trains the same network (same
initialization) on the same fixed collocation points for the same wall-time budget
(``core.fit(seconds=..., compile_first=True)``, compilation excluded), and the relative L2
error on held-out test points is recorded after every chunk: the JSON keeps the whole
error-vs-wall-time curve and ``--plot`` draws it.

Problems (loss = mean interior residual^2 + weight * mean boundary/initial residual^2, the
boundary and initial data imposed softly through ``pinn.DirichletBC``):

* ``poisson2d``: ``-Lap u = 2 pi^2 sin(pi x) sin(pi y)`` on [0, 1]^2, ``u = sin(pi x) sin(pi y)``
  (the ENGD paper's first example, Mueller & Zeinhofer ICML 2023, Sec. 4.1); MLP 2-32-32-1 tanh,
  900 interior + 124 boundary points.
* ``poisson5d``: ``-Lap u = pi^2/4 sum_i sin(pi x_i / 2)`` on [0, 1]^5 with
  ``u = sum_i sin(pi x_i / 2)`` (the ENGD paper's 5D example), Dirichlet data on the faces;
  MLP 5-32-32-1 tanh, 1000 interior + 500 boundary points.
* ``heat1d``: ``u_t = u_xx / pi^2`` on [0, 1] x [0, 1], ``u = exp(-t) sin(pi x)``; MLP 2-32-32-1
  tanh, 900 interior + 200 boundary/initial points.
* ``allen_cahn``: ``u_t - 1e-4 u_xx + 5 u^3 - 5 u = 0``, ``u0 = x^2 cos(pi x)``, periodic
  (jaxpi's setting), hard constraint ``u0 + t net(cos pi x, sin pi x, t)`` of
  ``pde.classical.AllenCahn1D``; error against its float64 ETDRK4 reference on the saved grid.
  MLP 3-32-32-32-1 tanh (``--ac-width``), 2000 fresh uniform points per step (fixed ones for
  L-BFGS).
* ``ac1000``: the STDE paper's d = 1000 two-body Allen-Cahn on the unit ball (hard
  constraint ``(1 - |x|^2) net``, MLP 1000-128-128-128-1 tanh) with ``taylor.SparseSTDE(16)``,
  100 fresh points per step for every optimizer but L-BFGS (``--batch``, ``--stde-samples``;
  0 samples: the exact Laplacian by ``taylor.ForwardLaplacian``);
  20,000 test points; ``--problem-seeds`` gives the coefficient draws.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import lineax as lx  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, parser, versions, write_json  # noqa: E402

from jaxsci import core, pde, pinn, taylor  # noqa: E402

F64 = jnp.float64


def _mlp(din, width, depth, seed=0):
    return eqx.nn.MLP(din, "scalar", width, depth, activation=jnp.tanh, key=jax.random.key(seed), dtype=F64)


def _uniform(n, d, seed):
    return jax.random.uniform(jax.random.key(seed), (n, d), dtype=F64)


def _cube_boundary(n, d, seed):
    """``n`` uniform points on the faces of [0, 1]^d (a random face each)."""
    x = _uniform(n, d, seed)
    face = jax.random.randint(jax.random.key(seed + 1), (n,), 0, 2 * d)
    axis, side = face // 2, (face % 2).astype(F64)
    return jnp.where(jnp.arange(d)[None, :] == axis[:, None], side[:, None], x)


class SinPoisson(pde.PDEProblem):
    name: str = "Poisson"
    domain: pde.Box = pde.Box([0.0, 0.0], [1.0, 1.0])
    operators: tuple = (taylor.laplacian(2),)

    def residual(self, x, u, derivatives):
        return -derivatives[0] - 2 * jnp.pi**2 * jnp.prod(jnp.sin(jnp.pi * x))

    def solution(self, x):
        return jnp.prod(jnp.sin(jnp.pi * x))


class SumPoisson(pde.PDEProblem):
    name: str = "Poisson 5D"
    domain: pde.Box = pde.Box([0.0] * 5, [1.0] * 5)
    operators: tuple = (taylor.laplacian(5),)

    def residual(self, x, u, derivatives):
        return -derivatives[0] - jnp.pi**2 / 4 * jnp.sum(jnp.sin(jnp.pi * x / 2))

    def solution(self, x):
        return jnp.sum(jnp.sin(jnp.pi * x / 2))


class Heat1D(pde.PDEProblem):
    name: str = "heat"
    domain: pde.Box = pde.Box([0.0, 0.0], [1.0, 1.0])
    operators: tuple = (taylor.time_derivative(2, 1) - (1 / jnp.pi**2) * taylor.partial(2, {0: 2}),)

    def residual(self, x, u, derivatives):
        return derivatives[0]

    def solution(self, x):
        return jnp.exp(-x[1]) * jnp.sin(jnp.pi * x[0])


def _soft(problem, n_int, n_bnd, dim, width, depth, boundary, weight=1.0):
    xi = _uniform(n_int, dim, 1)
    xb = boundary(n_bnd, dim, 2)
    test = _uniform(5000, dim, 3)
    exact = jax.vmap(problem.solution)(test)
    loss = core.ResidualLoss(pinn.PDEResidual(problem), pinn.DirichletBC(problem.solution),
                             weights=(1.0, weight))
    evaluate = lambda m: core.relative_l2(jax.vmap(m)(test), exact)
    return dict(loss=loss, net=_mlp(dim, width, depth), data=(xi, xb), sample=None, evaluate=evaluate)


def _heat_boundary(n, d, seed):
    x = _uniform(n, 2, seed)
    kind = jax.random.randint(jax.random.key(seed + 1), (n,), 0, 3)  # x=0, x=1, t=0
    xs = jnp.where(kind == 0, 0.0, jnp.where(kind == 1, 1.0, x[:, 0]))
    ts = jnp.where(kind == 2, 0.0, x[:, 1])
    return jnp.stack([xs, ts], axis=1)


# set from the flags of the same names (--stde-samples, --batch, --ac-width, ...)
SETTINGS = {"stde_samples": 16, "batch": 100, "width": 32, "damping_floor": 1e-14, "decay_steps": 1000}


def build(name: str, quick: bool, problem_seed: int = 0):
    if name == "poisson2d":
        n = (400, 64) if quick else (900, 124)
        return _soft(SinPoisson(), n[0], n[1], 2, 32, 2, _cube_boundary)
    if name == "poisson5d":
        n = (500, 250) if quick else (1000, 500)
        return _soft(SumPoisson(), n[0], n[1], 5, 32, 2, _cube_boundary)
    if name == "heat1d":
        n = (400, 100) if quick else (900, 200)
        return _soft(Heat1D(), n[0], n[1], 2, 32, 2, _heat_boundary)
    if name == "allen_cahn":
        from jaxsci.pde.classical import AllenCahn1D

        problem = AllenCahn1D(num_modes=512 if quick else 2048, dt=2e-4 if quick else 1e-4)
        n = 1000 if quick else 2000
        lower, width = jnp.array([-1.0, 0.0], F64), jnp.array([2.0, 1.0], F64)
        sample = lambda k: lower + width * jax.random.uniform(k, (n, 2), F64)
        stride = 7 if quick else 3
        test, exact = problem.test_points()[::stride], problem.grid_values()[::stride]
        loss = core.ResidualLoss(pinn.PDEResidual(problem, hard_constraint=True))
        evaluate = lambda m: core.relative_l2(jax.vmap(problem.hard_constraint(m))(test), exact)
        return dict(loss=loss, net=_mlp(3, SETTINGS["width"], 3), data=None, sample=sample, evaluate=evaluate)
    if name == "ac1000":
        from jaxsci.pde.highdim import BallProblem

        problem = BallProblem(1000, "two_body", "allen_cahn", seed=problem_seed, dtype=F64)
        test = problem.test_points(2000 if quick else 20_000, key=jax.random.key(3))
        exact = jax.vmap(problem.solution)(test)
        samples = SETTINGS["stde_samples"]
        backend = taylor.SparseSTDE(samples) if samples > 0 else taylor.ForwardLaplacian()
        loss = core.ResidualLoss(pinn.PDEResidual(problem, backend, hard_constraint=True))
        evaluate = lambda m: core.relative_l2(
            core.chunked_vmap(problem.hard_constraint(m), chunk_size=1000)(test), exact)
        sample = lambda k: problem.domain.sample(SETTINGS["batch"], key=k)
        return dict(loss=loss, net=_mlp(1000, 128, 3), data=None, sample=sample, evaluate=evaluate)
    raise ValueError(name)


METHODS = {
    # name: (optimizer, chunk)
    "gauss_newton": (lambda: pinn.gauss_newton(1e-10, solver=lx.Normal(lx.Cholesky())), 5),
    "gauss_newton_lm": (lambda: pinn.gauss_newton(
        max(1e-3, SETTINGS["damping_floor"]), solver=lx.Normal(lx.Cholesky()), adaptive_damping=True,
        damping_bounds=(SETTINGS["damping_floor"], 1e4)), 5),
    # the Levenberg-Marquardt step scaled by a linear decay 1 -> 0.02 over --decay-steps steps
    # (the analogue of the learning-rate decay that ends the STDE paper's Adam runs)
    "gauss_newton_lm_decay": (lambda: optax.chain(
        METHODS["gauss_newton_lm"][0](),
        optax.scale_by_schedule(optax.linear_schedule(1.0, 0.02, SETTINGS["decay_steps"]))), 5),
    "engd": (lambda: pinn.engd(), 5),
    "adam": (lambda: optax.adam(1e-3), 500),
    "lbfgs": (lambda: optax.lbfgs(), 100),
    "adam_lbfgs": (lambda: pinn.adam_then_lbfgs(2000, 1e-3), 100),
}


def _settings_used(problem: str, method: str) -> dict:
    """The entries of SETTINGS that this problem and method read (recorded in its row)."""
    names = {"ac1000": ["stde_samples", "batch"], "allen_cahn": ["width"]}.get(problem, [])
    if method.startswith("gauss_newton_lm"):
        names.append("damping_floor")
    if method == "gauss_newton_lm_decay":
        names.append("decay_steps")
    return {name: SETTINGS[name] for name in names}


def run(problem: str, method: str, seconds: float, quick: bool, problem_seed: int = 0) -> dict:
    setup = build(problem, quick, problem_seed)
    make, chunk = METHODS[method]
    sample = setup["sample"]
    data = setup["data"]
    if sample is not None and method in ("lbfgs", "adam_lbfgs"):
        data, sample = sample(jax.random.key(7)), None  # L-BFGS wants fixed points
    t0 = time.perf_counter()
    out = core.fit(setup["loss"], setup["net"], make(), steps=10**7, key=jax.random.key(0),
                   data=data, sample=sample, chunk=chunk, evaluate=setup["evaluate"],
                   seconds=seconds, compile_first=True, progress=False, throw=False)
    total = time.perf_counter() - t0
    err = np.asarray(out.history_error, float)
    best = float(np.nanmin(err)) if err.size else float("nan")
    return {
        "problem": problem, "problem_seed": problem_seed, "method": method,
        **_settings_used(problem, method), "params": core.num_params(setup["net"]),
        "steps": int(out.num_steps), "seconds": round(float(out.history_wall_time[-1]), 1),
        "compile_s": round(out.compile_time, 1), "final_error": f"{float(err[-1]):.2e}",
        "best_error": f"{best:.2e}", "final_loss": f"{float(out.history_loss[-1]):.2e}",
        "total_s": round(total, 1),
        "curve_time": np.asarray(out.history_wall_time).tolist(), "curve_error": err.tolist(),
    }


def step_bias(dim: int, draws: int, samples: tuple[int, ...]) -> list[dict]:
    """The Gauss-Newton step on STDE residuals against the exact-backend step: same network,
    points and damping; ``draws`` keys per estimator size."""
    from jaxsci.pde.highdim import BallProblem

    problem = BallProblem(dim, "two_body", "allen_cahn", dtype=F64)
    net = _mlp(dim, 32, 2)
    x = problem.domain.sample(64, key=jax.random.key(1))
    params, static = eqx.partition(net, eqx.is_inexact_array)
    opt = pinn.gauss_newton(1e-6, line_search=None, solver=lx.Normal(lx.Cholesky()))

    def step(loss, key):
        objective = core.ResidualObjective(loss, static, x, key=key)
        return core.ravel(opt.update(params, opt.init(params), params, value_fn=objective)[0])[0]

    exact = jax.jit(lambda: step(core.ResidualLoss(pinn.PDEResidual(problem, hard_constraint=True)), None))()
    norm = float(jnp.linalg.norm(exact))
    rows = []
    for s in samples:
        loss = core.ResidualLoss(pinn.PDEResidual(problem, taylor.SparseSTDE(s), hard_constraint=True))
        keys = jax.random.split(jax.random.key(5), draws)
        steps = jax.lax.map(jax.jit(lambda k, loss=loss: step(loss, k)), keys)
        mean = jnp.mean(steps, axis=0)
        cos = float(mean @ exact / (jnp.linalg.norm(mean) * norm))
        rows.append({"dim": dim, "stde_samples": s, "draws": draws,
                     "bias_rel": f"{float(jnp.linalg.norm(mean - exact)) / norm:.3f}",
                     "spread_rel": f"{float(jnp.mean(jnp.linalg.norm(steps - exact, axis=1))) / norm:.3f}",
                     "mean_norm_ratio": f"{float(jnp.linalg.norm(mean)) / norm:.3f}",
                     "cos_mean_exact": f"{cos:.4f}"})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--problems", nargs="+", default=["poisson2d"])
    p.add_argument("--methods", nargs="+", default=list(METHODS))
    p.add_argument("--seconds", type=float, default=None, help="wall-time budget per optimizer")
    p.add_argument("--plot", type=Path, default=None, help="error-vs-wall-time figure (PNG)")
    p.add_argument("--problem-seeds", type=int, nargs="+", default=[0],
                   help="coefficient draws of ac1000 (one run per draw and method)")
    p.add_argument("--stde-samples", type=int, default=16,
                   help="ac1000: SparseSTDE samples (0: the exact Laplacian, taylor.ForwardLaplacian)")
    p.add_argument("--decay-steps", type=int, default=1000,
                   help="gauss_newton_lm_decay: steps of the linear step-size decay to 0.02")
    p.add_argument("--ac-width", type=int, default=32, help="allen_cahn: hidden units per layer")
    p.add_argument("--damping-floor", type=float, default=1e-14,
                   help="gauss_newton_lm: the smallest Levenberg-Marquardt damping")
    p.add_argument("--batch", type=int, default=100, help="ac1000: fresh points per step")
    p.add_argument("--bias", action="store_true",
                   help="measure the bias of the Gauss-Newton step on STDE residuals instead")
    args = p.parse_args()
    if args.bias:
        dim, draws = (20, 8) if args.quick else (100, 32)
        rows = step_bias(dim, draws, (2, 8, 32) if args.quick else (4, 16, 64))
        print(markdown_table(rows, list(rows[0])))
        write_json(args.json, {"machine": machine(), "versions": versions(), "bias": rows})
        return
    SETTINGS.update(stde_samples=args.stde_samples, batch=args.batch, width=args.ac_width,
                    damping_floor=args.damping_floor, decay_steps=args.decay_steps)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    rows = []
    for problem in args.problems:
        for method, draw in ((m, d) for d in (args.problem_seeds if problem == "ac1000" else [0])
                             for m in args.methods):
            row = run(problem, method, seconds, args.quick, draw)
            rows.append(row)
            print(f"{problem:10s} draw {draw} {method:16s} steps {row['steps']:6d} {row['seconds']:7.1f}s "
                  f"error {row['final_error']} (best {row['best_error']})", flush=True)
    cols = ["problem", "method", "params", "steps", "seconds", "compile_s", "final_loss",
            "final_error", "best_error"]
    print(markdown_table(rows, cols))
    write_json(args.json, {"machine": machine(), "versions": versions(), "seconds": seconds,
                           "quick": args.quick, "rows": rows})
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        problems = list(dict.fromkeys(r["problem"] for r in rows))
        fig, axes = plt.subplots(1, len(problems), figsize=(4.5 * len(problems), 3.6), squeeze=False)
        for ax, problem in zip(axes[0], problems):
            for r in rows:
                if r["problem"] == problem:
                    ax.semilogy(r["curve_time"], r["curve_error"], marker=".", label=r["method"])
            ax.set(title=problem, xlabel="wall time [s]", ylabel="relative L2 error")
            ax.grid(True, which="both", alpha=0.3)
        axes[0][0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
