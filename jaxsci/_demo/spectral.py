"""Demo: neural spectral methods.

* a Chebyshev(t) x Fourier(x) series: derivatives against the closed form;
* periodic Poisson: the spectral loss of the exact (FFT) solution is zero to round-off;
* reaction-diffusion (rho = 5, nu = 0.01): NSM with the spectral loss and FNO with the
  finite-difference PINN loss, the same short wall-time budget each, against ETDRK4.
"""

from __future__ import annotations

import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxsci import core, spectral as sp
from jaxsci.pde.parametric import PeriodicPoisson, ReactionDiffusion

from . import pyplot

BUDGET_S = 4.0  # training seconds per model, after compilation
QUICK_STEPS = 40


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    rows = []
    # quick: a fixed number of steps instead of the wall-time budget, two test instances
    # (the step count is a cap there: training stops at the first chunk after BUDGET_S)
    budget = dict(steps=QUICK_STEPS) if quick else dict(steps=100_000, seconds=BUDGET_S, compile_first=True)
    trained = "quick: fixed step count" if quick else f"{BUDGET_S:.0f} s (+ compile)"
    num_test = 2 if quick else 8
    start = time.perf_counter()
    basis = sp.TensorBasis((sp.Chebyshev(16), sp.Fourier(12)))

    @jax.jit
    def derivative_error(pts):
        t, x = basis.grids()
        T, X = jnp.meshgrid(t, x, indexing="ij")
        c = basis.transform(jnp.exp(-T) * jnp.sin(2 * jnp.pi * X))
        exact = -4 * jnp.pi**2 * jnp.exp(-pts[:, 0]) * jnp.sin(2 * jnp.pi * pts[:, 1])
        return jnp.max(jnp.abs(basis.evaluate(basis.derivative(c, 1, 2), pts) - exact)) / (4 * jnp.pi**2)

    err = float(derivative_error(jax.random.uniform(jax.random.key(0), (200, 2))))
    rows.append(dict(family="spectral", problem="exp(-t) sin(2 pi x)", method="Chebyshev x Fourier d2/dx2",
                     error=err, seconds=time.perf_counter() - start,
                     note="max error / max |u_xx| at 200 random points, float32"))

    start = time.perf_counter()
    problem = PeriodicPoisson(modes=16)
    f = problem.sample(key=jax.random.key(1))
    pb = sp.poisson_basis(16)

    @jax.jit
    def losses(u, f):
        uc, fc = sp.zero_mean(pb.transform(u), pb), pb.transform(f)
        return sp.spectral_loss(sp.poisson_residual(uc, fc, pb), pb), sp.spectral_loss(fc, pb)

    loss, zero = losses(jnp.asarray(problem.solve(f, 31), dtype=f.dtype), f)
    rows.append(dict(family="spectral", problem="periodic Poisson (GP source)",
                     method="spectral loss of the exact solution", error=float(loss),
                     seconds=time.perf_counter() - start,
                     note=f"vs {float(zero):.2f} for u = 0; float32"))

    rd = ReactionDiffusion(nu=0.01, modes=16)
    rb = sp.reaction_diffusion_basis(16, 16)
    sample = lambda k: rd.sample(16, key=k)
    u_test = sample(jax.random.key(99))[:num_test]
    ref = np.stack([rd.solve(u0, 64, 64, 63 * 8) for u0 in np.asarray(u_test, dtype=np.float64)])
    opt = optax.adam(optax.exponential_decay(3e-3, 250, 0.5))
    start = time.perf_counter()
    nsm = sp.NSM(rb, 1, 1, 16, 4, key=jax.random.key(0))
    res = sp.train_operator(nsm, lambda m, u: sp.nsm_rd_loss(m, u, rb, 0.01, 5.0), sample, opt,
                            key=jax.random.key(1), chunk=10, **budget)
    pred = eqx.filter_jit(lambda m, u: sp.nsm_rd_values(m, u, rb, jnp.linspace(0, 1, 64), 64))(res.model, u_test)
    nsm_err = _error(pred, ref)
    rows.append(dict(family="spectral", problem="reaction-diffusion nu=0.01", method="NSM, spectral loss",
                     error=nsm_err, seconds=time.perf_counter() - start,
                     note=f"{res.num_steps} steps, {trained}; rel. L2 vs ETDRK4, {num_test} instances"))
    start = time.perf_counter()
    fno = sp.FNO(1, 1, (8, 8), 16, 4, key=jax.random.key(0))
    r2 = sp.train_operator(fno, lambda m, u: sp.fno_rd_pinn_loss(m, u, 64, 0.01, 5.0), sample,
                           optax.adam(optax.exponential_decay(1e-3, 250, 0.5)),
                           key=jax.random.key(1), chunk=10, **budget)
    fno_pred = eqx.filter_jit(sp.fno_rd_values)(r2.model, u_test, 64)
    rows.append(dict(family="spectral", problem="reaction-diffusion nu=0.01", method="FNO, FD-PINN loss (64^2)",
                     error=_error(fno_pred, ref), seconds=time.perf_counter() - start,
                     note=f"{r2.num_steps} steps, {trained}; same test set"))
    _plot(np.asarray(pred[0]), np.asarray(fno_pred[0]), ref[0], out_dir)
    return rows


def _error(pred, ref) -> float:
    """Relative L2 per instance (``core.relative_l2``), averaged."""
    return float(jnp.mean(core.relative_l2(pred, jnp.asarray(ref, pred.dtype), axis=(1, 2))))


def _plot(nsm, fno, ref, out_dir: Path) -> None:
    plt = pyplot()
    if plt is None:
        return

    fig, axes = plt.subplots(1, 4, figsize=(12, 3))
    extent = (0, 1, 1, 0)
    panels = [(ref, "ETDRK4 reference u(t, x)"), (nsm, "NSM"), (np.abs(nsm - ref), "|NSM - ref|"),
              (np.abs(fno - ref), "|FNO+PINN - ref|")]
    for ax, (img, title) in zip(axes, panels):
        im = ax.imshow(img, extent=extent, aspect="auto")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel("t")
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(out_dir / "spectral_reaction_diffusion.png", dpi=110)
    plt.close(fig)
