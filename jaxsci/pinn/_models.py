"""Networks for PINNs: random Fourier features, the modified MLP, random weight
factorization.

* :class:`FourierFeatures`: ``gamma(x) = [cos(2 pi B x), sin(2 pi B x)]`` with a fixed
  Gaussian ``B`` (Tancik et al., "Fourier features let networks learn high frequency
  functions in low dimensional domains", NeurIPS 2020, Sec. 5; Wang, Wang & Perdikaris,
  "On the eigenvector bias of Fourier feature networks", CMAME 384, 2021, for PINNs).
* :class:`RWFLinear`: a linear layer with the weight factorized as ``W = diag(exp(s)) V``
  (Wang, Wang, Seidman & Perdikaris, "Random weight factorization improves the training
  of continuous neural representations", arXiv:2210.01274, 2022, Sec. 2).
* :class:`PINNMLP`: a plain MLP with an optional input embedding and optional random
  weight factorization of every layer.
* :class:`ModifiedMLP`: the gated architecture of Wang, Teng & Perdikaris ("Understanding
  and mitigating gradient pathologies in physics-informed neural networks", SIAM J. Sci.
  Comput. 43, 2021, Eq. 41-44), with the same two options.

Every network maps one point ``x`` of shape ``(in_size,)`` to a scalar (as
``eqx.nn.MLP(..., "scalar", ...)``); use ``jax.vmap`` for batches. Parameters are created
in ``dtype`` (default: float64 when x64 is enabled, else float32), and the point must have
the same dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..core import default_float_dtype
from ..internal import check_key, check_positive_int, check_real


def _check_dtype(dtype):
    dtype = default_float_dtype() if dtype is None else jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a floating dtype (float32 or float64), got {dtype}.")
    return dtype


def _check_rwf(rwf) -> tuple[float, float] | None:
    """``None`` or ``(mu, sigma)`` with ``sigma >= 0``."""
    if rwf is None:
        return None
    if not isinstance(rwf, tuple) or len(rwf) != 2:
        raise TypeError(
            f"`rwf` must be None or a tuple (mu, sigma) of the scale factors' normal "
            f"distribution, e.g. rwf=(1.0, 0.1); got {rwf!r}."
        )
    return check_real(rwf[0], "rwf[0] (mu)"), check_real(rwf[1], "rwf[1] (sigma)", low=0.0)


def _check_features(value, name: str) -> None:
    if value != "scalar":
        check_positive_int(value, name)


class FourierFeatures(eqx.Module):
    """Random Fourier feature embedding ``gamma(x) = [cos(2 pi B x), sin(2 pi B x)]``.

    ``B`` has shape ``(num_features, in_size)`` and entries drawn from ``N(0, scale^2)``
    once, at construction (Tancik et al., NeurIPS 2020, Sec. 5, Eq. 3 with Gaussian ``B``).
    A larger ``scale`` lets the network that follows fit higher frequencies; for PINNs,
    Wang, Wang & Perdikaris (CMAME 2021, Sec. 4) pick it from the frequencies expected
    in the solution (``scale`` 1 to 10 on the unit interval, for example).

    ``B`` is not trained: ``__call__`` applies ``jax.lax.stop_gradient`` to it, so its
    gradient is zero and an optimizer driven by gradients (``optax.adam``,
    ``optax.sgd``, ...) leaves it unchanged, although ``eqx.partition(model,
    eqx.is_inexact_array)`` lists it. Decoupled weight decay (``optax.adamw``) would still
    shrink it: mask it out (``optax.masked``) if you use one.

    Args:
        in_size: the number of coordinates of a point.
        num_features: the number of rows of ``B``; the embedding has ``2 num_features``
            entries (:attr:`out_size`).
        scale: the standard deviation of the entries of ``B`` (> 0).
        key: PRNG key for ``B`` (keyword-only).
        dtype: floating dtype of ``B`` (default: float64 when x64 is enabled, else float32).

    Example:
        >>> ff = FourierFeatures(2, 8, 1.0, key=jax.random.key(0))
        >>> ff(jnp.zeros(2)).tolist()[:2], ff(jnp.zeros(2)).shape
        ([1.0, 1.0], (16,))
    """

    matrix: Float[Array, "num_features in_size"]
    in_size: int = eqx.field(static=True)
    num_features: int = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def __init__(self, in_size: int, num_features: int, scale: float, *, key: Array, dtype=None):
        check_positive_int(in_size, "in_size")
        check_positive_int(num_features, "num_features")
        scale = check_real(scale, "scale", low=0.0, low_inclusive=False)
        key = check_key(key)
        dtype = _check_dtype(dtype)
        self.matrix = scale * jax.random.normal(key, (num_features, in_size), dtype)
        self.in_size, self.num_features, self.scale = int(in_size), int(num_features), scale

    @property
    def out_size(self) -> int:
        """The number of entries of the embedding, ``2 num_features``."""
        return 2 * self.num_features

    def __call__(self, x: Float[Array, " in_size"]) -> Float[Array, " out_size"]:
        b = jax.lax.stop_gradient(self.matrix)
        z = (2 * math.pi) * (b @ x)
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)])


def _factorize(weight, mu: float, sigma: float, key):
    """``(s, V)`` with ``s ~ N(mu, sigma^2)`` per output unit and ``V = W / exp(s)``."""
    s = mu + sigma * jax.random.normal(key, weight.shape[:1], weight.dtype)
    return s, weight / jnp.exp(s)[:, None]


class RWFLinear(eqx.Module):
    """A linear layer ``y = diag(exp(s)) V x + b`` with a randomly factorized weight.

    Random weight factorization (Wang, Wang, Seidman & Perdikaris, arXiv:2210.01274, 2022,
    Sec. 2): every output unit's weight row is written as a scale times a direction,
    ``W = diag(exp(s)) V``, and both are trained. At initialization a weight ``W0`` (here
    that of ``eqx.nn.Linear``, or the layer given to :meth:`from_linear`) is factorized
    with ``s ~ N(mu, sigma^2)`` and ``V = W0 / exp(s)``, so the layer computes the same
    function as the unfactorized one; training then moves each unit's scale with its own
    effective learning rate.

    Args:
        in_features, out_features: sizes as ``eqx.nn.Linear`` (an int or ``"scalar"``).
        key: PRNG key (keyword-only) for ``W0``, ``b`` and ``s``.
        mu, sigma: mean and standard deviation of the log-scales ``s`` (``sigma >= 0``).
        use_bias: whether the layer has a bias.
        dtype: floating dtype (default: float64 when x64 is enabled, else float32).

    Example:
        >>> linear = eqx.nn.Linear(3, 4, key=jax.random.key(0))
        >>> layer = RWFLinear.from_linear(linear, key=jax.random.key(1))
        >>> x = jnp.ones(3)
        >>> bool(jnp.allclose(layer(x), linear(x), rtol=1e-6))
        True
    """

    log_scale: Float[Array, " out"]
    direction: Float[Array, "out in"]
    bias: Float[Array, " out"] | None
    in_features: int | Literal["scalar"] = eqx.field(static=True)
    out_features: int | Literal["scalar"] = eqx.field(static=True)

    def __init__(self, in_features: int | Literal["scalar"], out_features: int | Literal["scalar"],
                 *, key: Array, mu: float = 1.0, sigma: float = 0.1, use_bias: bool = True,
                 dtype=None):
        _check_features(in_features, "in_features")
        _check_features(out_features, "out_features")
        mu = check_real(mu, "mu")
        sigma = check_real(sigma, "sigma", low=0.0)
        if not isinstance(use_bias, bool):
            raise TypeError(f"`use_bias` must be True or False, got {use_bias!r}.")
        key = check_key(key)
        dtype = _check_dtype(dtype)
        k1, k2 = jax.random.split(key)
        linear = eqx.nn.Linear(in_features, out_features, use_bias, dtype=dtype, key=k1)
        self.log_scale, self.direction = _factorize(linear.weight, mu, sigma, k2)
        self.bias = linear.bias
        self.in_features, self.out_features = in_features, out_features

    @classmethod
    def from_linear(cls, linear: eqx.nn.Linear, *, key: Array, mu: float = 1.0,
                    sigma: float = 0.1) -> RWFLinear:
        """The factorization of an existing ``eqx.nn.Linear`` (same function at
        initialization, up to rounding)."""
        if not isinstance(linear, eqx.nn.Linear):
            raise TypeError(f"`linear` must be an eqx.nn.Linear, got {type(linear).__name__}.")
        key = check_key(key)
        k1, k2 = jax.random.split(key)
        layer = cls(linear.in_features, linear.out_features, key=k1, mu=mu, sigma=sigma,
                    use_bias=linear.bias is not None, dtype=linear.weight.dtype)
        s, v = _factorize(linear.weight, float(mu), float(sigma), k2)
        layer = eqx.tree_at(lambda m: (m.log_scale, m.direction), layer, (s, v))
        if linear.bias is not None:
            layer = eqx.tree_at(lambda m: m.bias, layer, linear.bias)
        return layer

    @property
    def weight(self) -> Float[Array, "out in"]:
        """The effective weight ``diag(exp(s)) V``."""
        return jnp.exp(self.log_scale)[:, None] * self.direction

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        if self.in_features == "scalar":
            x = jnp.broadcast_to(x, (1,))
        y = self.weight @ x
        if self.bias is not None:
            y = y + self.bias
        if self.out_features == "scalar":
            y = jnp.squeeze(y)
        return y


def _layer(in_features, out_features, key, rwf, dtype, use_bias: bool = True):
    """An ``eqx.nn.Linear``, factorized when ``rwf = (mu, sigma)``."""
    if rwf is None:
        return eqx.nn.Linear(in_features, out_features, use_bias, dtype=dtype, key=key)
    return RWFLinear(in_features, out_features, key=key, mu=rwf[0], sigma=rwf[1],
                     use_bias=use_bias, dtype=dtype)


def _embedded_size(embedding, in_size: int, dtype) -> int:
    """The size of ``embedding(x)`` for one point (checked abstractly)."""
    if embedding is None:
        return in_size
    if not callable(embedding):
        raise TypeError(
            "`embedding` must be None or a callable of one point (e.g. "
            f"pinn.FourierFeatures(in_size, 64, 1.0, key=k)), got {type(embedding).__name__}."
        )
    try:
        out = jax.eval_shape(embedding, jax.ShapeDtypeStruct((in_size,), dtype))
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"`embedding` cannot be evaluated at a point of {in_size} coordinates: "
            f"{type(err).__name__}: {err}"
        ) from None
    if not isinstance(out, jax.ShapeDtypeStruct) or len(out.shape) != 1:
        got = getattr(out, "shape", type(out).__name__)
        raise ValueError(f"`embedding` must map a point to a vector (shape (m,)), got {got}.")
    return int(out.shape[0])


def _checked_network_arguments(in_size, width, depth, activation, embedding, rwf, key, dtype):
    """The validated ``(rwf, key, dtype, embedded_size)`` of :class:`PINNMLP` and
    :class:`ModifiedMLP`."""
    check_positive_int(in_size, "in_size")
    check_positive_int(width, "width")
    check_positive_int(depth, "depth")
    if not callable(activation):
        raise TypeError(f"`activation` must be a callable (e.g. jnp.tanh), got {type(activation).__name__}.")
    rwf = _check_rwf(rwf)
    key = check_key(key)
    dtype = _check_dtype(dtype)
    return rwf, key, dtype, _embedded_size(embedding, in_size, dtype)


class PINNMLP(eqx.Module):
    """A scalar MLP ``x -> embedding(x) -> depth x (linear, activation) -> linear``, with
    every linear layer optionally randomly factorized.

    With ``embedding=None`` and ``rwf=None`` it computes what ``eqx.nn.MLP(in_size,
    "scalar", width, depth, activation)`` computes; the two options are the reason for
    this class: a Fourier feature input (:class:`FourierFeatures`) and random weight
    factorization of every layer, the read-out included (:class:`RWFLinear`, Wang et al.
    2022, Sec. 2, which trains such networks for PINNs in its Sec. 5).

    Args:
        in_size: the number of coordinates of a point.
        width: hidden units per layer.
        depth: number of hidden layers (>= 1).
        key: PRNG key (keyword-only).
        activation: the hidden activation (default ``jnp.tanh``).
        embedding: ``None`` or a callable of one point returning a vector (e.g.
            :class:`FourierFeatures`), applied first; its output size is found by tracing.
        rwf: ``None`` or ``(mu, sigma)``: factorize every layer with ``s ~ N(mu, sigma^2)``.
        dtype: floating parameter dtype (default: float64 when x64 is enabled, else float32).

    Example:
        >>> k1, k2 = jax.random.split(jax.random.key(0))
        >>> net = PINNMLP(2, 16, 2, key=k1, embedding=FourierFeatures(2, 8, 1.0, key=k2),
        ...               rwf=(1.0, 0.1))
        >>> net(jnp.array([0.5, 0.25])).shape
        ()
    """

    layers: tuple
    embedding: Callable | None
    activation: Callable = eqx.field(static=True)
    in_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, width: int, depth: int, *, key: Array,
                 activation: Callable = jnp.tanh, embedding: Callable | None = None,
                 rwf: tuple[float, float] | None = None, dtype=None):
        rwf, key, dtype, size = _checked_network_arguments(
            in_size, width, depth, activation, embedding, rwf, key, dtype)
        keys = jax.random.split(key, depth + 1)
        sizes = [size] + [width] * depth
        hidden = [_layer(a, b, k, rwf, dtype) for a, b, k in zip(sizes[:-1], sizes[1:], keys[:-1])]
        self.layers = (*hidden, _layer(width, "scalar", keys[-1], rwf, dtype))
        self.embedding, self.activation, self.in_size = embedding, activation, int(in_size)

    def __call__(self, x: Float[Array, " in_size"]) -> Float[Array, ""]:
        h = x if self.embedding is None else self.embedding(x)
        for layer in self.layers[:-1]:
            h = self.activation(layer(h))
        return self.layers[-1](h)


class ModifiedMLP(eqx.Module):
    """The modified MLP of Wang, Teng & Perdikaris (SIAM J. Sci. Comput. 2021, Eq. 41-44).

    Two encoders of the (embedded) input, ``U = act(W_u h0 + b_u)`` and
    ``V = act(W_v h0 + b_v)``, and ``depth`` gated hidden layers

        Z_k = act(W_k H_{k-1} + b_k),   H_k = Z_k * U + (1 - Z_k) * V,   k = 1..depth,

    with ``H_0 = h0 = embedding(x)`` (or ``x``), and a linear scalar read-out
    ``u = w . H_depth + c``. Which encoder the gate multiplies is a labelling choice (the
    two are built alike). Every hidden layer is gated, the first included, so ``depth``
    counts the gated layers. The multiplicative gates carry the input to every layer,
    which the paper shows eases the stiffness of the PINN gradient flow (their Sec. 4).

    Args:
        in_size: the number of coordinates of a point.
        width: units of the encoders and of every hidden layer.
        depth: number of gated hidden layers (>= 1).
        key: PRNG key (keyword-only).
        activation: ``act`` (default ``jnp.tanh``).
        embedding: ``None`` or a callable of one point returning a vector (e.g.
            :class:`FourierFeatures`), applied first.
        rwf: ``None`` or ``(mu, sigma)``: factorize every linear layer (encoders, hidden
            layers and read-out) as :class:`RWFLinear` with ``s ~ N(mu, sigma^2)``.
        dtype: floating parameter dtype (default: float64 when x64 is enabled, else float32).

    Example:
        >>> net = ModifiedMLP(2, 16, 3, key=jax.random.key(0))
        >>> jax.vmap(net)(jnp.zeros((5, 2))).shape
        (5,)
    """

    encoder_u: eqx.Module
    encoder_v: eqx.Module
    layers: tuple
    readout: eqx.Module
    embedding: Callable | None
    activation: Callable = eqx.field(static=True)
    in_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, width: int, depth: int, *, key: Array,
                 activation: Callable = jnp.tanh, embedding: Callable | None = None,
                 rwf: tuple[float, float] | None = None, dtype=None):
        rwf, key, dtype, size = _checked_network_arguments(
            in_size, width, depth, activation, embedding, rwf, key, dtype)
        ku, kv, kr, *kh = jax.random.split(key, depth + 3)
        self.encoder_u = _layer(size, width, ku, rwf, dtype)
        self.encoder_v = _layer(size, width, kv, rwf, dtype)
        sizes = [size] + [width] * depth
        self.layers = tuple(_layer(a, b, k, rwf, dtype) for a, b, k in zip(sizes[:-1], sizes[1:], kh))
        self.readout = _layer(width, "scalar", kr, rwf, dtype)
        self.embedding, self.activation, self.in_size = embedding, activation, int(in_size)

    def __call__(self, x: Float[Array, " in_size"]) -> Float[Array, ""]:
        h = x if self.embedding is None else self.embedding(x)
        u = self.activation(self.encoder_u(h))
        v = self.activation(self.encoder_v(h))
        for layer in self.layers:
            z = self.activation(layer(h))
            h = z * u + (1 - z) * v
        return self.readout(h)
