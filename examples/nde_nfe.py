"""Solve dy/dt = -y with an adaptive Tsit5 NeuralODE and print the error and NFE.

    python examples/nde_nfe.py
"""

import jax.numpy as jnp

from jaxsci.nde import NeuralODE


def main() -> dict:
    node = NeuralODE(lambda t, y: -y, max_steps=1024)  # PID controller, rtol = atol = 1e-3
    ts = jnp.linspace(0.0, 2.0, 11)
    sol = node(jnp.ones(1), ts)
    error = float(jnp.max(jnp.abs(sol.ys[:, 0] - jnp.exp(-ts))))  # exact solution e^{-t}
    print(f"max error {error:.2e}, NFE {int(sol.nfe)}")
    return {"max error": error, "nfe": int(sol.nfe)}


if __name__ == "__main__":
    main()
