"""The spectral residual loss and the exact constraints, against independent references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.pde.parametric import PeriodicPoisson
from jaxsci.spectral import (
    Chebyshev,
    Fourier,
    TensorBasis,
    dirichlet_mollifier,
    initial_value_mollifier,
    poisson_residual,
    reaction_diffusion_residual,
    spectral_loss,
    zero_mean,
)


def test_spectral_loss_of_exact_periodic_poisson_solution_is_zero(x64):
    problem = PeriodicPoisson(modes=16)
    f = problem.sample(key=jax.random.key(3))
    u = problem.solve(f, problem.grid_size)  # float64 FFT solver, independent of the bases
    basis = TensorBasis((Fourier(16), Fourier(16)))
    fc = basis.transform(f)
    uc = zero_mean(basis.transform(jnp.asarray(u)), basis)
    loss = spectral_loss(poisson_residual(uc, fc, basis), basis)
    scale = spectral_loss(fc, basis)
    assert float(loss) < 1e-26 * float(scale)
    # not vacuous: a 1e-3 perturbation of one mode is seen
    bumped = uc.at[3, 4].add(1e-3)
    assert float(spectral_loss(poisson_residual(bumped, fc, basis), basis)) > 1e-6


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_reaction_diffusion_residual_matches_autodiff_pointwise(x64):
    nu, rho = 0.05, 5.0
    basis = TensorBasis((Chebyshev(5, (0.0, 1.0)), Fourier(4)))
    c = jnp.asarray(np.random.default_rng(0).normal(size=basis.shape)) * 0.3
    r, big = reaction_diffusion_residual(c, basis, nu, rho)

    def u(p):
        return basis.evaluate(c, p[None])[0]

    def pointwise(p):
        g = jax.grad(u)(p)
        h = jax.hessian(u)(p)
        return g[0] - nu * h[1, 1] - rho * u(p) * (1 - u(p))

    residual_at = jax.jit(jax.vmap(pointwise))
    pts = jnp.asarray(np.random.default_rng(1).uniform(size=(25, 2)))
    np.testing.assert_allclose(big.evaluate(r, pts), residual_at(pts), atol=1e-11)
    # and the loss is the L2 norm of that residual (Gauss-Legendre in t, uniform in x)
    nodes, w = np.polynomial.legendre.leggauss(9)  # R^2 has degree 16 in t, modes < 13 in x
    t, x = (nodes + 1) / 2, np.arange(25) / 25
    T, X = np.meshgrid(t, x, indexing="ij")
    vals = residual_at(jnp.asarray(np.stack([T.ravel(), X.ravel()], -1))).reshape(T.shape)
    quad = np.sum(w[:, None] / 2 * np.asarray(vals) ** 2) / 25
    np.testing.assert_allclose(spectral_loss(r, big), quad, rtol=1e-10)


def test_logistic_solution_has_zero_reaction_diffusion_loss(x64):
    # x-independent exact solution u = 1 / (1 + (1/u0 - 1) e^{-rho t})
    basis = TensorBasis((Chebyshev(48, (0.0, 1.0)), Fourier(3)))
    t, x = basis.grids()
    u = 1 / (1 + (1 / 0.3 - 1) * jnp.exp(-5.0 * t))[:, None] * jnp.ones_like(x)[None]
    r, big = reaction_diffusion_residual(basis.transform(u), basis, 0.01, 5.0)
    assert float(spectral_loss(r, big)) < 1e-20


def test_mollifiers_hold_the_constraints_exactly(x64):
    rng = np.random.default_rng(2)
    basis = TensorBasis((Chebyshev(6, (0.0, 2.0)), Fourier(4)))
    v = jnp.asarray(rng.normal(size=basis.shape))
    u0 = jnp.asarray(rng.normal(size=basis.bases[1].size))
    u, ub = initial_value_mollifier(u0, v, basis)
    x = jnp.asarray(rng.uniform(size=9))
    at_t0 = ub.evaluate(u, jnp.stack([jnp.zeros(9), x], -1))
    np.testing.assert_allclose(at_t0, basis.bases[1].evaluate(u0, x), atol=1e-13)
    pts = jnp.asarray(rng.uniform(size=(9, 2))) * jnp.array([[2.0, 1.0]])
    np.testing.assert_allclose(ub.evaluate(u, pts), basis.bases[1].evaluate(u0, pts[:, 1]) + pts[:, 0] * basis.evaluate(v, pts), atol=1e-12)

    square = TensorBasis((Chebyshev(5), Chebyshev(7)))
    w = jnp.asarray(rng.normal(size=square.shape))
    m, mb = dirichlet_mollifier(w, square)
    s = jnp.asarray(rng.uniform(size=11))
    edges = [jnp.stack(p, -1) for p in ((s, 0 * s), (s, 0 * s + 1), (0 * s, s), (0 * s + 1, s))]
    for e in edges:
        np.testing.assert_allclose(mb.evaluate(m, e), 0.0, atol=1e-13)
    p = jnp.asarray(rng.uniform(size=(7, 2)))
    bump = p[:, 0] * (1 - p[:, 0]) * p[:, 1] * (1 - p[:, 1])
    np.testing.assert_allclose(mb.evaluate(m, p), bump * square.evaluate(w, p), atol=1e-13)


def test_loss_under_jit_and_vmap(key):
    basis = TensorBasis((Fourier(5), Fourier(5)))
    u = jax.random.normal(key, (3,) + basis.shape)
    f = jax.random.normal(jax.random.key(1), (3,) + basis.shape)
    loss = lambda u, f: spectral_loss(poisson_residual(u, f, basis), basis)
    per = jax.jit(jax.vmap(lambda a, b: loss(a[None], b[None])))(u, f)
    np.testing.assert_allclose(jax.jit(loss)(u, f), jnp.mean(per), rtol=1e-5)
    g = jax.jit(jax.grad(loss))(u, f)
    assert bool(jnp.all(jnp.isfinite(g)))


@pytest.mark.heavy
def test_navier_stokes_residual_matches_autodiff_pointwise(x64):
    from jaxsci.spectral import navier_stokes_residual, stream_function

    nu = 0.01
    basis = TensorBasis((Chebyshev(3, (0.0, 2.0)), Fourier(3), Fourier(3)))
    w = jnp.asarray(np.random.default_rng(3).normal(size=basis.shape))
    w = zero_mean(w, basis)  # vorticity of a periodic flow has zero mean at every t
    w = w.at[1:, 0, 0].set(0.0)
    force = jnp.asarray(np.random.default_rng(4).normal(size=basis.shape)) * 0.1
    r, big = navier_stokes_residual(w, basis, nu, force)
    psi = stream_function(w, basis)
    W = lambda p: basis.evaluate(w, p[None])[0]
    P = lambda p: basis.evaluate(psi, p[None])[0]
    F = lambda p: basis.evaluate(force, p[None])[0]

    def pointwise(p):
        gw, gp = jax.grad(W)(p), jax.grad(P)(p)
        lap = jnp.trace(jax.hessian(W)(p)[1:, 1:])
        return gw[0] + gp[2] * gw[1] - gp[1] * gw[2] - nu * lap - F(p)

    pts = jnp.asarray(np.random.default_rng(5).uniform(size=(12, 3))) * jnp.array([[2.0, 1.0, 1.0]])
    lap_psi = jax.jit(jax.vmap(lambda p: jnp.trace(jax.hessian(P)(p)[1:, 1:])))(pts)
    np.testing.assert_allclose(-lap_psi, jax.vmap(W)(pts), atol=1e-12)
    np.testing.assert_allclose(big.evaluate(r, pts), jax.jit(jax.vmap(pointwise))(pts), atol=1e-11)
