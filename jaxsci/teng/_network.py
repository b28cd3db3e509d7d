"""Networks for TENG: exactly 2pi-periodic in every input (Chen et al. 2024, Sec. 4), and
networks on the unit box that satisfy a homogeneous Dirichlet or Neumann condition exactly
(:class:`BoxMLP`)."""

from __future__ import annotations

import abc
from typing import ClassVar

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
    subclassing this base and defining :meth:`features` and :meth:`with_readout`. A model
    whose read-out has no bias sets ``readout_bias = False`` (the projection then solves
    for the weights only, and ``with_readout`` ignores its ``bias``).
    """

    readout_bias: ClassVar[bool] = True

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
        return _replace_readout(self, weight, bias)


BOX_CONDITIONS = (None, "dirichlet", "neumann")


class BoxMLP(AbstractLinearReadout):
    """Scalar tanh MLP on the unit box ``[0, 1]^dim``, optionally with a homogeneous
    boundary condition built in (an exact-constraint network).

    * ``condition=None``: ``u(x) = MLP(2x - 1)``, for boundary conditions imposed as extra
      least-squares rows (:class:`jaxsci.teng.BoundaryRows`).
    * ``"dirichlet"``: ``u(x) = phi(x) w . h(2x - 1)`` with ``phi(x) = prod_d 4 x_d (1 -
      x_d)``, which vanishes on every face: the distance-function ansatz of Lagaris, Likas
      & Fotiadis (IEEE Trans. Neural Netw. 1998, Sec. III) and Sukumar & Srivastava (CMAME
      2022). The read-out has no bias (a bias would not vanish on the faces).
    * ``"neumann"``: ``u(x) = MLP(cos(pi k x_d), k = 1..embed, d = 1..dim)``; every input
      feature has zero derivative at ``x_d = 0, 1``, so ``du/dn = 0`` on every face
      exactly (the even-reflection counterpart of the periodic embedding).

    Args:
        dim: number of input dimensions.
        width: hidden units per tanh layer.
        depth: number of tanh layers (>= 1).
        key: PRNG key for the initial parameters.
        condition: ``None``, ``"dirichlet"`` or ``"neumann"``.
        embed: cosine frequencies per dimension (``"neumann"`` only).
        dtype: floating parameter dtype (default: float64 when x64 is enabled, else float32).

    Example:
        >>> net = BoxMLP(2, 8, 2, key=jax.random.key(0), condition="dirichlet")
        >>> float(net(jnp.array([0.0, 0.4])))
        0.0
    """

    mlp: eqx.nn.MLP
    condition: str | None = eqx.field(static=True)
    embed: int = eqx.field(static=True)

    def __init__(self, dim: int, width: int, depth: int, *, key: Array,
                 condition: str | None = None, embed: int = 4, dtype=None):
        for v, n in ((dim, "dim"), (width, "width"), (depth, "depth"), (embed, "embed")):
            check_positive_int(v, n)
        if condition not in BOX_CONDITIONS:
            raise ValueError(f"`condition` must be one of {list(BOX_CONDITIONS)}, got "
                             f"{condition!r}.")
        key = check_key(key)
        dtype = default_float_dtype() if dtype is None else dtype
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(f"`dtype` must be a floating dtype (float32 or float64), got {dtype}.")
        self.condition = condition
        self.embed = int(embed)
        inputs = dim * embed if condition == "neumann" else dim
        self.mlp = eqx.nn.MLP(inputs, "scalar", width, depth, jnp.tanh, key=key, dtype=dtype,
                              use_final_bias=condition != "dirichlet")

    @property
    def readout_bias(self) -> bool:  # pyright: ignore[reportIncompatibleVariableOverride]
        return self.condition != "dirichlet"

    def _inputs(self, x):
        if self.condition == "neumann":
            k = jnp.arange(1, self.embed + 1, dtype=x.dtype)
            return jnp.cos(jnp.pi * x[:, None] * k[None, :]).ravel()
        return 2.0 * x - 1.0

    def features(self, x: Float[Array, " dim"]) -> Float[Array, " width"]:
        """The last hidden layer (times ``phi(x)`` for ``"dirichlet"``)."""
        h = self._inputs(x)
        for layer in self.mlp.layers[:-1]:
            h = jnp.tanh(layer(h))
        if self.condition == "dirichlet":
            h = h * _vanishing_on_faces(x)
        return h

    def __call__(self, x: Float[Array, " dim"]) -> Float[Array, ""]:
        return self.mlp.layers[-1](self.features(x))

    def with_readout(self, weight: Float[Array, " width"], bias: Float[Array, ""]) -> BoxMLP:
        """A copy with the read-out replaced (``bias`` ignored for ``"dirichlet"``)."""
        return _replace_readout(self, weight, bias)


def _vanishing_on_faces(x: Float[Array, " dim"]) -> Float[Array, ""]:
    """``prod_d 4 x_d (1 - x_d)``, written as a product of entries (``jet`` has no rule for
    ``reduce_prod``)."""
    phi = 4.0 * x * (1.0 - x)
    out = phi[0]
    for d in range(1, x.shape[0]):
        out = out * phi[d]
    return out


def _replace_readout(model, weight, bias):
    """``model`` with the last layer of ``model.mlp`` set to ``(weight, bias)`` (``bias``
    ignored when that layer has none)."""
    last = model.mlp.layers[-1]
    if last.bias is None:
        return eqx.tree_at(lambda m: m.mlp.layers[-1].weight, model,
                           weight.reshape(last.weight.shape))
    return eqx.tree_at(
        lambda m: (m.mlp.layers[-1].weight, m.mlp.layers[-1].bias),
        model,
        (weight.reshape(last.weight.shape), jnp.reshape(bias, last.bias.shape)),
    )
