import math

import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci import pde
from jaxsci.pde.classical import Burgers1D, KdVSoliton, Poisson2D
from jaxsci.pde.highdim import BallProblem
from jaxsci.pde.parabolic import SemilinearParabolic

KEY = jax.random.key(0)
UNIT = pde.Box([0.0, 0.0], [1.0, 1.0])

CASES = [
    BadInput("pde-ball-negative-radius", lambda: pde.Ball(3, radius=-1.0), ValueError,
             "`radius` must be a positive"),
    BadInput("pde-ball-nan-radius", lambda: pde.Ball(3, radius=math.nan), ValueError, "`radius`"),
    BadInput("pde-ball-infinite-radius", lambda: pde.Ball(3, radius=math.inf), ValueError,
             "finite positive"),
    BadInput("pde-ball-radial-kind", lambda: pde.Ball(3, radial="surface"), ValueError,
             "`radial` must be"),
    BadInput("pde-ball-dim-zero", lambda: pde.Ball(0), ValueError, "`dim` must be a positive"),
    BadInput("pde-sphere-zero-radius", lambda: pde.Sphere(3, 0.0), ValueError, "`radius`"),
    BadInput("pde-box-bounds-order", lambda: pde.Box([1.0], [0.0]), ValueError, "upper > lower"),
    BadInput("pde-box-infinite", lambda: pde.Box([0.0], [jnp.inf]), ValueError, "finite bounds"),
    BadInput("pde-box-shapes", lambda: pde.Box([0.0, 0.0], [1.0]), ValueError, "equal shape (d,)"),
    BadInput("pde-box-complex", lambda: pde.Box(jnp.array([0j]), jnp.array([1j])), TypeError,
             "real numbers"),
    BadInput("pde-box-traced-bounds",
             lambda: jax.block_until_ready(jax.jit(lambda lo: pde.Box(lo, lo - 1.0).upper)(jnp.zeros(2))),
             Exception, "upper > lower"),
    BadInput("pde-sample-key-first", lambda: UNIT.sample(KEY), TypeError, "number of points first"),
    BadInput("pde-sample-missing-key", lambda: UNIT.sample(4), TypeError, "key=jax.random.key"),
    BadInput("pde-sample-int-key", lambda: UNIT.sample(4, key=3), TypeError, "jax.random.key"),
    BadInput("pde-sample-float-count", lambda: UNIT.sample(2.5, key=KEY), TypeError, "positive integer"),
    BadInput("pde-sample-zero", lambda: pde.Ball(2).sample(0, key=KEY), ValueError, "positive integer"),
    BadInput("pde-boundary-missing-key", lambda: pde.Ball(2).sample_boundary(3), TypeError, "key="),
    BadInput("pde-sphere-no-boundary", lambda: pde.Sphere(2).sample_boundary(3, key=KEY), TypeError,
             "no boundary sampler"),
    BadInput("pde-contains-dimension", lambda: UNIT.contains(jnp.ones(3)), ValueError, "R^2"),
    BadInput("pde-unit-cube-dimension", lambda: UNIT.to_unit_cube(jnp.ones((4, 3))), ValueError,
             "shape (..., 2)"),
    BadInput("pde-ball-no-unit-cube", lambda: pde.Ball(2).to_unit_cube(jnp.ones((4, 2))), TypeError,
             "no map from the unit cube"),
    BadInput("pde-spacetime-not-a-domain", lambda: pde.SpaceTime("box", 0.0, 1.0), TypeError,
             "jaxsci.pde domain"),
    BadInput("pde-spacetime-times", lambda: pde.SpaceTime(pde.Box([0.0], [1.0]), 1.0, 0.0),
             ValueError, "t1 > t0"),
    BadInput("pde-spacetime-nan", lambda: pde.SpaceTime(pde.Box([0.0], [1.0]), 0.0, math.nan),
             ValueError, "finite real number"),
    BadInput("pde-problem-abstract", lambda: pde.PDEProblem(), TypeError, "abstract"),
    BadInput("pde-domain-abstract", lambda: pde.AbstractDomain(), TypeError, "abstract"),
    BadInput("pde-residual-count", lambda: Poisson2D().residual(jnp.ones(2), 0.0, (1.0, 2.0)),
             ValueError, "tuple of 1 values"),
    BadInput("pde-ballproblem-dim", lambda: BallProblem(1), ValueError, "dim >= 2"),
    BadInput("pde-ballproblem-nonlinearity", lambda: BallProblem(3, nonlinearity="kdv"), ValueError,
             "`nonlinearity` must be one of"),
    BadInput("pde-ballproblem-seed", lambda: BallProblem(3, seed=1.5), TypeError, "`seed`"),
    BadInput("pde-ballproblem-dtype", lambda: BallProblem(3, dtype=jnp.int32), TypeError,
             "floating-point dtype"),
    BadInput("pde-test-points-missing-key", lambda: BallProblem(3).test_points(5), TypeError, "key="),
    BadInput("pde-kdv-negative-speed", lambda: KdVSoliton(speed=-1.0), ValueError, "`speed` must be a positive"),
    BadInput("pde-kdv-range", lambda: KdVSoliton(x_range=(1.0, -1.0)), ValueError, "x_max > x_min"),
    BadInput("pde-burgers-nu", lambda: Burgers1D(nu=0.0), ValueError, "`nu` must be a positive"),
    BadInput("pde-hard-constraint-not-callable", lambda: SemilinearParabolic(3).hard_constraint(3),
             TypeError, "`net` must be a callable"),
]
