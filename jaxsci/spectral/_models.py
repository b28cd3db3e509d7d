"""Neural operators as equinox modules: NSM (coefficients to coefficients) and FNO (grid).

* :class:`NSM`, Neural Spectral Methods (Du, Chalapathi, Krishnapriyan, ICLR 2024,
  Sec. 4): the input function's coefficients are lifted to ``width`` channels, passed
  through ``depth`` blocks ``x <- T(sigma(T^-1(W_k x_k + W x + b)))`` with per-mode channel
  weights ``W_k`` and a pointwise layer ``W``, where the activation is applied on the
  collocation grid (``T^-1``: coefficients to grid values, ``T``: back), and projected
  to the output coefficients. The output is a series: evaluating it at any resolution
  costs one inverse transform.
* :class:`FNO`, the Fourier neural operator (Li et al., ICLR 2021): the same block
  structure on grid values, with the spectral convolution done by an FFT truncated to
  ``modes`` wavenumbers per axis. Its complex spectral weights are stored as real arrays
  (real and imaginary parts on a trailing axis of size 2), so every leaf is real and any
  optax optimizer steps it correctly: for a real loss of a complex leaf, ``jax.grad``
  returns the *conjugate* of the ascent direction, and an optimizer that takes it as a
  gradient moves the imaginary parts uphill.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..internal import check_key, check_positive_int
from ._chebyshev import Chebyshev
from ._tensor import TensorBasis, as_tensor_basis


def _dense(key, fan_in, fan_out, dtype):
    return jax.random.normal(key, (fan_in, fan_out), dtype) / float(np.sqrt(fan_in))


def _channel_layers(keys, in_channels, width, out_channels, pointwise_keys, dtype):
    """The channel maps shared by NSM and FNO: lift (``keys[0]``), one pointwise layer per
    block (``pointwise_keys``) and the two-layer projection (``keys[-2]``, ``keys[-1]``)."""
    h = width
    lift = (_dense(keys[0], in_channels, h, dtype), jnp.zeros(h, dtype))
    pointwise = tuple((_dense(k, h, h, dtype), jnp.zeros(h, dtype)) for k in pointwise_keys)
    project = (
        _dense(keys[-2], h, 4 * h, dtype), jnp.zeros(4 * h, dtype),
        _dense(keys[-1], 4 * h, out_channels, dtype), jnp.zeros(out_channels, dtype),
    )
    return lift, pointwise, project


def _check_sizes(in_channels, out_channels, width, depth, key):
    for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                    ("width", width), ("depth", depth)):
        check_positive_int(v, name)
    return check_key(key)


def _channels(x, w, b=None):
    """Pointwise linear map over the channel axis 0 of ``x``."""
    y = jnp.tensordot(w, x, axes=(0, 0))
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * (x.ndim - 1))
    return y


class NSM(eqx.Module):
    """Neural spectral operator mapping input coefficients to output coefficients.

    Args:
        basis: the ``TensorBasis`` of the input and output coefficients.
        in_channels, out_channels: function channels (e.g. 1 source -> 1 solution).
        width: hidden channels ``h``; depth: number of spectral blocks.
        activation: applied on the collocation grid (default ReLU, as in the paper).
        out_scale: factor on the output coefficients (the reference code uses a small one).
        coordinates: append the coordinate functions as input channels (default True).
        key: PRNG key for the initial weights.

    Call with ``a`` of shape ``(in_channels, *basis.shape)``; returns
    ``(out_channels, *basis.shape)``. Use ``jax.vmap`` for batches.

    Example:
        >>> from jaxsci.spectral import Fourier, TensorBasis
        >>> basis = TensorBasis((Fourier(4), Fourier(4)))
        >>> model = NSM(basis, 1, 1, width=8, depth=2, key=jax.random.key(0))
        >>> f_coeffs = basis.transform(jnp.ones((7, 7)))
        >>> model(f_coeffs[None]).shape
        (1, 7, 7)
    """

    basis: TensorBasis = eqx.field(static=True)
    activation: Callable = eqx.field(static=True)
    lift: tuple
    spectral: tuple
    pointwise: tuple
    project: tuple
    out_scale: float = eqx.field(static=True)
    coordinates: bool = eqx.field(static=True)

    def __init__(
        self,
        basis,
        in_channels: int,
        out_channels: int,
        width: int = 32,
        depth: int = 4,
        activation: Callable = jax.nn.relu,
        out_scale: float = 1.0,
        coordinates: bool = True,
        *,
        key: PRNGKeyArray,
        dtype=None,
    ):
        key = _check_sizes(in_channels, out_channels, width, depth, key)
        self.basis = as_tensor_basis(basis)
        self.coordinates = bool(coordinates)
        if self.coordinates:
            in_channels += self._num_coordinates()
        dtype = jnp.zeros(()).dtype if dtype is None else dtype
        self.activation = activation
        self.out_scale = float(out_scale)
        keys = jax.random.split(key, 2 * depth + 4)
        shape = self.basis.shape
        self.spectral = tuple(  # per-mode channel weights, N(0, 1/width^2)
            (1.0 / width) * jax.random.normal(keys[1 + i], (width, width) + shape, dtype)
            for i in range(depth)
        )
        self.lift, self.pointwise, self.project = _channel_layers(
            keys, in_channels, width, out_channels, keys[1 + depth : 1 + 2 * depth], dtype
        )

    def _num_coordinates(self) -> int:
        return sum(1 if isinstance(b, Chebyshev) else 2 for b in self.basis.bases)

    def _coordinate_coefficients(self, dtype):
        """Coefficients of ``x_i`` (Chebyshev axes) and ``cos, sin(2 pi x_i)`` (Fourier axes).

        Without them every layer would map functions constant along an axis (e.g. an
        initial value, constant in t) to functions constant along it: the blocks act
        per mode and the activation is pointwise.
        """
        grids = self.basis.grids()
        shape = self.basis.exact_grid_shape()
        feats = []
        for i, (b, g) in enumerate(zip(self.basis.bases, grids)):
            g = g.astype(dtype).reshape([-1 if j == i else 1 for j in range(len(shape))])
            fs = [g] if isinstance(b, Chebyshev) else [jnp.cos(2 * jnp.pi * g), jnp.sin(2 * jnp.pi * g)]
            feats += [jnp.broadcast_to(f, shape) for f in fs]
        return self.basis.transform(jnp.stack(feats))

    def _bias_mode(self, y, b):
        index = (slice(None),) + (0,) * self.basis.ndim
        return y.at[index].add(b)  # a constant function lives in mode 0 of every axis

    def __call__(self, a: Float[Array, "c ..."]) -> Float[Array, "o ..."]:
        if getattr(a, "ndim", 0) != self.basis.ndim + 1 or a.shape[1:] != self.basis.shape:
            raise ValueError(
                f"NSM input must have shape (channels, {', '.join(map(str, self.basis.shape))}) "
                f"(coefficients in the model's basis), got {a.shape}. Resize the input with "
                "`basis.resize`."
            )
        extra = self._num_coordinates() if self.coordinates else 0
        if a.shape[0] + extra != self.lift[0].shape[0]:
            raise ValueError(
                f"this NSM takes {self.lift[0].shape[0] - extra} input channels, got an input "
                f"with {a.shape[0]} (axis 0 of shape {a.shape})."
            )
        if self.coordinates:
            a = jnp.concatenate([a, self._coordinate_coefficients(a.dtype)])
        x = self._bias_mode(_channels(a, self.lift[0]), self.lift[1])
        letters = "abcdefgh"[: self.basis.ndim]
        for w_spec, (w, b) in zip(self.spectral, self.pointwise):
            y = jnp.einsum(f"i{letters},io{letters}->o{letters}", x, w_spec)
            y = self._bias_mode(y + _channels(x, w), b)
            x = self.basis.transform(self.activation(self.basis.to_grid(y)))
        w1, b1, w2, b2 = self.project
        v = self.activation(_channels(self.basis.to_grid(x), w1, b1))
        out = self.basis.transform(_channels(v, w2, b2))
        return self.out_scale * out


class FNO(eqx.Module):
    """Fourier neural operator on 2D grids (Li et al., ICLR 2021, Sec. 4, Eq. 4-5).

    Input ``(in_channels, n1, n2)`` grid values on a periodic grid (any size with at
    least ``2 modes[0]`` x ``2 (modes[1] - 1)`` points); the grid coordinates are appended
    as two extra channels. Output ``(out_channels, n1, n2)``. Each block is
    ``x <- sigma(F^-1(R . F x) + W x + b)`` with ``R`` the per-mode complex channel
    weights on the lowest ``modes`` wavenumbers (both signs on axis 1, the rfft half on
    axis 2). ``R`` is stored as a real array ``(h, h, 2 m1, m2, 2)`` (real, imaginary), so
    the module has only real leaves and trains correctly with any optax optimizer.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from jaxsci.spectral import FNO
        >>> model = FNO(1, 1, modes=(4, 4), width=8, depth=2, key=jax.random.key(0))
        >>> model(jnp.ones((1, 16, 16))).shape
        (1, 16, 16)
    """

    modes: tuple[int, int] = eqx.field(static=True)
    activation: Callable = eqx.field(static=True)
    lift: tuple
    spectral: tuple
    pointwise: tuple
    project: tuple
    out_scale: float = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: tuple[int, int] = (16, 16),
        width: int = 32,
        depth: int = 4,
        activation: Callable = jax.nn.gelu,
        out_scale: float = 1.0,
        *,
        key: PRNGKeyArray,
        dtype=None,
    ):
        key = _check_sizes(in_channels, out_channels, width, depth, key)
        self.modes = tuple(int(m) for m in modes)
        dtype = jnp.zeros(()).dtype if dtype is None else dtype
        self.activation = activation
        self.out_scale = float(out_scale)
        keys = jax.random.split(key, 3 * depth + 4)
        m1, m2 = self.modes
        self.spectral = tuple(  # real and imaginary parts, each N(0, 1/width^2)
            (1.0 / width) * jax.random.normal(keys[1 + i], (width, width, 2 * m1, m2, 2), dtype)
            for i in range(depth)
        )
        self.lift, self.pointwise, self.project = _channel_layers(
            keys, in_channels + 2, width, out_channels, keys[1 + 2 * depth : 1 + 3 * depth], dtype
        )

    def __call__(self, a: Float[Array, "c n1 n2"]) -> Float[Array, "o n1 n2"]:
        if getattr(a, "ndim", 0) != 3:
            raise ValueError(f"FNO input must have shape (channels, n1, n2), got {jnp.shape(a)}.")
        if a.shape[0] + 2 != self.lift[0].shape[0]:
            raise ValueError(
                f"this FNO takes {self.lift[0].shape[0] - 2} input channels, got an input with "
                f"{a.shape[0]} (axis 0 of shape {a.shape})."
            )
        n1, n2 = a.shape[1:]
        m1, m2 = self.modes
        if n1 < 2 * m1 or n2 // 2 + 1 < m2:
            raise ValueError(
                f"an FNO with modes {self.modes} needs a grid of at least ({2 * m1}, "
                f"{2 * (m2 - 1)}) points, got ({n1}, {n2}); use fewer modes or a finer grid."
            )
        g1, g2 = jnp.meshgrid(jnp.linspace(0, 1, n1), jnp.linspace(0, 1, n2), indexing="ij")
        x = jnp.concatenate([a, g1[None].astype(a.dtype), g2[None].astype(a.dtype)])
        x = _channels(x, *self.lift)
        for w_spec, (w, b) in zip(self.spectral, self.pointwise):
            xf = jnp.fft.rfft2(x)
            low = jnp.concatenate([xf[:, :m1, :m2], xf[:, -m1:, :m2]], axis=1)
            yl = jnp.einsum("ixy,ioxy->oxy", low, jax.lax.complex(w_spec[..., 0], w_spec[..., 1]))
            yf = jnp.zeros((w_spec.shape[1], n1, n2 // 2 + 1), dtype=yl.dtype)
            yf = yf.at[:, :m1, :m2].set(yl[:, :m1]).at[:, -m1:, :m2].set(yl[:, m1:])
            y = jnp.fft.irfft2(yf, s=(n1, n2)).astype(x.dtype)
            x = self.activation(y + _channels(x, w, b))
        w1, b1, w2, b2 = self.project
        return self.out_scale * _channels(self.activation(_channels(x, w1, b1)), w2, b2)
