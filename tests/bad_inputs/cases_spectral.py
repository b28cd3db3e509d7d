import jax
import jax.numpy as jnp
import numpy as np
from _case import BadInput

from jaxsci import spectral as sp
from jaxsci.pde.parametric import PeriodicPoisson, ReactionDiffusion, periodic_gp

_basis = sp.TensorBasis((sp.Fourier(4), sp.Fourier(4)))

CASES = [
    BadInput("fourier-zero-modes", lambda: sp.Fourier(0), ValueError, "positive integer"),
    BadInput("chebyshev-one-mode", lambda: sp.Chebyshev(1), ValueError, "integer >= 2"),
    BadInput("chebyshev-reversed-interval", lambda: sp.Chebyshev(4, (1.0, 0.0)), ValueError, "hi > lo"),
    BadInput("tensor-basis-list", lambda: sp.TensorBasis([sp.Fourier(4)]), TypeError, "tuple"),
    BadInput("tensor-basis-wrong-factor", lambda: sp.TensorBasis((sp.Fourier(4), "x")), TypeError,
             "Fourier or Chebyshev"),
    BadInput("tensor-grid-sizes", lambda: _basis.to_grid(jnp.zeros(_basis.shape), (8, 8, 8)), ValueError,
             "needs 2 sizes"),
    BadInput("tensor-derivative-axis", lambda: _basis.derivative(jnp.zeros(_basis.shape), axis=2), ValueError,
             "one of the 2 variables"),
    BadInput("fourier-resize-wrong-layout", lambda: sp.Fourier(4).resize(jnp.zeros(5), 3), ValueError,
             "resize with the basis"),
    BadInput("loss-shape", lambda: sp.spectral_loss(jnp.zeros((2, 5, 5)), _basis), ValueError,
             "coefficient shape"),
    BadInput("loss-weight", lambda: sp.spectral_loss(jnp.zeros(_basis.shape), _basis, weight="sobolev"),
             ValueError, "must be one of"),
    BadInput("initial-value-fourier-time", lambda: sp.initial_value_mollifier(jnp.zeros(7), jnp.zeros(_basis.shape), _basis),
             TypeError, "Chebyshev"),
    BadInput("nsm-key", lambda: sp.NSM(_basis, 1, 1, key=0), TypeError, "jax.random.key(seed)"),
    BadInput("nsm-width", lambda: sp.NSM(_basis, 1, 1, width=0, key=jax.random.key(0)), ValueError,
             "positive integer"),
    BadInput("nsm-input-shape", lambda: sp.NSM(_basis, 1, 1, width=4, depth=1, key=jax.random.key(0))(jnp.zeros((1, 8, 8))),
             ValueError, "basis.resize"),
    BadInput("fno-grid-too-small", lambda: sp.FNO(1, 1, (8, 8), width=4, depth=1, key=jax.random.key(0))(jnp.zeros((1, 8, 8))),
             ValueError, "finer grid"),
    BadInput("train-no-budget", lambda: sp.train_operator(None, None, None, None, key=jax.random.key(0)),
             ValueError, "`seconds`"),
    BadInput("gp-one-mode", lambda: periodic_gp(jax.random.key(0), 1, 0.2), ValueError, "at least 2"),
    BadInput("gp-length-scale", lambda: periodic_gp(jax.random.key(0), 8, -0.2), ValueError, "length_scale"),
    BadInput("rd-negative-nu", lambda: ReactionDiffusion(nu=-0.01), ValueError, "nu"),
    BadInput("rd-steps-not-multiple", lambda: ReactionDiffusion().solve(np.zeros(31), 32, 5, 30), ValueError,
             "multiple of `n_times - 1`"),
    BadInput("poisson-n-out", lambda: PeriodicPoisson().solve(np.zeros((31, 31)), 0), ValueError, "n_out"),
]
