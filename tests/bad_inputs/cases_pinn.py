import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from _case import BadInput

from jaxsci import pde, pinn, taylor
from jaxsci.pde.highdim import BallProblem

PROBLEM = BallProblem(3, "two_body", "poisson")
NET = eqx.nn.MLP(3, "scalar", 4, 1, key=jax.random.key(0))
KEY = jax.random.key(0)

CASES = [
    BadInput("pinn-points-dimension", lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((5, 4))),
             ValueError, "shape (n, 3)"),
    BadInput("pinn-empty-points", lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((0, 3))),
             ValueError, "is empty"),
    BadInput("pinn-negative-sample-count", lambda: pinn.uniform(pde.Ball(3), KEY, -5),
             ValueError, "positive integer"),
    BadInput("pinn-domain-sample-count", lambda: pde.Ball(3).sample(KEY, 0), ValueError, "positive integer"),
    BadInput("pinn-backend-type", lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((2, 3)), backend="stde"),
             TypeError, "jaxsci.taylor backend"),
    BadInput("pinn-stochastic-without-key",
             lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((2, 3)), taylor.SparseSTDE(2)),
             TypeError, "needs a PRNG `key`"),
    BadInput("pinn-unbiased-without-key",
             lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((2, 3)), taylor.Exact(), unbiased=True),
             TypeError, "needs a PRNG `key`"),
    BadInput("pinn-problem-type", lambda: pinn.residual_loss("allen-cahn", NET, jnp.ones((2, 3))),
             TypeError, "PDEProblem"),
    BadInput("pinn-halton-high-dim", lambda: pinn.halton(pde.Box(jnp.zeros(40), jnp.ones(40)), 10),
             ValueError, "use `uniform`"),
    BadInput("pinn-domain-type", lambda: pinn.uniform("ball", KEY, 10), TypeError, "jaxsci.pde domain"),
    BadInput("pinn-rar-too-many", lambda: pinn.rar_add(jnp.ones((2, 1)), jnp.ones((3, 1)), jnp.ones(3), 5),
             ValueError, "candidates"),
    BadInput("pde-ball-problem-dim", lambda: BallProblem(2, "three_body"), ValueError, "dim >= 3"),
    BadInput("pde-ball-problem-kind", lambda: BallProblem(5, "four_body"), ValueError, "must be one of"),
    BadInput("pde-box-order", lambda: pde.Box([1.0], [0.0]), ValueError, "upper > lower"),
    BadInput("pde-spacetime-order", lambda: pde.SpaceTime(pde.Ball(2), 1.0, 0.0), ValueError, "t1 > t0"),
    BadInput("pinn-train-steps", lambda: pinn.train(NET, None, None, 0, key=KEY, sample_points=None),
             ValueError, "positive integer"),
]

from jaxsci.pde.classical import Burgers1D, KdVSoliton  # noqa: E402

CASES += [
    BadInput("pde-burgers-viscosity", lambda: Burgers1D(nu=-0.1), ValueError, "positive number"),
    BadInput("pde-kdv-speed", lambda: KdVSoliton(speed=0.0), ValueError, "positive number"),
    BadInput("pde-ball-radial", lambda: pde.Ball(3, radial="gaussian"), ValueError, "'volume' or 'uniform'"),
]

_X = jnp.linspace(0.0, 1.0, 5)[:, None]
_U = lambda p: 2.0 * p[0]


def _traced_box():
    return eqx.filter_jit(lambda hi: pde.Box(jnp.ones(2), hi).sample(KEY, 3))(jnp.zeros(2)).block_until_ready()


def _traced_zero_reference():
    return eqx.filter_jit(lambda ref: pinn.relative_l2(_U, ref, _X))(jnp.zeros(5)).block_until_ready()


CASES += [
    # traced bounds are allowed; the order is then checked when the computation runs
    BadInput("pde-box-order-traced", _traced_box, RuntimeError, "upper > lower"),
    BadInput("pinn-sobol-seed-type", lambda: pinn.sobol(pde.Box([0.0], [1.0]), 8, seed=0.5),
             TypeError, "`seed` must be an integer"),
    BadInput("pinn-relative-l2-zero-reference", lambda: pinn.relative_l2(_U, np.zeros(5), _X),
             ValueError, "reference is zero at every point"),
    BadInput("pinn-relative-l2-zero-reference-traced", _traced_zero_reference,
             RuntimeError, "reference is zero at every point"),
    BadInput("pinn-relative-l2-reference-shape", lambda: pinn.relative_l2(_U, np.ones(4), _X),
             ValueError, "one reference value per point"),
    BadInput("pinn-causal-zero-slices",
             lambda: pinn.causal_residual_loss(jnp.ones(4), jnp.linspace(0.0, 1.0, 4), 0, 0.0, 1.0),
             ValueError, "`num_slices` must be a positive integer"),
    BadInput("pinn-causal-empty-interval",
             lambda: pinn.causal_residual_loss(jnp.ones(4), jnp.linspace(0.0, 1.0, 4), 2, 1.0, 1.0),
             ValueError, "t1 > t0"),
]
CASES += [
    BadInput("pinn-halton-start", lambda: pinn.halton(pde.Box([0.0], [1.0]), 8, start=jnp.array(2)),
             TypeError, "`start` must be a non-negative Python int"),
]
