"""Fourier/Chebyshev bases against closed forms, direct sums and quadrature (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.spectral import Chebyshev, Fourier, TensorBasis


@pytest.mark.parametrize("n", [8, 31])
def test_fourier_round_trip(x64, n):
    values = np.random.default_rng(n).normal(size=(3, n))
    basis = Fourier(n // 2 + 1)
    coeffs = basis.transform(jnp.asarray(values))
    assert coeffs.shape == (3, basis.size)
    np.testing.assert_allclose(basis.to_grid(coeffs, n), values, atol=1e-12)


@pytest.mark.parametrize("n", [2, 32])
def test_chebyshev_round_trip(x64, n):
    values = np.random.default_rng(n).normal(size=(2, n))
    basis = Chebyshev(n, (-0.5, 2.0))
    np.testing.assert_allclose(basis.to_grid(basis.transform(jnp.asarray(values)), n), values, atol=1e-12)


def test_tensor_round_trip_and_axes(x64):
    basis = TensorBasis((Chebyshev(9), Fourier(5), Fourier(4)))
    values = np.random.default_rng(0).normal(size=(2, 9, 9, 7))
    coeffs = basis.transform(jnp.asarray(values))
    assert coeffs.shape == (2,) + basis.shape
    np.testing.assert_allclose(basis.to_grid(coeffs, (9, 9, 7)), values, atol=1e-12)


def test_fourier_matches_direct_sum_on_any_grid_and_points(x64):
    basis = Fourier(6)
    c = jnp.asarray(np.random.default_rng(1).normal(size=basis.size))
    k = np.arange(6)

    def direct(x):
        x = np.asarray(x)[:, None]
        return (np.cos(2 * np.pi * k * x) @ np.asarray(c[:6])
                + np.sin(2 * np.pi * k[1:] * x) @ np.asarray(c[6:]))

    for n in (3, 5, 10, 11, 64):  # below, at and above the exact grid (11)
        np.testing.assert_allclose(basis.to_grid(c, n), direct(np.arange(n) / n), atol=1e-12)
    x = np.random.default_rng(2).uniform(size=17)
    np.testing.assert_allclose(basis.evaluate(c, jnp.asarray(x)), direct(x), atol=1e-12)


def test_chebyshev_matches_numpy_on_any_grid_and_points(x64):
    basis = Chebyshev(7, (1.0, 3.0))
    c = np.random.default_rng(3).normal(size=7)
    ref = lambda x: np.polynomial.chebyshev.chebval(np.asarray(x) - 2.0, c)  # s = x - 2
    for n in (3, 7, 20):
        np.testing.assert_allclose(basis.to_grid(jnp.asarray(c), n), ref(basis.grid(n)), atol=1e-12)
    x = np.random.default_rng(4).uniform(1.0, 3.0, size=13)
    np.testing.assert_allclose(basis.evaluate(jnp.asarray(c), jnp.asarray(x)), ref(x), atol=1e-12)


def test_fourier_derivatives_of_known_function(x64):
    # u = exp(sin 2 pi x): coefficients decay like I_k(1)/k!, 30 modes resolve it to round-off
    basis = Fourier(30)
    u = lambda x: jnp.exp(jnp.sin(2 * jnp.pi * x))
    c = basis.transform(u(basis.grid(59)))
    x = jnp.asarray(np.random.default_rng(5).uniform(size=50))
    du = jax.vmap(jax.grad(u))(x)
    d2u = jax.vmap(jax.grad(jax.grad(u)))(x)
    s = 2 * jnp.pi
    np.testing.assert_allclose(du, s * jnp.cos(s * x) * u(x), atol=1e-11)
    np.testing.assert_allclose(basis.evaluate(basis.derivative(c), x), du, atol=1e-10)
    np.testing.assert_allclose(basis.evaluate(basis.derivative(c, 2), x), d2u, atol=1e-10)


def test_chebyshev_derivative_integral_of_known_function(x64):
    lo, hi = 0.0, 2.0
    basis = Chebyshev(32, (lo, hi))
    u = lambda x: jnp.exp(x) * jnp.sin(3 * x)
    c = basis.transform(u(basis.grid(32)))
    x = jnp.linspace(lo, hi, 41)
    du = jnp.exp(x) * (jnp.sin(3 * x) + 3 * jnp.cos(3 * x))
    d2u = jnp.exp(x) * (-8 * jnp.sin(3 * x) + 6 * jnp.cos(3 * x))
    np.testing.assert_allclose(basis.evaluate(basis.derivative(c), x), du, atol=1e-10)
    np.testing.assert_allclose(basis.evaluate(basis.derivative(c, 2), x), d2u, atol=1e-8)
    # antiderivative from lo: int e^x sin 3x = e^x (sin 3x - 3 cos 3x) / 10
    prim = lambda x: jnp.exp(x) * (jnp.sin(3 * x) - 3 * jnp.cos(3 * x)) / 10
    big = Chebyshev(33, (lo, hi))
    np.testing.assert_allclose(big.evaluate(basis.integral(c), x), prim(x) - prim(lo), atol=1e-12)
    np.testing.assert_allclose(big.evaluate(basis.multiply_by_x(c), x), (x - lo) * u(x), atol=1e-12)


def test_chebyshev_second_derivative_of_polynomial_is_exact(x64):
    basis = Chebyshev(6, (-1.0, 1.0))
    p = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 2.0])  # power-series coefficients
    c = jnp.asarray(np.polynomial.chebyshev.poly2cheb(p))
    x = np.linspace(-1, 1, 9)
    d2 = np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(p, 2))
    np.testing.assert_allclose(basis.evaluate(basis.derivative(c, 2), jnp.asarray(x)), d2, atol=1e-12)


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_dealiased_product_is_exact_for_band_limited_inputs(x64):
    basis = TensorBasis((Chebyshev(6), Fourier(5)))
    rng = np.random.default_rng(6)
    a = jnp.asarray(rng.normal(size=basis.shape))
    b = jnp.asarray(rng.normal(size=basis.shape))
    ab, big = basis.product(a, b)
    assert big.modes == (11, 9)
    pts = jnp.asarray(rng.uniform(size=(40, 2)))
    exact = basis.evaluate(a, pts) * basis.evaluate(b, pts)
    np.testing.assert_allclose(big.evaluate(ab, pts), exact, atol=1e-12)
    # without padding, the grid product aliases: the truncated result is not the product
    grid = basis.exact_grid_shape()
    aliased = basis.transform(basis.to_grid(a, grid) * basis.to_grid(b, grid))
    assert float(jnp.max(jnp.abs(basis.evaluate(aliased, pts) - exact))) > 1e-2


def test_parseval_norms_match_quadrature(x64):
    rng = np.random.default_rng(7)
    basis = TensorBasis((Chebyshev(7, (0.0, 2.0)), Fourier(4)))
    c = jnp.asarray(rng.normal(size=basis.shape))
    # Gauss-Legendre in t (exact for degree 12), uniform in x (exact for band-limited u^2)
    nodes, weights = np.polynomial.legendre.leggauss(10)
    t = 1.0 + nodes
    x = np.arange(16) / 16
    T, X = np.meshgrid(t, x, indexing="ij")
    u = basis.evaluate(c, jnp.asarray(np.stack([T.ravel(), X.ravel()], -1))).reshape(T.shape)
    quad = np.sum(weights[:, None] * np.asarray(u) ** 2) / 16
    np.testing.assert_allclose(basis.norm2(c), quad, rtol=1e-12)
    # the Chebyshev weight: int u^2 / sqrt(1 - s^2) ds by Gauss-Chebyshev quadrature (1D)
    cb = Chebyshev(7)
    c1 = jnp.asarray(rng.normal(size=7))
    s = np.cos(np.pi * (np.arange(20) + 0.5) / 20)
    vals = np.polynomial.chebyshev.chebval(s, np.asarray(c1))
    np.testing.assert_allclose(TensorBasis((cb,)).norm2(c1, "chebyshev"), np.pi / 20 * np.sum(vals**2), rtol=1e-12)


@pytest.mark.heavy  # 13 s: keeps the default suite under 15 minutes on 2 cores
@pytest.mark.full_precision  # float32 tolerances below TF32 rounding (make test-tf32)
def test_transforms_jit_vmap_grad_and_float32(key):
    basis = TensorBasis((Chebyshev(8), Fourier(6)))
    values = jax.random.normal(key, (4, 8, 11))
    assert values.dtype == jnp.float32
    eager = basis.transform(values)
    np.testing.assert_allclose(jax.jit(basis.transform)(values), eager, atol=1e-6)
    np.testing.assert_allclose(jax.vmap(basis.transform)(values), eager, atol=1e-6)
    np.testing.assert_allclose(basis.to_grid(eager, (8, 11)), values, atol=1e-5)
    g = jax.grad(lambda c: basis.norm2(c))(eager[0])
    G = np.kron(basis.bases[0].gram(), basis.bases[1].gram())
    np.testing.assert_allclose(g.ravel(), 2 * G @ np.asarray(eager[0]).ravel(), rtol=1e-4, atol=1e-5)


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="modes"):
        Fourier(0)
    with pytest.raises(ValueError, match="hi > lo"):
        Chebyshev(4, (1.0, 0.0))
    with pytest.raises(ValueError, match="stores"):
        Fourier(4).resize(jnp.zeros(5), 3)
