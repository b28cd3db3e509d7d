import equinox as eqx
import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci import pde, pinn
from jaxsci.pde import geometry

KEY = jax.random.key(0)


def _traced_box():
    return jax.jit(lambda a: pinn.BoxDistance(a, a + 1.0))(jnp.zeros(2))


def _vector_net(x):
    return jnp.stack([x[0], x[1]])


CASES = [
    BadInput("pinn-fourier-scale-zero", lambda: pinn.FourierFeatures(2, 8, 0.0, key=KEY),
             ValueError, "`scale` must be a finite number > 0"),
    BadInput("pinn-fourier-int-dtype", lambda: pinn.FourierFeatures(2, 8, 1.0, key=KEY, dtype=jnp.int32),
             TypeError, "floating dtype"),
    BadInput("pinn-fourier-features-count", lambda: pinn.FourierFeatures(2, 0, 1.0, key=KEY),
             ValueError, "num_features"),
    BadInput("pinn-mlp-width", lambda: pinn.PINNMLP(2, 0, 2, key=KEY), ValueError, "width"),
    BadInput("pinn-mlp-activation-string", lambda: pinn.PINNMLP(2, 8, 2, key=KEY, activation="tanh"),
             TypeError, "`activation` must be a callable"),
    BadInput("pinn-mlp-rwf-one-number", lambda: pinn.PINNMLP(2, 8, 2, key=KEY, rwf=(1.0,)),
             TypeError, "`rwf` must be None or a tuple (mu, sigma)"),
    BadInput("pinn-mlp-rwf-negative-sigma", lambda: pinn.ModifiedMLP(2, 8, 2, key=KEY, rwf=(1.0, -0.1)),
             ValueError, "sigma"),
    BadInput("pinn-mlp-scalar-embedding", lambda: pinn.PINNMLP(2, 8, 2, key=KEY, embedding=lambda x: x[0]),
             ValueError, "must map a point to a vector"),
    BadInput("pinn-mlp-embedding-wrong-size",
             lambda: pinn.ModifiedMLP(3, 8, 2, key=KEY, embedding=pinn.FourierFeatures(2, 4, 1.0, key=KEY)),
             ValueError, "cannot be evaluated at a point of 3 coordinates"),
    BadInput("pinn-rwf-from-mlp", lambda: pinn.RWFLinear.from_linear(eqx.nn.MLP(2, 2, 4, 1, key=KEY), key=KEY),
             TypeError, "must be an eqx.nn.Linear"),
    BadInput("pinn-rwf-bias-flag", lambda: pinn.RWFLinear(2, 3, key=KEY, use_bias="yes"),
             TypeError, "`use_bias` must be True or False"),
    BadInput("pinn-box-distance-order", lambda: pinn.BoxDistance([0.0, 1.0], [1.0, 0.5]),
             ValueError, "upper > lower"),
    BadInput("pinn-box-distance-traced", _traced_box, TypeError, "concrete"),
    BadInput("pinn-box-distance-point-shape", lambda: pinn.BoxDistance([0.0], [1.0])(jnp.ones(2)),
             ValueError, "point of shape (2,)"),
    BadInput("pinn-ball-distance-radius", lambda: pinn.BallDistance([0.0, 0.0], -1.0),
             ValueError, "`radius` must be a finite number > 0"),
    BadInput("pinn-ball-distance-of-box", lambda: pinn.BallDistance.of(pde.Box([0.0], [1.0])),
             TypeError, "needs a jaxsci.pde.Ball"),
    BadInput("pinn-ansatz-distance-string", lambda: pinn.DirichletAnsatz(lambda x: x[0], "box"),
             TypeError, "`distance` must be a callable"),
    BadInput("pinn-ansatz-vector-net", lambda: pinn.DirichletAnsatz(_vector_net, pde.Box([0.0, 0.0], [1.0, 1.0])),
             ValueError, "must return a scalar"),
    BadInput("pinn-ansatz-net-dimension",
             lambda: pinn.DirichletAnsatz(pinn.PINNMLP(3, 4, 1, key=KEY), geometry.Disk([0.0, 0.0], 1.0)),
             ValueError, "the network takes 3 inputs but the domain's points have 2 coordinates"),
    BadInput("pinn-ansatz-boundary-value-number",
             lambda: pinn.DirichletAnsatz(lambda x: x[0], pde.Box([0.0], [1.0]), 1.0),
             TypeError, "`boundary_value` must be None"),
    BadInput("pinn-plot-3d", lambda: pinn.plot_field(lambda x: x[0], None, pde.Box([0.0] * 3, [1.0] * 3)),
             ValueError, "1 or 2 coordinates"),
    BadInput("pinn-plot-resolution", lambda: pinn.plot_field(lambda x: x[0], None, (0.0, 1.0), resolution=1),
             ValueError, "`resolution` must be an integer >= 2"),
    BadInput("pinn-plot-domain-string", lambda: pinn.plot_field(lambda x: x[0], None, "square"),
             TypeError, "bounds (lower, upper)"),
    BadInput("pinn-plot-reversed-bounds", lambda: pinn.plot_field(lambda x: x[0], None, (1.0, 0.0)),
             ValueError, "upper > lower"),
    BadInput("pinn-plot-prediction-array", lambda: pinn.plot_field(jnp.ones(3), None, (0.0, 1.0)),
             TypeError, "`u` must be a callable"),
]
