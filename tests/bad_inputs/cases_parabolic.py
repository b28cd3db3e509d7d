import jax
from _case import BadInput

from jaxsci.pde.parabolic import BrownianSpaceTime, SemilinearParabolic

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
