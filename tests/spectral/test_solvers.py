"""Classical reference solvers: exact solutions and convergence under refinement."""

import jax
import numpy as np
import pytest

from jaxsci.pde import _spectral_solvers as solvers
from jaxsci.pde.parametric import (
    DirichletPoisson,
    NavierStokes,
    PeriodicPoisson,
    ReactionDiffusion,
    periodic_gp,
)


def test_periodic_poisson_manufactured():
    x = np.arange(48) / 48
    X, Y = np.meshgrid(x, x, indexing="ij")
    u = np.sin(2 * np.pi * X) * np.cos(6 * np.pi * Y) + 0.5 * np.cos(4 * np.pi * (X + Y))
    f = 4 * np.pi**2 * (10 * np.sin(2 * np.pi * X) * np.cos(6 * np.pi * Y) + 0.5 * 8 * np.cos(4 * np.pi * (X + Y)))
    np.testing.assert_allclose(solvers.periodic_poisson(f), u, atol=1e-12)
    np.testing.assert_allclose(solvers.periodic_poisson(f[::2, ::2], 48), u, atol=1e-12)


def test_dirichlet_poisson_converges(key):
    xx, u = solvers.dirichlet_poisson(lambda X, Y: 2 * np.pi**2 * np.sin(np.pi * X) * np.sin(np.pi * Y), 20)
    np.testing.assert_allclose(u, np.sin(np.pi * xx[:, None]) * np.sin(np.pi * xx[None, :]), atol=1e-12)
    problem = DirichletPoisson()
    f = problem.sample(key=key)
    xf, fine = problem.solve(f, 40)
    errors = []
    for n in (8, 12, 16, 24):
        x, u = problem.solve(f, n)
        # compare at the coarse points through the fine solution's polynomial interpolant
        V = np.polynomial.chebyshev.chebvander(2 * xf - 1, 39)
        C = np.linalg.solve(V, np.linalg.solve(V, fine).T).T
        ref = np.polynomial.chebyshev.chebgrid2d(2 * x - 1, 2 * x - 1, C)
        errors.append(np.abs(u - ref).max() / np.abs(fine).max())
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    # algebraic, not spectral: f does not vanish at the corners (a corner singularity)
    assert errors[-1] < 1e-5, errors


def test_reaction_diffusion_converges_and_matches_logistic(key):
    rd = ReactionDiffusion(nu=0.01)
    # spatially constant data: exact logistic curve
    u = rd.solve(np.full(31, 0.3), n_x=32, n_times=5, n_steps=64)
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose(u, (1 / (1 + (1 / 0.3 - 1) * np.exp(-5 * t)))[:, None] * np.ones(32), atol=1e-9)
    u0 = rd.sample(key=key)
    ref = rd.solve(u0, 128, 5, 2048)
    errs = [np.abs(rd.solve(u0, 128, 5, s) - ref).max() for s in (32, 64, 128)]
    assert errs[0] / errs[1] > 10 and errs[1] / errs[2] > 10, errs  # fourth order in time
    errs_x = [np.abs(rd.solve(u0, n, 5, 2048) - ref[:, :: 128 // n]).max() for n in (16, 32)]
    assert errs_x[1] < 1e-3 * errs_x[0] and errs_x[1] < 1e-7, errs_x


def test_navier_stokes_exact_decay_and_convergence(key):
    # a Laplacian eigenfunction is steady for the nonlinearity: w = w0 exp(-8 pi^2 nu t)
    x = np.arange(32) / 32
    X, Y = np.meshgrid(x, x, indexing="ij")
    w0 = np.sin(2 * np.pi * X) * np.sin(2 * np.pi * Y)
    w = solvers.navier_stokes(w0, 0.01, 1.0, 32, 50, 3)
    np.testing.assert_allclose(w[-1], w0 * np.exp(-8 * np.pi**2 * 0.01), atol=1e-12)
    ns = NavierStokes(nu=1e-3, T=0.5, modes=8)
    w0 = ns.sample(key=key)
    ref = ns.solve(w0, 32, 2, 400)
    errs = [np.abs(ns.solve(w0, 32, 2, s) - ref).max() for s in (25, 50, 100)]
    assert errs[0] / errs[1] > 10 and errs[1] / errs[2] > 10, errs
    fine = ns.solve(w0, 48, 2, 400)
    coarse = ns.solve(w0, 24, 2, 400)
    e24 = np.abs(solvers.resample_periodic(coarse[-1], 48, (-2, -1)) - fine[-1]).max()
    e32 = np.abs(solvers.resample_periodic(ref[-1], 48, (-2, -1)) - fine[-1]).max()
    assert e32 < e24 / 10, (e24, e32)


def test_forced_navier_stokes_forcing():
    ns = NavierStokes(nu=2e-3, forced=True)
    f = ns.forcing(8)
    x = np.arange(8) / 8
    np.testing.assert_allclose(f[2, 3], 0.1 * (np.sin(2 * np.pi * (x[2] + x[3])) + np.cos(2 * np.pi * (x[2] + x[3]))))


def test_periodic_gp_statistics_and_determinism():
    keys = jax.random.split(jax.random.key(0), 400)
    samples = np.asarray(jax.vmap(lambda k: periodic_gp(k, 8, 0.2, ndim=1))(keys))
    assert samples.shape == (400, 15)
    assert abs(samples.var() - 1.0) < 0.15  # unit variance (400 draws)
    # squared-exponential correlation at lag 1/15 on the torus (sum over images)
    lag = 1 / 15
    corr = np.mean(samples * np.roll(samples, 1, axis=1)) / samples.var()
    k = np.arange(-7, 8)
    s = np.exp(-2 * np.pi**2 * 0.04 * k**2)
    expected = np.sum(s * np.cos(2 * np.pi * k * lag)) / np.sum(s)
    assert abs(corr - expected) < 0.05, (corr, expected)
    a = periodic_gp(jax.random.key(5), 8, 0.2, ndim=2, zero_mean=True)
    b = periodic_gp(jax.random.key(5), 8, 0.2, ndim=2, zero_mean=True)
    np.testing.assert_array_equal(a, b)
    assert abs(float(a.mean())) < 1e-6
    p = PeriodicPoisson(modes=8).sample(key=jax.random.key(1))
    assert p.shape == (15, 15)
    u0 = ReactionDiffusion(modes=8).sample(key=jax.random.key(2))
    assert 0.24 < float(u0.min()) and float(u0.max()) < 0.76


def test_solver_argument_checks():
    with pytest.raises(ValueError, match="multiple"):
        ReactionDiffusion().solve(np.zeros(31), 32, 5, 30)
    with pytest.raises(ValueError, match="positive"):
        ReactionDiffusion(nu=-1.0)
