"""PINN networks: Fourier features, random weight factorization, PINNMLP, ModifiedMLP."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import core, pinn, taylor

KEY = jax.random.key(0)


def _keys(n):
    return jax.random.split(KEY, n)


@pytest.mark.parametrize("use_x64", [False, True])
def test_fourier_features_closed_form_and_dtype(use_x64):
    with core.enable_x64(use_x64):
        dtype = jnp.float64 if use_x64 else jnp.float32
        ff = pinn.FourierFeatures(3, 500, 2.5, key=KEY, dtype=dtype)
        assert ff.matrix.dtype == dtype and ff.matrix.shape == (500, 3) and ff.out_size == 1000
        # B ~ N(0, scale^2): 1500 draws
        b = np.asarray(ff.matrix, np.float64)
        assert abs(b.std() - 2.5) < 0.15 and abs(b.mean()) < 0.15
        x = np.array([0.1, -0.4, 0.7])
        angle = 2 * np.pi * b @ x
        out = ff(jnp.asarray(x, dtype))
        assert out.dtype == dtype
        rtol = 1e-12 if use_x64 else 2e-4
        np.testing.assert_allclose(np.asarray(out), np.concatenate([np.cos(angle), np.sin(angle)]),
                                   rtol=rtol, atol=rtol)


def test_rwf_layer_equals_the_layer_it_factorizes(x64):
    x = jnp.array([0.3, -1.2], jnp.float64)
    for out in (8, "scalar"):
        linear = eqx.nn.Linear(2, out, key=KEY, dtype=jnp.float64)
        layer = pinn.RWFLinear.from_linear(linear, key=jax.random.key(1), mu=1.0, sigma=0.5)
        assert _call(layer, x).shape == _call(linear, x).shape
        np.testing.assert_allclose(_call(layer, x), _call(linear, x), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(layer.weight, linear.weight, rtol=1e-15)
        # the direction is rescaled: V = W / exp(s), s drawn per output unit
        assert not np.allclose(layer.direction, linear.weight)
    no_bias = eqx.nn.Linear(2, 8, use_bias=False, key=KEY, dtype=jnp.float64)
    layer = pinn.RWFLinear.from_linear(no_bias, key=KEY)
    assert layer.bias is None
    np.testing.assert_allclose(_call(layer, x), _call(no_bias, x), rtol=1e-14)


def test_rwf_log_scales_follow_their_normal_distribution():
    layer = pinn.RWFLinear(2, 4000, key=KEY, mu=0.5, sigma=0.2)
    s = np.asarray(layer.log_scale)
    assert abs(s.mean() - 0.5) < 0.02 and abs(s.std() - 0.2) < 0.02
    # the effective weight keeps eqx.nn.Linear's initialization, uniform in +-1/sqrt(fan_in)
    w = np.asarray(layer.weight)
    assert np.abs(w).max() <= 1 / np.sqrt(2) * (1 + 1e-6) and np.abs(w).max() > 0.6


def _nets(kind):
    """The networks the tests share (one shape: 2 inputs, width 8, depth 2; compiled once)."""
    k1, k2 = _keys(2)
    embedding = pinn.FourierFeatures(2, 4, 1.0, key=k2)
    cls = pinn.PINNMLP if kind == "PINNMLP" else pinn.ModifiedMLP
    return cls(2, 8, 2, key=k1), cls(2, 8, 2, key=k1, embedding=embedding, rwf=(1.0, 0.1))


@pytest.fixture(scope="module")
def nets():
    return {kind: _nets(kind) for kind in ("PINNMLP", "ModifiedMLP")}


def _call(model, x):
    return eqx.filter_jit(lambda m, p: m(p))(model, x)


def test_pinnmlp_without_options_is_an_eqx_mlp(nets):
    net = nets["PINNMLP"][0]
    mlp = eqx.nn.MLP(2, "scalar", 8, 2, jnp.tanh, key=jax.random.key(5))
    mlp = eqx.tree_at(lambda m: [lay.weight for lay in m.layers], mlp, [lay.weight for lay in net.layers])
    mlp = eqx.tree_at(lambda m: [lay.bias for lay in m.layers], mlp, [lay.bias for lay in net.layers])
    x = jnp.array([0.3, -0.8])
    np.testing.assert_allclose(_call(net, x), _call(mlp, x), rtol=1e-6)


def _tanh_linear(w, b, h):
    return np.tanh(w @ h + b)


def _weight(lay):  # W = diag(exp(s)) V for a factorized layer
    if isinstance(lay, pinn.RWFLinear):
        return np.exp(np.asarray(lay.log_scale, np.float64))[:, None] * np.asarray(lay.direction, np.float64)
    return np.asarray(lay.weight, np.float64)


@pytest.mark.parametrize("options", ["plain", "fourier+rwf"])
def test_modified_mlp_matches_the_formula(nets, options):
    net = nets["ModifiedMLP"][options != "plain"]
    layers = (net.encoder_u, net.encoder_v, *net.layers, net.readout)
    assert all(isinstance(lay, pinn.RWFLinear if options != "plain" else eqx.nn.Linear) for lay in layers)
    x = np.array([0.25, -0.6])
    if net.embedding is None:
        h0 = x
    else:
        angle = 2 * np.pi * np.asarray(net.embedding.matrix, np.float64) @ x
        h0 = np.concatenate([np.cos(angle), np.sin(angle)])
    bias = lambda lay: np.asarray(lay.bias, np.float64)
    u = _tanh_linear(_weight(net.encoder_u), bias(net.encoder_u), h0)
    v = _tanh_linear(_weight(net.encoder_v), bias(net.encoder_v), h0)
    h = h0
    for lay in net.layers:
        z = _tanh_linear(_weight(lay), bias(lay), h)
        h = z * u + (1 - z) * v
    expected = (_weight(net.readout) @ h + bias(net.readout))[0]
    got = _call(net, jnp.asarray(x, jnp.float32))
    assert got.shape == () and got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), expected, rtol=2e-5, atol=2e-6)


def test_networks_in_float64(x64):
    k1, k2 = _keys(2)
    net = pinn.ModifiedMLP(2, 3, 1, key=k1, dtype=jnp.float64,
                           embedding=pinn.FourierFeatures(2, 2, 1.0, key=k2, dtype=jnp.float64), rwf=(1.0, 0.1))
    leaves = jax.tree_util.tree_leaves(eqx.filter(net, eqx.is_inexact_array))
    assert all(leaf.dtype == jnp.float64 for leaf in leaves)
    x = np.array([0.1, 0.9])
    angle = 2 * np.pi * np.asarray(net.embedding.matrix) @ x
    h0 = np.concatenate([np.cos(angle), np.sin(angle)])
    u = _tanh_linear(_weight(net.encoder_u), np.asarray(net.encoder_u.bias), h0)
    v = _tanh_linear(_weight(net.encoder_v), np.asarray(net.encoder_v.bias), h0)
    z = _tanh_linear(_weight(net.layers[0]), np.asarray(net.layers[0].bias), h0)
    expected = (_weight(net.readout) @ (z * u + (1 - z) * v) + np.asarray(net.readout.bias))[0]
    got = _call(net, jnp.asarray(x))
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(float(got), expected, rtol=1e-13)


@pytest.mark.parametrize("kind", ["PINNMLP", "ModifiedMLP"])
def test_networks_jit_vmap_grad_and_taylor_backends(nets, kind):
    net = nets[kind][1]

    @eqx.filter_jit
    def everything(m, x):
        _, lap = taylor.Exact()(taylor.laplacian(2), m, x)
        return (jax.vmap(m)(jnp.stack([x, 2 * x])), jax.grad(m)(x), eqx.filter_grad(lambda m: m(x))(m),
                lap, jnp.trace(jax.hessian(m)(x)))

    values, grad_x, grads, lap, hessian_trace = everything(net, jnp.array([0.3, 0.6]))
    assert values.shape == (2,) and values.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(grad_x)))
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree_util.tree_leaves(grads))
    assert float(jnp.max(jnp.abs(grads.embedding.matrix))) == 0.0  # B is not trained
    # the Laplacian by the package's Taylor-mode backend equals the Hessian's trace
    np.testing.assert_allclose(lap, hessian_trace, rtol=1e-4, atol=1e-4)


def test_networks_build_in_a_vmap_over_keys():
    build = eqx.filter_jit(eqx.filter_vmap(lambda k: pinn.ModifiedMLP(2, 8, 2, key=k, rwf=(1.0, 0.1))))
    nets = build(_keys(3))
    out = eqx.filter_jit(eqx.filter_vmap(lambda m: m(jnp.array([0.5, 0.5]))))(nets)
    assert out.shape == (3,) and len(set(np.asarray(out).tolist())) == 3


def test_fourier_embedding_is_not_updated_by_fit(nets):
    net = nets["PINNMLP"][1]
    x = jnp.stack([jnp.linspace(0.0, 1.0, 16), jnp.zeros(16)], axis=1)
    target = jnp.sin(2 * jnp.pi * x[:, 0])

    def loss(model, data, key):
        return jnp.mean((jax.vmap(model)(data) - target) ** 2)

    out = core.fit(loss, net, optax.adam(1e-2), steps=20, data=x, key=KEY, chunk=20, progress=False)
    assert float(out.losses[-1]) < float(eqx.filter_jit(loss)(net, x, None))
    np.testing.assert_array_equal(out.model.embedding.matrix, net.embedding.matrix)
    assert not np.allclose(out.model.layers[0].log_scale, net.layers[0].log_scale)
    assert not np.allclose(out.model.layers[0].direction, net.layers[0].direction)
