import equinox as eqx
import jax
import jax.numpy as jnp
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
