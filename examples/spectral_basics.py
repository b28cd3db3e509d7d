"""Fourier and Chebyshev series: transforms, derivatives, a dealiased product, a norm.

    python examples/spectral_basics.py
"""

import jax
import jax.numpy as jnp

from jaxsci import spectral as sp
from jaxsci.core import enable_x64


def main() -> dict:
    with enable_x64():  # float64, so the errors show round-off rather than float32 limits
        return _run()


def _run() -> dict:
    results = {k: float(v) for k, v in jax.jit(_errors)().items()}
    for name, value in results.items():
        print(f"{name:>12}: {value:.2e}")
    return results


def _errors() -> dict:
    basis = sp.TensorBasis((sp.Chebyshev(24, (0.0, 1.0)), sp.Fourier(8)))  # (t, x)
    t, x = basis.grids()
    T, X = jnp.meshgrid(t, x, indexing="ij")
    u = jnp.exp(-T) * jnp.sin(2 * jnp.pi * X)
    c = basis.transform(u)

    points = jax.random.uniform(jax.random.key(0), (100, 2))
    pt, px = points[:, 0], points[:, 1]
    u_t = basis.evaluate(basis.derivative(c, 0), points)
    u_xx = basis.evaluate(basis.derivative(c, 1, order=2), points)
    uu, big = basis.product(c, c)  # exact u^2, no aliasing
    return {
        "u_t error": jnp.max(jnp.abs(u_t + jnp.exp(-pt) * jnp.sin(2 * jnp.pi * px))),
        "u_xx error": jnp.max(jnp.abs(u_xx + 4 * jnp.pi**2 * jnp.exp(-pt) * jnp.sin(2 * jnp.pi * px))),
        "u^2 error": jnp.max(jnp.abs(big.evaluate(uu, points) - basis.evaluate(c, points) ** 2)),
        # int_0^1 int_0^1 u^2 = (1 - e^-2)/2 * 1/2
        "norm error": jnp.abs(basis.norm2(c) - (1 - jnp.exp(-2.0)) / 4),
    }


if __name__ == "__main__":
    main()
