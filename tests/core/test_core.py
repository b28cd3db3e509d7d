import io

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import pytest

from jaxsci import core, internal


@pytest.mark.parametrize("n, chunk", [(10, 3), (12, 4), (5, 8), (1, 1)])
def test_chunked_vmap_equals_vmap(n, chunk):
    xs = jnp.arange(n * 2.0).reshape(n, 2)
    scale = jnp.array([1.0, -2.0])
    f = lambda x, s: jnp.sin(x) * s
    expected = jax.vmap(f, in_axes=(0, None))(xs, scale)
    got = core.chunked_vmap(f, in_axes=(0, None), chunk_size=chunk)(xs, scale)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    got_jit = jax.jit(core.chunked_vmap(f, in_axes=(0, None), chunk_size=chunk))(xs, scale)
    np.testing.assert_allclose(got_jit, expected, rtol=1e-6)


def test_chunked_vmap_pytree_outputs_and_grad():
    xs = jnp.linspace(0, 1, 7)
    f = lambda x: {"a": x**2, "b": jnp.stack([x, 2 * x])}
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
    fn = lambda t, x: jnp.sin(t[0] * x) + t[1] * x**2 + jnp.exp(t[2] * x)
    xs = jnp.linspace(-1, 1, 11)
    jac = core.jacobian_wrt_params(fn, theta, xs, chunk_size=4)
    ref = jax.jacfwd(lambda t: jax.vmap(lambda x: fn(t, x))(xs))(theta)
    np.testing.assert_allclose(jac, ref, rtol=1e-5, atol=1e-6)


SOLVERS = {"svd": lx.SVD(), "qr": lx.QR(), "normal_cholesky": lx.Normal(lx.Cholesky())}


@pytest.mark.parametrize("method", sorted(SOLVERS))
def test_least_squares_matches_numpy(x64, method):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 7))
    b = rng.normal(size=40)
    expected = np.linalg.lstsq(a, b, rcond=None)[0]
    got = core.least_squares(jnp.asarray(a), jnp.asarray(b), solver=SOLVERS[method]).value
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_least_squares_damping_is_ridge(x64):
    rng = np.random.default_rng(1)
    a, b, lam = rng.normal(size=(20, 5)), rng.normal(size=20), 0.3
    ridge = np.linalg.solve(a.T @ a + lam * np.eye(5), a.T @ b)
    for solver in SOLVERS.values():
        got = core.least_squares(jnp.asarray(a), jnp.asarray(b), damping=lam, solver=solver).value
        np.testing.assert_allclose(got, ridge, rtol=1e-9)


def test_least_squares_minimum_norm_underdetermined(x64):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 8)), rng.normal(size=3)
    got = core.least_squares(jnp.asarray(a), jnp.asarray(b)).value
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
    draws = jax.vmap(lambda k: core.sample_without_replacement(10, 3, key=k))(keys)
    assert all(len(set(np.asarray(row).tolist())) == 3 for row in draws[:50])
    counts = np.bincount(np.asarray(draws).ravel(), minlength=10) / draws.size
    np.testing.assert_allclose(counts, 0.1, atol=0.01)


@pytest.mark.parametrize("population, num", [(6, 2), (5, 3)])
def test_sample_without_replacement_gives_uniform_subsets(population, num):
    # (6, 2) uses the redraw-repeats path, (5, 3) the top-k path: every subset equally likely
    import itertools

    keys = jax.random.split(jax.random.key(1), 30000)
    draws = np.sort(np.asarray(jax.vmap(lambda k: core.sample_without_replacement(population, num, key=k))(keys)), axis=1)
    subsets = list(itertools.combinations(range(population), num))
    counts = np.array([np.all(draws == np.array(s), axis=1).sum() for s in subsets])
    assert counts.sum() == len(draws)
    expected = len(draws) / len(subsets)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 3 * len(subsets), chi2  # far below any plausible bias


def test_random_tangents_have_identity_second_moment():
    for dist in ("rademacher", "gaussian"):
        v = core.random_tangents(20000, 4, dist, key=jax.random.key(1))
        np.testing.assert_allclose(v.T @ v / 20000, np.eye(4), atol=0.05)


