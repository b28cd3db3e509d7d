import equinox as eqx
import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import core


@pytest.mark.parametrize("n, chunk", [(10, 3), (12, 4), (5, 8), (1, 1)])
def test_chunked_vmap_equals_vmap(n, chunk):
    xs = jnp.arange(n * 2.0).reshape(n, 2)
    scale = jnp.array([1.0, -2.0])
    f = lambda x, s: jnp.sin(x) * s  # noqa: E731
    expected = jax.vmap(f, in_axes=(0, None))(xs, scale)
    got = core.chunked_vmap(f, in_axes=(0, None), chunk_size=chunk)(xs, scale)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    got_jit = jax.jit(core.chunked_vmap(f, in_axes=(0, None), chunk_size=chunk))(xs, scale)
    np.testing.assert_allclose(got_jit, expected, rtol=1e-6)


def test_chunked_vmap_pytree_outputs_and_grad():
    xs = jnp.linspace(0, 1, 7)
    f = lambda x: {"a": x**2, "b": jnp.stack([x, 2 * x])}  # noqa: E731
    out = core.chunked_vmap(f, chunk_size=3)(xs)
    assert out["a"].shape == (7,) and out["b"].shape == (7, 2)
    g = jax.grad(lambda xs: core.chunked_vmap(lambda x: x**3, chunk_size=2)(xs).sum())(xs)
    np.testing.assert_allclose(g, 3 * xs**2, rtol=1e-6)


def test_ravel_model_round_trip():
    model = eqx.nn.MLP(3, 1, 8, 2, key=jax.random.key(0))
    theta, rebuild = core.ravel_model(model)
    assert theta.shape == (core.num_params(model),)
    x = jnp.ones(3)
    np.testing.assert_allclose(rebuild(theta)(x), model(x))
    np.testing.assert_allclose(rebuild(theta * 0)(x), jnp.zeros(1))


def test_jacobian_wrt_params_matches_jacfwd():
    theta = jnp.array([0.3, -1.2, 0.7])
    fn = lambda t, x: jnp.sin(t[0] * x) + t[1] * x**2 + jnp.exp(t[2] * x)  # noqa: E731
    xs = jnp.linspace(-1, 1, 11)
    jac = core.jacobian_wrt_params(fn, theta, xs, chunk_size=4)
    ref = jax.jacfwd(lambda t: jax.vmap(lambda x: fn(t, x))(xs))(theta)
    np.testing.assert_allclose(jac, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["svd", "qr", "normal_cholesky"])
def test_least_squares_matches_numpy(x64, method):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 7))
    b = rng.normal(size=40)
    expected = np.linalg.lstsq(a, b, rcond=None)[0]
    got = core.least_squares(jnp.asarray(a), jnp.asarray(b), method=method)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_least_squares_damping_is_ridge(x64):
    rng = np.random.default_rng(1)
    a, b, lam = rng.normal(size=(20, 5)), rng.normal(size=20), 0.3
    ridge = np.linalg.solve(a.T @ a + lam * np.eye(5), a.T @ b)
    for method in ("svd", "qr", "normal_cholesky"):
        got = core.least_squares(jnp.asarray(a), jnp.asarray(b), damping=lam, method=method)
        np.testing.assert_allclose(got, ridge, rtol=1e-9)


def test_least_squares_minimum_norm_underdetermined(x64):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 8)), rng.normal(size=3)
    got = core.least_squares(jnp.asarray(a), jnp.asarray(b))
    np.testing.assert_allclose(got, np.linalg.pinv(a) @ b, rtol=1e-9)


def test_gauss_newton_solves_linear_problem_in_one_step(x64):
    rng = np.random.default_rng(3)
    a, b = jnp.asarray(rng.normal(size=(30, 4))), jnp.asarray(rng.normal(size=30))
    params = {"w": jnp.zeros(4)}
    new, _ = core.gauss_newton_step(lambda p: a @ p["w"] - b, params)
    np.testing.assert_allclose(new["w"], np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-9)


