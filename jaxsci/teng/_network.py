"""Networks that are exactly 2pi-periodic in every input (TENG, Chen et al. 2024, Sec. 4)."""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..core import default_float_dtype
from ..internal import check_key, check_positive_int


class AbstractLinearReadout(eqx.Module):
    """A scalar model ``u(x) = w . features(x) + b`` with a linear read-out ``(w, b)``.

    :class:`LevenbergMarquardt` with ``projection=True`` solves the read-out exactly after
    every step (variable projection, Golub & Pereyra 1973); a model takes part by
    subclassing this base and defining :meth:`features` and :meth:`with_readout`.
    """

    @abc.abstractmethod
    def features(self, x: Float[Array, " dim"]) -> Float[Array, " width"]:
        """The features the read-out weights (the last hidden layer)."""

    @abc.abstractmethod
    def with_readout(self, weight: Float[Array, " width"], bias: Float[Array, ""]):
        """A copy of the model with the read-out replaced."""


class PeriodicMLP(AbstractLinearReadout):
    """Scalar tanh MLP after a periodic embedding ``a cos(x_d + phi) + c`` per input dimension.

    Each of the ``dim`` inputs is mapped to ``embed`` features ``a_k cos(x_d + phi_k) + c_k``
    (the periodic embedding of Chen et al. 2024, Sec. 4), so ``u(x + 2pi e_d) = u(x)``
    exactly; ``depth`` tanh layers of ``width`` units and a linear read-out follow.

    Args:
        dim: number of input dimensions.
        embed: periodic features per input dimension.
        width: hidden units per tanh layer.
        depth: number of tanh layers (>= 1).
        key: PRNG key for the initial parameters.
        dtype: floating parameter dtype (default: float64 when x64 is enabled, else float32).

    Example:
        >>> net = PeriodicMLP(2, 8, 16, 2, key=jax.random.key(0)); net(jnp.zeros(2)).shape
        ()
    """

    amp: Float[Array, "dim embed"]
    phase: Float[Array, "dim embed"]
    shift: Float[Array, "dim embed"]
    mlp: eqx.nn.MLP

    def __init__(self, dim: int, embed: int, width: int, depth: int, *, key: Array, dtype=None):
        for v, n in ((dim, "dim"), (embed, "embed"), (width, "width"), (depth, "depth")):
            check_positive_int(v, n)
        key = check_key(key)
        dtype = default_float_dtype() if dtype is None else dtype
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(f"`dtype` must be a floating dtype (float32 or float64), got {dtype}.")
        k1, k2, k3 = jax.random.split(key, 3)
        self.amp = jax.random.normal(k1, (dim, embed), dtype)
        self.phase = jax.random.uniform(k2, (dim, embed), dtype, 0.0, 2 * jnp.pi)
        self.shift = jnp.zeros((dim, embed), dtype)
        self.mlp = eqx.nn.MLP(dim * embed, "scalar", width, depth, jnp.tanh, key=k3, dtype=dtype)

    def features(self, x: Float[Array, " dim"]) -> Float[Array, " width"]:
        """The last hidden layer; ``u(x) = readout_weight . features(x) + readout_bias``."""
        h = (self.amp * jnp.cos(x[:, None] + self.phase) + self.shift).ravel()
        for layer in self.mlp.layers[:-1]:
            h = jnp.tanh(layer(h))
        return h

    def __call__(self, x: Float[Array, " dim"]) -> Float[Array, ""]:
        return self.mlp.layers[-1](self.features(x))

    def with_readout(self, weight: Float[Array, " width"], bias: Float[Array, ""]) -> PeriodicMLP:
        """A copy with the linear read-out layer replaced (used by variable projection)."""
        last = self.mlp.layers[-1]
        return eqx.tree_at(
            lambda m: (m.mlp.layers[-1].weight, m.mlp.layers[-1].bias),
            self,
            (weight.reshape(last.weight.shape), jnp.reshape(bias, last.bias.shape)),
        )