def test_key_helpers():
    k = internal.as_key(3)
    assert internal.is_prng_key(k) and internal.is_prng_key(jax.random.PRNGKey(0))
    keys = core.split_like({"a": 1, "b": (2, 3)}, key=k)
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
    f = jax.jit(lambda x: internal.check_finite(jnp.log(x), "log of a negative number"))
    assert jnp.isfinite(f(1.0))
    with pytest.raises(Exception, match="log of a negative number"):
        jax.block_until_ready(f(-1.0))


def test_least_squares_qr_flags_rank_deficiency():
    # A rank-deficient matrix: QR is not the minimum-norm solution, so it must be refused.
    a, b = jnp.ones((5, 3)), jnp.arange(5.0)
    sol = core.least_squares(a, b, solver=lx.QR(), throw=False)
    assert sol.result == core.RESULTS.rank_deficient
    with pytest.raises(Exception, match="rank deficient"):
        core.least_squares(a, b, solver=lx.QR())
    svd = core.least_squares(a, b)
    np.testing.assert_allclose(svd.value, np.linalg.lstsq(np.ones((5, 3)), np.arange(5.0), rcond=None)[0], rtol=1e-5)


def test_relative_l2_matches_definition():
    pred, ref = jnp.array([[1.0, 2.0], [3.0, 5.0]]), jnp.array([[1.0, 1.0], [3.0, 4.0]])
    assert np.isclose(core.relative_l2(pred, ref), np.sqrt(2.0) / np.sqrt(27.0))
    per_row = core.relative_l2(pred, ref, axis=1)
    np.testing.assert_allclose(per_row, [1 / np.sqrt(2.0), 1 / 5.0], rtol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        core.relative_l2(pred, ref[0])


def _quadratic(model, batch, key):
    return jnp.sum((model - batch) ** 2)


def test_fit_converges_and_records_history():
    out = core.fit(_quadratic, jnp.zeros(3), optax.adam(0.05), steps=450, chunk=100,
                   data=jnp.arange(3.0), key=jax.random.key(0), progress=False)
    np.testing.assert_allclose(out.model, jnp.arange(3.0), atol=1e-3)
    assert out.num_steps == 450 and out.losses.shape == (450,)
    assert out.history_step.tolist() == [100, 200, 300, 400, 450]
    assert out.result == core.RESULTS.successful


def test_fit_resume_equals_uninterrupted_run():
    def noisy(model, batch, key):
        return jnp.sum((model - batch - 0.1 * jax.random.normal(key, model.shape)) ** 2)

    sample = lambda k: jax.random.normal(k, (3,))
    kw = dict(sample=sample, key=jax.random.key(1), progress=False, chunk=20)
    full = core.fit(noisy, jnp.zeros(3), optax.adam(0.01), steps=100, **kw)
    half = core.fit(noisy, jnp.zeros(3), optax.adam(0.01), steps=60, **kw)
    rest = core.fit(noisy, half.model, optax.adam(0.01), steps=100, opt_state=half.opt_state,
                    start_step=60, **kw)
    np.testing.assert_allclose(rest.model, full.model, rtol=1e-6, atol=1e-7)


def test_fit_nonfinite_gradient_with_finite_loss_is_caught():
    # sqrt at 0 has an infinite derivative: the loss stays finite, the parameters do not.
    def loss(model, batch, key):
        return jnp.sum(jnp.sqrt(jnp.abs(model)))

    with pytest.raises(FloatingPointError, match="NaN/inf"):
        core.fit(loss, jnp.zeros(2), optax.sgd(0.1), steps=10, key=jax.random.key(0), progress=False)
    out = core.fit(loss, jnp.zeros(2), optax.sgd(0.1), steps=10, key=jax.random.key(0),
                   progress=False, throw=False)
    assert out.result == core.RESULTS.nonfinite_values
    assert np.all(np.isfinite(out.model))


def test_fit_ensemble_isolates_a_failing_member():
    def loss(model, batch, key):
        return jnp.sum((model - batch) ** 2) + jnp.where(model[0] < -5.0, jnp.nan, 0.0)

    start = jnp.zeros((3, 2)).at[1].set(-10.0)  # member 1 starts where its loss is NaN
    out = core.fit(loss, start, optax.sgd(0.1), steps=100, chunk=50, data=jnp.ones(2),
                   key=jax.random.key(0), progress=False, ensemble=True, throw=False)
    failed = np.asarray(jax.vmap(lambda r: r == core.RESULTS.nonfinite_values)(out.result))
    assert failed.tolist() == [False, True, False]
    np.testing.assert_allclose(out.model[0], 1.0, atol=1e-4)
    np.testing.assert_allclose(out.model[2], 1.0, atol=1e-4)


def test_fit_wall_time_budget_and_bad_arguments():
    out = core.fit(_quadratic, jnp.zeros(3), optax.sgd(0.1), steps=10**7, chunk=10,
                   data=jnp.ones(3), key=jax.random.key(0), progress=False, seconds=0.2,
                   compile_first=True)
    assert out.num_steps < 10**7 and out.result == core.RESULTS.budget_exhausted
    for bad, match in [(dict(steps=0), "steps"), (dict(chunk=0), "chunk"),
                       (dict(steps=5, start_step=9), "start_step")]:
        args = dict(steps=5, key=jax.random.key(0), progress=False) | bad
        with pytest.raises((ValueError, TypeError), match=match):
            core.fit(_quadratic, jnp.zeros(3), optax.sgd(0.1), data=jnp.ones(3), **args)
    with pytest.raises(TypeError, match="optax"):
        core.fit(_quadratic, jnp.zeros(3), "adam", steps=5, key=jax.random.key(0))


def _overshoot(model, batch, key):
    return jnp.sum((model - 2.0) ** 2)


def _validation(model):
    return jnp.abs(model[0] - 1.0)  # best where training passes x = 1 on its way to 2


def test_fit_keep_best_returns_the_best_validated_model():
    kw = dict(steps=200, chunk=5, key=jax.random.key(0), progress=False, evaluate=_validation)
    out = core.fit(_overshoot, jnp.zeros(1), optax.sgd(0.02), keep_best=True, **kw)
    errors = out.history_error
    k = int(np.argmin(errors))
    assert int(out.best_step) == out.history_step[k] and float(out.best_error) == errors[k]
    assert 0 < k < len(errors) - 1  # the validation error went down, then up again
    # an independent run stopped at best_step ends at the best model
    short = core.fit(_overshoot, jnp.zeros(1), optax.sgd(0.02), steps=int(out.best_step), chunk=5,
                     key=jax.random.key(0), progress=False)
    np.testing.assert_allclose(out.best_model, short.model, rtol=1e-12)
    np.testing.assert_allclose(out.model, 2.0, atol=1e-3)  # the last model is returned as well
    assert out.stopped_early is False


def test_fit_patience_stops_after_the_validation_error_stalls():
    kw = dict(steps=10**6, chunk=5, key=jax.random.key(0), progress=False, evaluate=_validation)
    out = core.fit(_overshoot, jnp.zeros(1), optax.sgd(0.02), keep_best=True, patience=3, **kw)
    assert out.stopped_early and out.result == core.RESULTS.successful
    assert out.num_steps == int(out.best_step) + 3 * 5
    # members stop only when none improves; each keeps its own best
    start = jnp.array([[0.0], [-1.0]])
    ens = core.fit(_overshoot, start, optax.sgd(0.02), keep_best=True, patience=3,
                   ensemble=True, **kw)
    assert int(ens.best_step[1]) > int(ens.best_step[0])
    assert ens.num_steps == int(ens.best_step[1]) + 3 * 5
    for member in range(2):
        single = core.fit(_overshoot, start[member], optax.sgd(0.02), steps=int(ens.best_step[member]),
                          chunk=5, key=jax.random.key(0), progress=False)
        np.testing.assert_allclose(ens.best_model[member], single.model, rtol=1e-6)


def test_check_key_accepts_legacy_and_typed_keys():
    typed = internal.check_key(jax.random.PRNGKey(3))
    assert jax.dtypes.issubdtype(typed.dtype, jax.dtypes.prng_key)
    np.testing.assert_array_equal(jax.random.key_data(typed), jax.random.PRNGKey(3))
    with pytest.raises(TypeError, match="is required"):
        internal.check_key(None)


def test_float64_input_with_x64_off_warns_once_clearly():
    with core.enable_x64(False):
        with pytest.warns(core.PrecisionWarning, match="jax_enable_x64"):
            internal.warn_if_truncated(np.ones(3), "points")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            internal.warn_if_truncated(np.ones(3, np.float32), "points")
