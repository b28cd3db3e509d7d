"""Demo: differential operators with every backend on a function with a closed form.

u(x) = sum_{i<d-1} sin(x_i) cos(x_{i+1}): every term is an eigenfunction of the
Laplacian with eigenvalue -2, so Lap u = -2 u and Lap^2 u = 4 u in every dimension.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from jaxsci import taylor

from . import pyplot

QUICK_BACKENDS = ("Exact (collapsed Taylor mode)", "ForwardLaplacian (folx)", "SparseSTDE(16), collapsed",
                  "DenseSTDE(16), Rademacher")


def _problem(dim: int):
    def u(x):
        return jnp.sum(jnp.sin(x[:-1]) * jnp.cos(x[1:]))

    return u, lambda x: -2.0 * u(x), lambda x: 4.0 * u(x)


def _time(fn, *args, repeats: int = 3) -> tuple[np.ndarray, float]:
    out = jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = jax.block_until_ready(fn(*args))
    return np.asarray(out), (time.perf_counter() - start) / repeats


def _mean_of_draws(fn, points, draws: int) -> np.ndarray:
    total = np.zeros(points.shape[0])
    for i in range(draws):
        total += np.asarray(fn(points, jax.random.split(jax.random.key(100 + i), points.shape[0])))
    return total / draws


def _rel_err(got, want) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def _pinn_network(dim: int):
    """A hard-constrained tanh network as in the STDE paper: (1 - |x|^2) MLP(x)."""
    net = eqx.nn.MLP(dim, "scalar", 128, 3, activation=jnp.tanh, key=jax.random.key(0))
    return lambda x: (1.0 - x @ x) * net(x)


def _rows_for(problem, op, fn_of_backend, backends, points, reference, draws) -> list[dict]:
    rows = []
    keys = jax.random.split(jax.random.key(2), points.shape[0])
    for name, backend in backends.items():
        fn = eqx.filter_jit(jax.vmap(lambda x, k, b=backend: b(op, fn_of_backend, x, key=k)[1]))
        values, seconds = _time(fn, points, keys)
        note = "exact"
        if backend.stochastic:
            values = _mean_of_draws(fn, points, draws)
            note = f"time: one draw; error: mean of {draws} draws (unbiased)"
        rows.append(dict(family="taylor", problem=problem, method=name,
                         error=_rel_err(values, reference), seconds=seconds, note=note))
    return rows


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    rows = []
    # quick: dimension 32 instead of 1000, fewer points and draws
    draws, dim, num_points, dim4 = (16, 32, 16, 4) if quick else (64, 1000, 100, 16)
    u = _pinn_network(dim)
    points = jax.random.uniform(jax.random.key(1), (num_points, dim), minval=-1, maxval=1)
    points = points / jnp.sqrt(dim)
    # independent reference: trace of the Hessian from forward-over-reverse AD
    reference = np.asarray(jax.jit(jax.vmap(lambda x: jnp.trace(jax.hessian(u)(x))))(points))
    backends = {
        "Exact (collapsed Taylor mode)": taylor.Exact(),
        "Exact (vmapped jets)": taylor.Exact(mode="jet"),
        "ForwardLaplacian (folx)": taylor.ForwardLaplacian(),
        "SparseSTDE(16), collapsed": taylor.SparseSTDE(16),
        "SparseSTDE(16), jets": taylor.SparseSTDE(16, mode="jet"),
        "DenseSTDE(16), Rademacher": taylor.DenseSTDE(16),
        "SDGD(16)": taylor.SDGD(16),
        "Hutchinson(16)": taylor.Hutchinson(16),
    }
    if quick:  # one exact, one folx and one stochastic backend of each kind
        backends = {k: v for k, v in backends.items() if k in QUICK_BACKENDS}
    if importlib.util.find_spec("folx") is None:  # an optional dependency (`pip install folx`)
        print("taylor: folx is not installed, so the ForwardLaplacian (folx) row is skipped")
        backends = {k: v for k, v in backends.items() if not k.startswith("ForwardLaplacian")}
    rows += _rows_for(f"Lap of (1-|x|^2) MLP(x), d={dim} (ref: Hessian trace)",
                      taylor.laplacian(dim), u, backends, points, reference, draws)

    u4, _, bilap4 = _problem(dim4)
    points4 = jax.random.uniform(jax.random.key(4), (num_points, dim4), minval=-1, maxval=1)
    rows += _rows_for(f"biharmonic of a sin-cos chain, d={dim4} (closed form)",
                      taylor.biharmonic(dim4), u4,
                      {"Exact (collapsed Taylor mode)": taylor.Exact(),
                       "DenseSTDE(64), Gaussian": taylor.DenseSTDE(64, "gaussian")}
                      | ({} if quick else {"SparseSTDE(64)": taylor.SparseSTDE(64)}),
                      points4, np.asarray(jax.vmap(bilap4)(points4)), draws)

    def u2(x):
        return jnp.sin(x[0]) * jnp.cos(x[1])

    points2 = jax.random.uniform(jax.random.key(5), (num_points, 2), minval=-2, maxval=2)
    uxxxy = np.asarray(jnp.cos(points2[:, 0]) * jnp.sin(points2[:, 1]))
    rows += _rows_for("u_xxxy of sin(x) cos(y) (closed form)", taylor.partial(2, (3, 1)), u2,
                      {"Exact (collapsed Taylor mode)": taylor.Exact()}
                      | ({} if quick else {"Exact (vmapped jets)": taylor.Exact(mode="jet")}),
                      points2, uxxxy, draws)

    chain, lap_chain, _ = _problem(dim)
    _plot_error_vs_samples(chain, lap_chain, jax.random.uniform(jax.random.key(6), (20, dim)), out_dir,
                           [1, 16] if quick else [1, 4, 16, 64, 256])
    return rows


def _plot_error_vs_samples(u, lap, points, out_dir: Path, samples: list[int]) -> None:
    plt = pyplot()
    if plt is None:
        return

    dim = points.shape[1]
    exact = np.asarray(jax.vmap(lap)(points))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, make in [("sparse STDE", taylor.SparseSTDE), ("dense STDE (Rademacher)", taylor.DenseSTDE)]:
        errors = []
        for n in samples:
            backend = make(n)
            keys = jax.random.split(jax.random.key(n), points.shape[0])
            fn = eqx.filter_jit(jax.vmap(lambda x, k, b=backend: b(taylor.laplacian(dim), u, x, key=k)[1]))
            errors.append(_rel_err(np.asarray(fn(points, keys)), exact))
        ax.loglog(samples, errors, "o-", label=label)
    ax.loglog(samples, errors[0] / np.sqrt(samples), "k--", lw=0.8, label="1/sqrt(samples)")
    ax.set_xlabel("random directions per point")
    ax.set_ylabel("relative L2 error of Lap u (one draw)")
    ax.set_title(f"STDE Laplacian, d = {dim}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "taylor_stde_error.png", dpi=120)
    plt.close(fig)
