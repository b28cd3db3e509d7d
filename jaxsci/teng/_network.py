"""Networks that are exactly 2pi-periodic in every input (TENG, Chen et al. 2024, Sec. 4)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxsci.core import check_key, check_positive_int


class PeriodicMLP(eqx.Module):
    """Scalar MLP after a periodic embedding ``a cos(x_d + phi) + c`` per input dimension.

    Each of ``dim`` inputs is mapped to ``embed`` features ``a_k cos(x_d + phi_k) + c_k``,
    so ``u(x + 2pi e_d) = u(x)`` exactly; a tanh MLP follows.

    Example:
        >>> net = PeriodicMLP(2, 8, 16, 2, key=jax.random.key(0)); net(jnp.zeros(2)).shape
        ()
    """

    amp: Float[Array, "dim embed"]
    phase: Float[Array, "dim embed"]
    shift: Float[Array, "dim embed"]
    mlp: eqx.nn.MLP

    def __init__(self, dim: int, embed: int, width: int, depth: int, *, key: Array):
        for v, n in ((dim, "dim"), (embed, "embed"), (width, "width"), (depth, "depth")):
            check_positive_int(v, n)
        check_key(key)
        k1, k2, k3 = jax.random.split(key, 3)
        dtype = jnp.zeros(()).dtype
        self.amp = jax.random.normal(k1, (dim, embed), dtype)
        self.phase = jax.random.uniform(k2, (dim, embed), dtype, 0.0, 2 * jnp.pi)
        self.shift = jnp.zeros((dim, embed), dtype)
        self.mlp = eqx.nn.MLP(dim * embed, "scalar", width, depth, jnp.tanh, key=k3, dtype=dtype)

    def __call__(self, x: Float[Array, " dim"]) -> Float[Array, ""]:
        feats = self.amp * jnp.cos(x[:, None] + self.phase) + self.shift
        return self.mlp(feats.ravel())