def test_gauss_newton_converges_on_nonlinear_fit(x64):
    xs = jnp.linspace(0, 1, 50)
    ys = 2.0 * jnp.exp(-1.5 * xs)
    params = jnp.array([1.0, -1.0])
    step = jax.jit(lambda p: core.gauss_newton_step(lambda q: q[0] * jnp.exp(q[1] * xs) - ys, p))
    for _ in range(10):
        params, _ = step(params)
    np.testing.assert_allclose(params, [2.0, -1.5], rtol=1e-10)


def test_sample_without_replacement_is_distinct_and_uniform():
    keys = jax.random.split(jax.random.key(0), 4000)
    draws = jax.vmap(lambda k: core.sample_without_replacement(k, 10, 3))(keys)
    assert all(len(set(np.asarray(row).tolist())) == 3 for row in draws[:50])
    counts = np.bincount(np.asarray(draws).ravel(), minlength=10) / draws.size
    np.testing.assert_allclose(counts, 0.1, atol=0.01)


@pytest.mark.parametrize("population, num", [(6, 2), (5, 3)])
def test_sample_without_replacement_gives_uniform_subsets(population, num):
    # (6, 2) uses the redraw-repeats path, (5, 3) the top-k path: every subset equally likely
    import itertools

    keys = jax.random.split(jax.random.key(1), 30000)
    draws = np.sort(np.asarray(jax.vmap(lambda k: core.sample_without_replacement(k, population, num))(keys)), axis=1)
    subsets = list(itertools.combinations(range(population), num))
    counts = np.array([np.all(draws == np.array(s), axis=1).sum() for s in subsets])
    assert counts.sum() == len(draws)
    expected = len(draws) / len(subsets)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 3 * len(subsets), chi2  # far below any plausible bias


def test_random_tangents_have_identity_second_moment():
    for dist in ("rademacher", "gaussian"):
        v = core.random_tangents(jax.random.key(1), 20000, 4, dist)
        np.testing.assert_allclose(v.T @ v / 20000, np.eye(4), atol=0.05)


def test_key_helpers():
    k = core.as_key(3)
    assert core.is_prng_key(k) and core.is_prng_key(jax.random.PRNGKey(0))
    keys = core.split_like(k, {"a": 1, "b": (2, 3)})
    assert len(jax.tree_util.tree_leaves(keys)) == 3


def test_enable_x64_restores_setting():
    before = core.x64_enabled()
    with core.enable_x64(True):
        assert core.default_float_dtype() == jnp.float64
    assert core.x64_enabled() == before


def test_enable_x64_bare_call_warns_and_changes_nothing():
    before = core.x64_enabled()
    with pytest.warns(UserWarning, match="is a context manager"):
        core.enable_x64()  # the mistake: a call without `with`
    assert core.x64_enabled() == before
    with core.enable_x64(not before):  # nested blocks restore in order
        with core.enable_x64(before):
            assert core.x64_enabled() == before
        assert core.x64_enabled() == (not before)
    assert core.x64_enabled() == before

    @core.enable_x64()
    def dtype():
        return jnp.ones(1).dtype

    assert dtype() == jnp.float64 and core.x64_enabled() == before


def test_progress_bar_reports_from_inside_jit():
    stream = io.StringIO()
    bar = core.ProgressBar(total=100, desc="t", every=25, file=stream)

    def body(carry, i):
        bar.tick(i, loss=carry)
        return carry + 1.0, None

    jax.block_until_ready(jax.jit(lambda: jax.lax.scan(body, 0.0, jnp.arange(100)))())
    jax.effects_barrier()
    lines = stream.getvalue().strip().splitlines()
    assert [line.split("]")[1].split()[0] for line in lines] == ["1/100", "26/100", "51/100", "76/100", "100/100"]
    assert "loss=9.900e+01" in lines[-1]


def test_check_finite_raises_inside_jit():
    f = jax.jit(lambda x: core.check_finite(jnp.log(x), "log of a negative number"))
    assert jnp.isfinite(f(1.0))
    with pytest.raises(Exception, match="log of a negative number"):
        jax.block_until_ready(f(-1.0))
