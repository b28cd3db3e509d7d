import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci.pde.parabolic import BrownianSpaceTime, SemilinearParabolic

KEY = jax.random.key(0)

CASES = [
    BadInput("parabolic-kind", lambda: SemilinearParabolic(10, "burgers"), ValueError, "must be one of"),
    BadInput("parabolic-dim-zero", lambda: SemilinearParabolic(0, "heat"), ValueError, "positive integer"),
    BadInput("parabolic-horizon", lambda: BrownianSpaceTime(5, -0.3), ValueError, "`horizon` must be a positive"),
    BadInput("parabolic-no-reference", lambda: SemilinearParabolic(20, "heat").reference_value(),
             ValueError, "the table covers"),
    BadInput("parabolic-negative-count",
             lambda: SemilinearParabolic(5, "heat").domain.sample(-3, key=jax.random.key(0)),
             ValueError, "positive integer"),
]

CASES += [
    BadInput("parabolic-no-solution", lambda: SemilinearParabolic(3).solution(jnp.zeros(4)),
             ValueError, "no closed-form solution"),
    BadInput("parabolic-terminal-shape", lambda: SemilinearParabolic(3).terminal_condition(jnp.zeros(3)),
             ValueError, "shape (4,)"),
    BadInput("parabolic-terminal-missing-key", lambda: BrownianSpaceTime(3, 0.3).sample_terminal(5),
             TypeError, "key="),
    BadInput("parabolic-sample-float-count", lambda: BrownianSpaceTime(3, 0.3).sample(1.5, key=KEY),
             TypeError, "positive integer"),
    BadInput("parabolic-contains-dimension", lambda: BrownianSpaceTime(3, 0.3).contains(jnp.ones(3)),
             ValueError, "R^4"),
    BadInput("parabolic-space-dim-float", lambda: BrownianSpaceTime(2.0, 0.3), TypeError,
             "`space_dim` must be a positive integer"),
    BadInput("parabolic-horizon-zero", lambda: SemilinearParabolic(3, "heat", horizon=0.0), ValueError,
             "`horizon` must be a positive"),
]
