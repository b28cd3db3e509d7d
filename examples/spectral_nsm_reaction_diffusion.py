"""Train a neural spectral operator for reaction-diffusion without any solution data.

    python examples/spectral_nsm_reaction_diffusion.py

u_t - nu u_xx = rho u (1 - u), periodic in x, initial values from a periodic Gaussian
process; NSM on Chebyshev(t) x Fourier(x) with the spectral loss; checked against the
float64 ETDRK4 reference on held-out initial values. Training is ``core.fit`` (through
``sp.train_operator``), which returns a ``core.FitResult``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxsci import core, spectral as sp
from jaxsci.pde.parametric import ReactionDiffusion


def main(steps: int = 300, width: int = 16) -> float:
    problem = ReactionDiffusion(nu=0.01, rho=5.0, modes=16)
    basis = sp.reaction_diffusion_basis(16, 16)
    model = sp.NSM(basis, 1, 1, width=width, depth=4, key=jax.random.key(0))
    sample = lambda k: problem.sample(16, key=k)
    loss = lambda m, u0: sp.nsm_rd_loss(m, u0, basis, problem.nu, problem.rho)
    optimizer = optax.adam(optax.exponential_decay(3e-3, 250, 0.5))
    result = sp.train_operator(model, loss, sample, optimizer, key=jax.random.key(1), steps=steps)

    u0 = sample(jax.random.key(42))[:4]
    ref = np.stack([problem.solve(u, 64, 33, 32 * 16) for u in np.asarray(u0, dtype=np.float64)])
    predict = eqx.filter_jit(lambda m, u: sp.nsm_rd_values(m, u, basis, jnp.linspace(0, 1, 33), 64))
    error = float(jnp.mean(core.relative_l2(predict(result.model, u0), jnp.asarray(ref, u0.dtype), axis=(1, 2))))
    print(f"{result.num_steps} steps in {result.history_wall_time[-1]:.1f} s, "
          f"final loss {float(result.losses[-1]):.2e}, "
          f"relative L2 vs ETDRK4: {error:.2e}")
    return error


if __name__ == "__main__":
    main()
