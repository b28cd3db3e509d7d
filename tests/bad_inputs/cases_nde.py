import diffrax
import jax.numpy as jnp
from _case import BadInput

from jaxsci import nde

CASES = [
    BadInput("node-missing-max-steps", lambda: nde.NeuralODE(lambda t, y: y), ValueError, "max_steps is missing"),
    BadInput("node-max-steps-zero", lambda: nde.NeuralODE(lambda t, y: y, max_steps=0), ValueError, "positive integer"),
    BadInput("node-max-steps-float", lambda: nde.NeuralODE(lambda t, y: y, max_steps=2.5), ValueError, "positive integer"),
    BadInput("node-max-steps-bool", lambda: nde.NeuralODE(lambda t, y: y, max_steps=True), ValueError, "positive integer"),
    BadInput("node-vf-not-callable", lambda: nde.NeuralODE(3.0, max_steps=8), TypeError, "callable"),
    BadInput(
        "node-constant-step-no-dt0",
        lambda: nde.NeuralODE(lambda t, y: y, diffrax.Euler(), diffrax.ConstantStepSize(), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0])
        ),
        ValueError,
        "dt0",
    ),
    BadInput(
        "nfe-implicit-solver",
        lambda: nde.nfe_count(diffrax.Kvaerno5(), jnp.array(3), adaptive=True),
        ValueError,
        "explicit Runge-Kutta",
    ),
    BadInput("node-max-steps-str", lambda: nde.NeuralODE(lambda t, y: y, max_steps="8"), ValueError, "positive integer"),
]
