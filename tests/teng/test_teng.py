"""TENG steppers, fits and baselines against independent references (closed forms, FFT
heat decay, nested jax.jacfwd)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import pytest

from jaxsci.core import RESULTS, num_params, ravel_model, relative_l2
from jaxsci.pde.evolution import Heat2D, grid_points
from jaxsci.teng import (
    EULER,
    HEUN,
    OBTI,
    RK4,
    TDVP,
    TENG,
    Evolution,
    GaussNewton,
    LevenbergMarquardt,
    PeriodicMLP,
    Tableau,
    evolve,
    initial_network,
    operator_values,
)

from ._helpers import heat_exact_of, off_grid

SVD6 = dict(solver=lx.SVD(rcond=1e-6), damping=0.0)  # the settings the figures below used


def _net(key=1, sizes=(4, 10, 2)):
    return PeriodicMLP(2, *sizes, key=jax.random.key(key))


def _err(model, x, ref):
    return float(relative_l2(jax.vmap(model)(x), ref))


def test_periodic_network_is_exactly_periodic(x64, key):
    net = PeriodicMLP(2, 4, 8, 2, key=key)
    x = jax.random.uniform(key, (16, 2), minval=0.0, maxval=6.0)
    for shift in (jnp.array([2 * jnp.pi, 0.0]), jnp.array([0.0, -2 * jnp.pi])):
        assert jnp.allclose(jax.vmap(net)(x), jax.vmap(net)(x + shift[None]), atol=1e-12)
    assert net.amp.dtype == jnp.float64


def test_network_float32_by_default(key):
    net = PeriodicMLP(2, 2, 4, 1, key=key)
    assert net(jnp.zeros(2)).dtype == jnp.float32


def test_features_and_readout_reproduce_the_network(x64):
    net = _net()
    x = off_grid(4)
    last = net.mlp.layers[-1]
    by_parts = jax.vmap(net.features)(x) @ last.weight[0] + last.bias[0]
    assert jnp.max(jnp.abs(by_parts - jax.vmap(net)(x))) < 1e-14
    swapped = net.with_readout(2 * last.weight[0], last.bias[0])
    assert jnp.max(jnp.abs(jax.vmap(swapped)(x) - 2 * by_parts + last.bias[0])) < 1e-13


def test_operator_values_match_nested_jacfwd(x64):
    net = _net()
    x = off_grid(3)
    lap = jax.vmap(lambda p: jnp.trace(jax.jacfwd(jax.jacfwd(net))(p)))(x)
    assert jnp.max(jnp.abs(operator_values(net, Heat2D(), x) - 0.1 * lap)) < 1e-12


def test_gauss_newton_fit_recovers_a_perturbed_network(x64):
    """Targets made by the network itself with perturbed parameters are fitted to ~1e-9
    by a few Gauss-Newton iterations (a zero-residual problem)."""
    net = _net(sizes=(3, 6, 1))
    pts = grid_points(12)
    theta, rebuild = ravel_model(net)
    target_net = rebuild(theta + 1e-3 * jax.random.normal(jax.random.key(5), theta.shape))
    target = jax.vmap(target_net)(pts)
    sol = GaussNewton(iterations=4, solver=lx.SVD(rcond=1e-10), damping=0.0)(net, pts, target)
    assert _err(sol.model, pts, target) < 1e-9
    assert abs(float(sol.residual) - _err(sol.model, pts, target)) < 1e-15
    assert int(sol.iterations) == 4 and sol.result == RESULTS.successful
    subset = GaussNewton(iterations=30, num_columns=20, solver=lx.SVD(rcond=1e-10), damping=0.0)(
        net, pts, target, key=jax.random.key(2))
    assert _err(subset.model, pts, target) < 1e-4
    # the default (normal equations, damping 1e-12) in float64 fits as well
    default = GaussNewton()(net, pts, target)
    assert _err(default.model, pts, target) < 1e-8


def test_levenberg_marquardt_fit_is_monotone_and_projection_helps(x64):
    p = Heat2D()
    pts = grid_points(16)
    target = p.initial(pts)
    net = _net(0, (4, 8, 2))
    assert num_params(net) < pts.shape[0]
    fit = eqx.filter_jit(lambda m, proj: LevenbergMarquardt(iterations=20, projection=proj)(
        m, pts, target))
    errs = {}
    for proj in (False, True):
        m, history = net, []
        for _ in range(3):
            sol = fit(m, proj)
            m = sol.model
            history.append(float(sol.residual))
        assert all(b <= a for a, b in zip(history, history[1:])), history
        assert abs(history[-1] - _err(m, pts, target)) < 1e-12
        errs[proj] = history[-1]
    assert errs[True] < 1e-3
    assert errs[True] < 0.3 * errs[False], errs


def test_initial_network_is_the_shared_set_up(x64):
    p, pts = Heat2D(), grid_points(10)
    sol = initial_network(p, pts, key=jax.random.key(0), embed=2, width=6, depth=1,
                          fit=LevenbergMarquardt(iterations=30))
    direct = LevenbergMarquardt(iterations=30)(
        PeriodicMLP(2, 2, 6, 1, key=jax.random.key(0)), pts, p.initial(pts))
    assert abs(float(sol.residual) - float(direct.residual)) < 1e-12
    assert float(sol.residual) < 0.05


def test_teng_heun_keeps_heat_error_below_1e6(x64):
    """Heat equation from the network's own initial state (so no initial fit error): the
    exact solution is the FFT decay of its Fourier modes. Three TENG-Heun steps keep the
    relative L2 error at off-grid points below 1e-6."""
    net, p, pts, x = _net(), Heat2D(), grid_points(20), off_grid()
    dt, n = 0.005, 3
    stepper = TENG(HEUN, fit=GaussNewton(iterations=3, **SVD6))
    step = eqx.filter_jit(lambda m: stepper(p, m, pts, 0.0, dt).model)
    model = net
    for _ in range(n):
        model = step(model)
    exact = heat_exact_of(net, p.nu, n * dt, x)
    moved = _err(net, x, exact)
    err = _err(model, x, exact)
    assert err < 1e-6, err
    assert err < 1e-2 * moved  # the solution did move by much more than the error


class _FourierModes(eqx.Module):
    """``u(x) = sum_j c_j cos(k_j . x + phi_j)`` with trainable ``c``: the heat flow stays in
    this family (``c_j(t) = c_j e^{-nu |k_j|^2 t}``) and the fit is linear, so a TENG step has
    no projection or fit error and only the time stepping is left."""

    coef: jax.Array
    k: tuple = eqx.field(static=True)
    phase: tuple = eqx.field(static=True)

    def __call__(self, x):
        k = jnp.asarray(self.k, x.dtype)
        return jnp.sum(self.coef * jnp.cos(k @ x + jnp.asarray(self.phase, x.dtype)))


# Stability functions R(z) of the tableaus (Butcher 2016, Sec. 23): one step multiplies
# a mode of u' = -lam u by R(-lam dt).
_STABILITY = {
    "euler": lambda z: 1 + z,
    "heun": lambda z: 1 + z + z**2 / 2,
    "rk4": lambda z: 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24,
    "rk4 with the weights 1/4": lambda z: 1 + z + z**2 / 2 + 3 * z**3 / 16 + z**4 / 16,
}
_WRONG_RK4 = Tableau("rk4 with the weights 1/4", RK4.a, (0.25, 0.25, 0.25, 0.25))


@pytest.mark.parametrize(
    ("tableau", "order"), [(EULER, 1), (HEUN, 2), (RK4, 4), (_WRONG_RK4, 2)],
    ids=["euler", "heun", "rk4", "rk4_wrong_weights"],
)
def test_teng_convergence_order_where_the_fit_is_exact(x64, tableau, order):
    """The log-log slope of the error against dt is the order of the tableau (within 0.3),
    on heat with a family that holds the exact solution (so the error is the time stepping
    error alone, well above the ~1e-14 floor of the float64 least squares), and every
    step multiplies each mode by the tableau's stability function R(-lam dt) (closed form).
    RK4's stages with the weights 1/4 everywhere are only second order: the slope tells.
    docs/teng.md explains the error floor of a network that cannot hold the solution."""
    k = ((1, 0), (0, 1), (1, 1), (2, -1), (0, 2), (2, 1))
    c0 = np.array([1.0, -0.7, 0.5, 0.4, -0.3, 0.2])
    model = _FourierModes(jnp.asarray(c0), k, (0.3, -1.0, 0.5, 0.0, 1.2, -0.4))
    problem, pts, T = Heat2D(nu=0.1), grid_points(8), 1.0
    lam = problem.nu * np.array([a * a + b * b for a, b in k])
    stepper = TENG(tableau, fit=GaussNewton(iterations=1, solver=lx.SVD(rcond=1e-12), damping=0.0))

    @eqx.filter_jit
    def run(m, dt, n):
        def body(_, c):
            new = stepper.step(problem, eqx.tree_at(lambda mm: mm.coef, m, c), pts, 0.0, dt)
            return new.model.coef
        return jax.lax.fori_loop(0, n, body, m.coef)

    dts = np.array([0.2, 0.1, 0.05, 0.025])
    errs = []
    for dt in dts:
        n = round(T / dt)
        coef = np.asarray(run(model, jnp.asarray(dt), jnp.asarray(n)))  # traced: 1 compile
        stepped = c0 * _STABILITY[tableau.name](-lam * dt) ** n
        assert np.max(np.abs(coef - stepped)) < 1e-13, (dt, coef - stepped)
        errs.append(np.linalg.norm(coef - c0 * np.exp(-lam * T)) / np.linalg.norm(c0))
    assert min(errs) > 1e-12, errs  # all well above the rounding floor
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.3, (slope, errs)


@pytest.mark.heavy
def test_higher_order_tableaus_are_more_accurate(x64):
    """At equal dt TENG-Heun beats TENG-Euler and TENG-RK4 beats TENG-Heun, on heat from a
    PeriodicMLP's own state (exact FFT decay as the reference). This network cannot hold
    the heat flow, so each step leaves a fit error: past dt = 0.025 Heun's error stops
    falling (an error floor near 5e-6, docs/teng.md); the order itself is checked by
    test_teng_convergence_order_where_the_fit_is_exact."""
    net, p, pts, x = _net(), Heat2D(), grid_points(20), off_grid()
    T = 0.2
    exact = heat_exact_of(net, p.nu, T, x)
    errs = {}
    for name, tab in (("euler", EULER), ("heun", HEUN), ("rk4", RK4)):
        stepper = TENG(tab, fit=GaussNewton(iterations=3, **SVD6))
        for dt in (0.05, 0.025) if name != "rk4" else (0.05,):
            model = net
            for block in range(round(T / dt) // 4):  # blocks of 4 steps: one compilation
                out = evolve(stepper, p, model, dt, 4, points=pts, t0=4 * block * dt)
                assert isinstance(out, Evolution) and out.result == RESULTS.successful
                model = out.model
            errs[name, dt] = _err(model, x, exact)
    assert errs["euler", 0.05] > 3 * errs["euler", 0.025], errs
    assert errs["heun", 0.05] > 1.5 * errs["heun", 0.025], errs
    assert errs["heun", 0.025] < 0.3 * errs["euler", 0.025], errs
    assert errs["rk4", 0.05] < errs["heun", 0.05], errs


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_tdvp_tracks_heat_and_obti_runs(x64):
    net, p, pts, x = _net(), Heat2D(), grid_points(20), off_grid()
    exact = heat_exact_of(net, p.nu, 0.02, x)
    tdvp = evolve(TDVP(), p, net, 0.01, 2, points=pts)
    assert _err(tdvp.model, x, exact) < 1e-5
    adam = evolve(OBTI(optax.adam(1e-4), steps=20), p, net, 0.01, 2, points=pts)
    lbfgs = evolve(OBTI(optax.lbfgs(), steps=10), p, net, 0.01, 2, points=pts)
    for out in (adam, lbfgs):
        e = _err(out.model, x, exact)
        assert np.isfinite(e) and e < 0.1


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_swapping_the_stepper_is_one_object(x64):
    """TENG -> TDVP -> OBTI by changing the stepper only; the result has the documented
    fields (times, per-step residuals, errors from `evaluate`, wall time, result)."""
    net, p, pts = _net(sizes=(2, 4, 1)), Heat2D(), grid_points(6)
    x = off_grid(5)
    exact = heat_exact_of(net, p.nu, 0.03, x)
    evaluate = lambda m, t: relative_l2(jax.vmap(m)(x), p.exact(x, t))
    for stepper in (TENG(fit=GaussNewton(iterations=2)), TDVP(), OBTI(optax.adam(1e-4), 5)):
        out = evolve(stepper, p, net, 0.01, 3, points=pts, evaluate=evaluate)
        np.testing.assert_allclose(np.asarray(out.times), [0.01, 0.02, 0.03], rtol=1e-12)
        assert out.residuals.shape == (3,) and out.errors.shape == (3,)
        assert np.all(np.isfinite(np.asarray(out.errors)))
        assert out.wall_time > 0 and out.result == RESULTS.successful
        assert np.isfinite(_err(out.model, x, exact))


@pytest.mark.heavy
def test_steppers_under_jit_and_vmap(x64):
    p, pts = Heat2D(), grid_points(8)
    nets = eqx.filter_vmap(lambda k: PeriodicMLP(2, 2, 4, 1, key=k))(
        jax.random.split(jax.random.key(0), 2))
    euler = TENG(EULER, fit=GaussNewton(iterations=1, **SVD6))
    stepped = eqx.filter_jit(eqx.filter_vmap(
        lambda m: euler(p, m, pts, 0.0, 0.01).model))(nets)
    one = jax.tree_util.tree_map(lambda a: a[1] if eqx.is_array(a) else a, nets)
    single = eqx.filter_jit(lambda m: euler(p, m, pts, 0.0, 0.01).model)(one)
    got = jax.vmap(jax.tree_util.tree_map(lambda a: a[1] if eqx.is_array(a) else a, stepped))(pts)
    assert jnp.max(jnp.abs(got - jax.vmap(single)(pts))) < 1e-10
    # dt traced under jit, gradient of the stepped output with respect to dt
    f = eqx.filter_jit(lambda m, dt: jnp.sum(jax.vmap(TDVP()(p, m, pts, 0.0, dt).model)(pts)))
    g = jax.grad(lambda dt: f(one, dt))(0.01)
    fd = (f(one, 0.011) - f(one, 0.009)) / 0.002
    assert jnp.isfinite(g) and abs(g - fd) < 1e-4 * (1 + abs(fd))


def test_evolve_equals_repeated_steps(x64):
    net, p, pts = _net(sizes=(2, 4, 1)), Heat2D(), grid_points(6)
    heun = TENG(HEUN, fit=GaussNewton(iterations=1, **SVD6))
    step = eqx.filter_jit(lambda m: heun(p, m, pts, 0.0, 0.01).model)
    looped = eqx.filter_jit(lambda m: evolve(heun, p, m, 0.01, 2, points=pts).model)(net)
    m = step(step(net))
    assert jnp.max(jnp.abs(jax.vmap(looped)(pts) - jax.vmap(m)(pts))) < 1e-12


def test_random_columns_are_reproducible_from_the_key(x64):
    net, p, pts = _net(sizes=(2, 4, 1)), Heat2D(), grid_points(6)
    rsng = TENG(EULER, fit=GaussNewton(iterations=2, num_columns=10, **SVD6))
    a = evolve(rsng, p, net, 0.01, 2, points=pts, key=jax.random.key(3)).model
    b = evolve(rsng, p, net, 0.01, 2, points=pts, key=jax.random.key(3)).model
    c = evolve(rsng, p, net, 0.01, 2, points=pts, key=jax.random.key(4)).model
    assert jnp.max(jnp.abs(jax.vmap(a)(pts) - jax.vmap(b)(pts))) == 0
    assert jnp.max(jnp.abs(jax.vmap(a)(pts) - jax.vmap(c)(pts))) > 0


def test_tableaus_are_consistent():
    for tab in (EULER, HEUN, RK4):
        assert abs(sum(tab.b) - 1.0) < 1e-15
        assert len(tab.a) == tab.stages
        assert isinstance(tab, eqx.Module)


@pytest.mark.heavy  # 10-25 s: keeps the default suite under 15 minutes on 2 cores
def test_default_gauss_newton_in_float32_fails_with_a_clear_message(key):
    """The recommended setting (normal equations, damping 1e-12) is for float64: in float32
    the damped Gram matrix is not positive definite in floating point. The failure names the
    setting and the fix; with throw=False it is a result code and the network stays finite."""
    net, p, pts = PeriodicMLP(2, 4, 10, 2, key=key), Heat2D(), grid_points(12)
    out = evolve(TENG(), p, net, 0.01, 2, points=pts, throw=False)
    if out.result == RESULTS.successful:  # pragma: no cover - depends on the rounding
        pytest.skip("the float32 Cholesky happened to succeed on this machine")
    assert np.all(np.isfinite(np.asarray(jax.vmap(out.model)(pts))))
    with pytest.raises(Exception, match="jax_enable_x64"):
        evolve(TENG(), p, net, 0.01, 2, points=pts)


def test_points_outside_the_domain_are_caught_under_jit(key):
    """Traced points cannot be checked in Python; the steppers attach a runtime check."""
    p, net = Heat2D(), PeriodicMLP(2, 2, 4, 1, key=key)
    euler = TENG(EULER, fit=GaussNewton(iterations=1, **SVD6))
    step = eqx.filter_jit(lambda m, pts: euler(p, m, pts, 0.0, 0.1).model)
    step(net, grid_points(4))  # inside: runs
    with pytest.raises(Exception, match=r"\[0, 2pi\)"):
        jax.block_until_ready(step(net, grid_points(4) - 0.5))
    with pytest.raises(Exception, match=r"\[0, 2pi\)"):
        jax.block_until_ready(eqx.filter_jit(
            lambda m, pts: evolve(TDVP(), p, m, 0.1, 1, points=pts).model)(net, grid_points(4) + 7.0))


def test_traced_negative_dt_is_caught(key):
    p, net, pts = Heat2D(), PeriodicMLP(2, 2, 4, 1, key=key), grid_points(4)
    run = eqx.filter_jit(lambda m, dt: evolve(TDVP(), p, m, dt, 1, points=pts).model)
    run(net, jnp.asarray(0.01))
    with pytest.raises(Exception, match="`dt` must be > 0"):
        jax.block_until_ready(run(net, jnp.asarray(-0.01)))
