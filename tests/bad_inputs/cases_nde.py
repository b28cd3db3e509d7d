import diffrax
import jax
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
        lambda: nde.nfe_count(diffrax.Kvaerno5(), jnp.array(3)),
        ValueError,
        "explicit Runge-Kutta",
    ),
    BadInput("node-max-steps-str", lambda: nde.NeuralODE(lambda t, y: y, max_steps="8"), ValueError, "positive integer"),
    BadInput("node-implicit-solver", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Kvaerno5(), max_steps=8), ValueError, "explicit Runge-Kutta"),
    BadInput(
        "heuristics-constant-step",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Euler(), diffrax.ConstantStepSize(), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0]), dt0=0.1, heuristics=True
        ),
        ValueError,
        "adaptive",
    ),
    BadInput(
        "stiffness-bosh3",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Bosh3(), max_steps=64)(
            jnp.ones(2), jnp.array([0.0, 1.0]), stiffness=True
        ),
        ValueError,
        "Tsit5",
    ),
    BadInput(
        "heuristics-non-pid-controller",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Tsit5(), diffrax.StepTo(ts=jnp.linspace(0, 1, 5)), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0]), heuristics=True
        ),
        ValueError,
        "PIDController",
    ),
    BadInput(
        "local-bad-sampling",
        lambda: nde.local_regularization(
            nde.NeuralODE(lambda t, y: -y, max_steps=64), jnp.ones(2), jnp.array([0.0, 1.0]), jax.random.key(0), sampling="uniform"
        ),
        ValueError,
        "unbiased",
    ),
    BadInput(
        "local-int-key",
        lambda: nde.local_regularization(nde.NeuralODE(lambda t, y: -y, max_steps=64), jnp.ones(2), jnp.array([0.0, 1.0]), 0),
        TypeError,
        "key",
    ),
    BadInput("taynode-order-zero", lambda: nde.TayNODEField(lambda t, y: -y, 0), ValueError, "order"),
    BadInput("steer-negative-width", lambda: nde.steer_end_time(jax.random.key(0), 1.0, -0.1), ValueError, "half_width"),
    BadInput("sde-fsal-solver", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.Tsit5(), max_steps=8), ValueError, "Heun"),
    BadInput("sde-drift-not-callable", lambda: nde.NeuralSDE(1.0, lambda t, y: y, max_steps=8), TypeError, "callable"),
    BadInput("sde-missing-max-steps", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y), ValueError, "max_steps is missing"),
    BadInput(
        "sde-zero-dt0",
        lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, max_steps=8)(jnp.ones(2), jnp.array([0.0, 1.0]), jax.random.key(0), dt0=0.0),
        ValueError,
        "dt0",
    ),
    BadInput(
        "sde-constant-controller",
        lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.Heun(), diffrax.ConstantStepSize(), max_steps=8),
        ValueError,
        "PIDController",
    ),
    BadInput("node-euler-adaptive", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Euler(), max_steps=8), ValueError, "ConstantStepSize"),
    BadInput("node-reversible-solver", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.ReversibleHeun(), max_steps=8), ValueError, "reversible"),
    BadInput("node-implicit-solver-says-what-instead", lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Kvaerno5(), max_steps=8), ValueError, "use an explicit solver"),
    BadInput(
        "node-stepto-controller",
        lambda: nde.NeuralODE(lambda t, y: -y, diffrax.Tsit5(), diffrax.StepTo(ts=jnp.linspace(0, 1, 5)), max_steps=8),
        ValueError,
        "ConstantStepSize",
    ),
    BadInput(
        "heuristics-backsolve-adjoint",
        lambda: nde.NeuralODE(lambda t, y: -y, adjoint=diffrax.BacksolveAdjoint(), max_steps=64)(
            jnp.ones(2), jnp.array([0.0, 1.0]), heuristics=True
        ),
        ValueError,
        "RecursiveCheckpointAdjoint",
    ),
    BadInput(
        "sde-heuristics-backsolve-adjoint",
        lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, adjoint=diffrax.BacksolveAdjoint(), max_steps=8)(
            jnp.ones(2), jnp.array([0.0, 1.0]), jax.random.key(0), dt0=0.1, heuristics=True
        ),
        ValueError,
        "RecursiveCheckpointAdjoint",
    ),
    BadInput("sde-euler-solver", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.Euler(), max_steps=8), ValueError, "Heun"),
    BadInput("sde-srk-solver", lambda: nde.NeuralSDE(lambda t, y: -y, lambda t, y: y, diffrax.ShARK(), max_steps=8), ValueError, "not supported"),
    BadInput(
        "local-biased-direct-adjoint",
        lambda: nde.local_regularization(
            nde.NeuralODE(lambda t, y: -y, adjoint=diffrax.DirectAdjoint(), max_steps=64), jnp.ones(2), jnp.array([0.0, 1.0]),
            jax.random.key(0), sampling="biased",
        ),
        ValueError,
        "DirectAdjoint",
    ),
]
