import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from _case import BadInput

from jaxsci import pde, pinn, taylor
from jaxsci.pde.highdim import BallProblem

PROBLEM = BallProblem(3, "two_body", "poisson")
NET = eqx.nn.MLP(3, "scalar", 4, 1, key=jax.random.key(0))
KEY = jax.random.key(0)
POINTS = jnp.ones((5, 3)) * 0.1
BOX = pde.Box([0.0, 0.0], [1.0, 1.0])


def _LOSS(model, points, key):
    return pinn.residual_loss(PROBLEM, PROBLEM.hard_constraint(model), points, key=key)


def _SAMPLE(key):
    return pinn.uniform(PROBLEM.domain, 8, key=key)

CASES = [
    BadInput("pinn-points-dimension", lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((5, 4))),
             ValueError, "shape (n, 3)"),
    BadInput("pinn-empty-points", lambda: pinn.residual_loss(PROBLEM, NET, jnp.ones((0, 3))),
             ValueError, "is empty"),
    BadInput("pinn-negative-sample-count", lambda: pinn.uniform(pde.Ball(3), -5, key=KEY),
             ValueError, "positive integer"),
    BadInput("pinn-domain-sample-count", lambda: pde.Ball(3).sample(0, key=KEY), ValueError, "positive integer"),
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
    BadInput("pinn-domain-type", lambda: pinn.uniform("ball", 10, key=KEY), TypeError, "jaxsci.pde domain"),
    BadInput("pinn-rar-too-many", lambda: pinn.rar_add(jnp.ones((2, 1)), jnp.ones((3, 1)), jnp.ones(3), 5),
             ValueError, "candidates"),
    BadInput("pde-ball-problem-dim", lambda: BallProblem(2, "three_body"), ValueError, "dim >= 3"),
    BadInput("pde-ball-problem-kind", lambda: BallProblem(5, "four_body"), ValueError, "must be one of"),
    BadInput("pde-box-order", lambda: pde.Box([1.0], [0.0]), ValueError, "upper > lower"),
    BadInput("pde-spacetime-order", lambda: pde.SpaceTime(pde.Ball(2), 1.0, 0.0), ValueError, "t1 > t0"),
    BadInput("pinn-train-steps", lambda: pinn.train(NET, _LOSS, optax.adam(1e-3), steps=0, key=KEY, sample=_SAMPLE),
             ValueError, "positive integer"),
]

from jaxsci.pde.classical import Burgers1D, KdVSoliton  # noqa: E402

CASES += [
    BadInput("pde-burgers-viscosity", lambda: Burgers1D(nu=-0.1), ValueError, "positive number"),
    BadInput("pde-kdv-speed", lambda: KdVSoliton(speed=0.0), ValueError, "positive number"),
    BadInput("pde-ball-radial", lambda: pde.Ball(3, radial="gaussian"), ValueError, "'volume' or 'uniform'"),
]

def _traced_box():
    return eqx.filter_jit(lambda hi: pde.Box(jnp.ones(2), hi).sample(3, key=KEY))(jnp.zeros(2)).block_until_ready()


