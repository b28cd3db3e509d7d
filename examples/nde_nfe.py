"""Solve dy/dt = -y with an adaptive Tsit5 NeuralODE and print the error and NFE."""

import jax.numpy as jnp

from jaxsci.nde import NeuralODE

node = NeuralODE(lambda t, y: -y, max_steps=1024)
ts = jnp.linspace(0.0, 2.0, 11)
sol = node(jnp.ones(1), ts)
ys, nfe = sol.ys, sol.nfe
print(f"max error {float(jnp.max(jnp.abs(ys[:, 0] - jnp.exp(-ts)))):.2e}, NFE {int(nfe)}")
