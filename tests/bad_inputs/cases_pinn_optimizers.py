import jax
import jax.numpy as jnp
import lineax as lx
from _case import BadInput

from jaxsci import core, pinn
from jaxsci.pde.highdim import BallProblem

PROBLEM = BallProblem(3, "two_body", "poisson")
TERM = lambda m, x, key: m * x[0]

CASES = [
    BadInput("pinn-gn-negative-damping", lambda: pinn.gauss_newton(-1.0), ValueError, ">= 0"),
    BadInput("pinn-gn-line-search-type", lambda: pinn.gauss_newton(line_search="grid"),
             TypeError, "GridLineSearch()"),
    BadInput("pinn-gn-solver-string", lambda: pinn.gauss_newton(solver="svd"), TypeError, "lineax solver"),
    BadInput("pinn-gn-kernel-type", lambda: pinn.gauss_newton(kernel="auto"), TypeError, "None, True or False"),
    BadInput("pinn-gn-adaptive-zero-damping", lambda: pinn.gauss_newton(0.0, adaptive_damping=True),
             ValueError, "initial damping > 0"),
    BadInput("pinn-gn-damping-bounds", lambda: pinn.gauss_newton(damping_bounds=(1.0, 0.1)),
             ValueError, "0 < low <= high"),
    BadInput("pinn-gn-momentum-one", lambda: pinn.gauss_newton(momentum=1.0), ValueError, "[0, 1)"),
    BadInput("pinn-gn-scalar-loss", lambda: core.fit(lambda m, x, key: jnp.sum(m * x), jnp.ones(2),
                                                     pinn.gauss_newton(), steps=1, data=jnp.ones(2),
                                                     key=jax.random.key(0), progress=False),
             TypeError, "ResidualLoss"),
    BadInput("pinn-grid-search-factor", lambda: pinn.GridLineSearch(factor=2.0), ValueError, "(0, 1)"),
    BadInput("pinn-grid-search-steps", lambda: pinn.GridLineSearch(num_steps=0), ValueError, "positive integer"),
    BadInput("pinn-backtracking-armijo", lambda: pinn.BacktrackingLineSearch(armijo=1.5), ValueError, "[0, 1)"),
    BadInput("pinn-engd-steps", lambda: pinn.engd(num_steps=0), ValueError, "positive integer"),
    BadInput("pinn-adam-lbfgs-steps", lambda: pinn.adam_then_lbfgs(0), ValueError, "positive integer"),
    BadInput("pinn-adam-lbfgs-lr", lambda: pinn.adam_then_lbfgs(10, -1.0), ValueError, "> 0"),
    BadInput("pinn-pde-residual-problem", lambda: pinn.PDEResidual("poisson"), TypeError, "PDEProblem"),
    BadInput("pinn-pde-residual-backend", lambda: pinn.PDEResidual(PROBLEM, "stde"), TypeError,
             "jaxsci.taylor backend"),
    BadInput("pinn-dirichlet-value", lambda: pinn.DirichletBC(0.0), TypeError, "callable x -> scalar"),
    BadInput("pinn-neumann-normal", lambda: pinn.NeumannBC(1.0, lambda x: x[0]), TypeError, "`normal` must be a callable"),
    BadInput("pinn-periodic-shift", lambda: pinn.PeriodicBC([2.0]), TypeError, "tuple of numbers"),
    BadInput("pinn-periodic-point", lambda: pinn.PeriodicBC((2.0,))(lambda x: x[0], jnp.ones(2)), ValueError,
             "shift of 1 coordinates"),
    BadInput("core-residual-loss-empty", lambda: core.ResidualLoss(), ValueError, "at least one"),
    BadInput("core-residual-loss-term", lambda: core.ResidualLoss(1.0), TypeError, "(model, x, key)"),
    BadInput("core-residual-loss-weights", lambda: core.ResidualLoss(TERM, weights=(1.0, 2.0)),
             ValueError, "one weight per term"),
    BadInput("core-residual-loss-negative-weight", lambda: core.ResidualLoss(TERM, weights=(-1.0,)),
             ValueError, "> 0"),
    BadInput("core-residual-loss-batch", lambda: core.ResidualLoss(TERM, TERM)(jnp.ones(()), jnp.ones((3, 1))),
             ValueError, "tuple of 2 point arrays"),
    BadInput("core-lstsq-kernel-type", lambda: core.least_squares(jnp.ones((2, 3)), jnp.ones(2), kernel=1),
             TypeError, "None, True or False"),
    BadInput("core-lstsq-qr-kernel", lambda: core.least_squares(jnp.ones((2, 3)), jnp.ones(2), solver=lx.QR(),
                                                               damping=1.0),
             ValueError, "kernel=False"),
]