CASES += [
    # traced bounds are allowed; the order is then checked when the computation runs
    BadInput("pde-box-order-traced", _traced_box, RuntimeError, "upper > lower"),
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

# the 0.2 API: keyword-only keys, typed or legacy keys only, network/problem agreement,
# causal weights' sign and interval, the training loop's arguments
NET4 = eqx.nn.MLP(4, "scalar", 4, 1, key=jax.random.key(0))
NET_VECTOR = eqx.nn.MLP(3, 2, 4, 1, key=jax.random.key(0))


def _jit(fn, *args):
    return lambda: jax.block_until_ready(eqx.filter_jit(fn)(*args))


def _train(**kwargs):
    args = dict(model=NET, loss_fn=_LOSS, optimizer=optax.adam(1e-3), steps=2, key=KEY, sample=_SAMPLE,
                progress=False)
    args.update(kwargs)
    model, loss_fn, optimizer = args.pop("model"), args.pop("loss_fn"), args.pop("optimizer")
    return lambda: pinn.train(model, loss_fn, optimizer, **args)


CASES += [
    BadInput("pinn-network-input-size", lambda: pinn.residual_loss(PROBLEM, NET4, POINTS),
             ValueError, "the network takes 4 inputs but the problem's points have 3 coordinates"),
    BadInput("pinn-network-input-size-constrained",
             lambda: pinn.residual_loss(PROBLEM, PROBLEM.hard_constraint(NET4), POINTS),
             ValueError, "in_size=3"),
    BadInput("pinn-network-input-size-traced", _jit(lambda p: pinn.residual_loss(PROBLEM, NET4, p), POINTS),
             ValueError, "the network takes 4 inputs"),
    BadInput("pinn-network-vector-output", lambda: pinn.residual_loss(PROBLEM, NET_VECTOR, POINTS),
             ValueError, "must return a scalar"),
    BadInput("pinn-u-not-callable", lambda: pinn.pointwise_residuals(PROBLEM, 3.0, POINTS),
             TypeError, "`u` must be a function"),
    BadInput("pinn-residual-key-positional",
             lambda: pinn.residual_loss(PROBLEM, NET, POINTS, taylor.SparseSTDE(2), KEY),
             TypeError, "positional argument"),
    BadInput("pinn-residual-int-key", lambda: pinn.residual_loss(PROBLEM, NET, POINTS, taylor.SparseSTDE(2), key=0),
             TypeError, "`key` must be a single JAX PRNG key"),
    BadInput("pinn-residual-nan-points-traced",
             _jit(lambda p: pinn.residual_loss(PROBLEM, NET, p), POINTS.at[0, 0].set(jnp.nan)),
             RuntimeError, "`points` contain NaN or inf"),
    BadInput("pinn-uniform-key-positional", lambda: pinn.uniform(pde.Ball(3), KEY, 10),
             TypeError, "takes 2 positional arguments but 3 were given"),
    BadInput("pinn-uniform-int-key", lambda: pinn.uniform(pde.Ball(3), 10, key=0),
             TypeError, "`key` must be a single JAX PRNG key"),
    BadInput("pinn-uniform-no-key", lambda: pinn.uniform(pde.Ball(3), 10, key=None), TypeError, "`key` is required"),
    BadInput("pinn-uniform-key-batch", lambda: pinn.uniform(pde.Ball(3), 10, key=jax.random.split(KEY, 2)),
             TypeError, "single JAX PRNG key"),
    BadInput("pinn-sobol-int-key", lambda: pinn.sobol(BOX, 8, key=3), TypeError, "`key` must be a single JAX PRNG key"),
    BadInput("pinn-sobol-seed-positional", lambda: pinn.sobol(BOX, 8, 3), TypeError, "positional argument"),
    BadInput("pinn-halton-start-positional", lambda: pinn.halton(BOX, 8, 2), TypeError, "positional argument"),
    BadInput("pinn-halton-int-key", lambda: pinn.halton(BOX, 8, key=1), TypeError, "PRNG key"),
    BadInput("pinn-r3-key-positional", lambda: pinn.r3_resample(BOX, KEY, jnp.ones((4, 2)), jnp.ones(4)),
             TypeError, "positional argument"),
    BadInput("pinn-r3-shapes", lambda: pinn.r3_resample(BOX, jnp.ones((4, 2)), jnp.ones(3), key=KEY),
             ValueError, "r3_resample needs points (n, d) and residuals (n,)"),
    BadInput("pinn-causal-negative-epsilon", lambda: pinn.causal_weights(jnp.ones(3), epsilon=-1.0),
             ValueError, "`epsilon` must be a non-negative"),
    BadInput("pinn-causal-nan-epsilon", lambda: pinn.causal_weights(jnp.ones(3), epsilon=float("nan")),
             ValueError, "`epsilon` must be a non-negative finite number"),
    BadInput("pinn-causal-negative-epsilon-traced",
             _jit(lambda e: pinn.causal_weights(jnp.ones(3), epsilon=e), jnp.asarray(-1.0)),
             RuntimeError, "`epsilon` must be a non-negative"),
    BadInput("pinn-causal-epsilon-type", lambda: pinn.causal_weights(jnp.ones(3), epsilon="strong"),
             TypeError, "`epsilon` must be a non-negative number"),
    BadInput("pinn-causal-matrix", lambda: pinn.causal_weights(jnp.ones((2, 2))), ValueError, "must be a vector"),
    BadInput("pinn-causal-reversed-interval",
             lambda: pinn.causal_residual_loss(jnp.ones(4), jnp.linspace(0.0, 1.0, 4), 2, 1.0, 0.0),
             ValueError, "t1 > t0"),
    BadInput("pinn-causal-reversed-interval-traced",
             _jit(lambda t0, t1: pinn.causal_residual_loss(jnp.ones(4), jnp.linspace(0.0, 1.0, 4), 2, t0, t1),
                  jnp.asarray(1.0), jnp.asarray(0.0)),
             RuntimeError, "t1 > t0"),
    BadInput("pinn-grad-norm-momentum",
             lambda: pinn.grad_norm_weights([lambda p: jnp.sum(p)], jnp.ones(2), momentum=1.5),
             ValueError, "`momentum` must be in [0, 1)"),
    BadInput("pinn-data-loss-shapes", lambda: pinn.data_loss(NET, POINTS, jnp.ones(4)), ValueError, "values (n,)"),
    BadInput("pinn-hard-constrained-problem", lambda: pinn.hard_constrained("ball", NET), TypeError, "PDEProblem"),
    BadInput("pinn-make-step-string-optimizer", lambda: pinn.make_step(_LOSS, "adam", None),
             TypeError, "optax GradientTransformation"),
    BadInput("pinn-train-string-optimizer", _train(optimizer="adam"), TypeError, "optax GradientTransformation"),
    BadInput("pinn-train-int-key", _train(key=0), TypeError, "`key` must be a single JAX PRNG key"),
    BadInput("pinn-train-sample-not-callable", _train(sample=POINTS), TypeError, "`sample` must be a callable"),
    BadInput("pinn-train-vector-loss", _train(loss_fn=lambda m, x, key: jax.vmap(m)(x)), ValueError,
             "`loss_fn` must return a scalar"),
    BadInput("pinn-train-network-size", _train(model=NET4), ValueError, "the network takes 4 inputs"),
    BadInput("pinn-train-chunk", _train(chunk=0), ValueError, "`chunk` must be a positive integer"),
    BadInput("pinn-train-steps-float", _train(steps=10.0), TypeError, "`steps` must be a positive integer"),
    BadInput("pinn-train-num-steps-positional",
             lambda: pinn.train(NET, _LOSS, optax.adam(1e-3), 10, key=KEY, sample=_SAMPLE),
             TypeError, "positional argument"),
]
