"""Distance functions, the Dirichlet ansatz and the field plot."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import core, pde, pinn, taylor
from jaxsci.pde import geometry


def _box_faces(lower, upper, n, key):
    """``n`` points on the faces of the box (a random face each)."""
    lower, upper = np.asarray(lower), np.asarray(upper)
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**30)))
    x = lower + (upper - lower) * rng.uniform(size=(n, lower.size))
    axis = rng.integers(0, lower.size, n)
    side = rng.integers(0, 2, n)
    x[np.arange(n), axis] = np.where(side == 1, upper[axis], lower[axis])
    return jnp.asarray(x)


def test_box_distance_vanishes_on_the_faces_and_peaks_at_one(x64):
    lower, upper = [-1.0, 0.0, 2.0], [1.0, 0.5, 5.0]
    d = pinn.BoxDistance(lower, upper)
    faces = _box_faces(lower, upper, 200, jax.random.key(0))
    np.testing.assert_allclose(jax.vmap(d)(faces), 0.0, atol=1e-15)
    centre = (np.asarray(lower) + np.asarray(upper)) / 2
    assert float(d(jnp.asarray(centre))) == pytest.approx(1.0, abs=1e-15)
    inside = pde.Box(jnp.asarray(lower), jnp.asarray(upper)).sample(500, key=jax.random.key(1))
    values = jax.vmap(d)(inside)
    assert bool(jnp.all(values > 0)) and float(values.max()) <= 1.0
    # its maximum is at the centre: the gradient vanishes there
    np.testing.assert_allclose(jax.grad(d)(jnp.asarray(centre)), 0.0, atol=1e-14)
    assert float(d(jnp.asarray([1.5, 0.25, 3.0]))) < 0  # outside
    # built from a domain, the same function
    for domain in (pde.Box(lower, upper), geometry.Rectangle(lower[:2], upper[:2])):
        of = pinn.BoxDistance.of(domain)
        assert (of.lower, of.upper) == (tuple(domain.lower), tuple(domain.upper))


def test_ball_distance_vanishes_on_the_sphere_and_peaks_at_one(x64):
    d = pinn.BallDistance([1.0, -2.0], 0.5)
    angles = jnp.linspace(0.0, 2 * jnp.pi, 64)
    circle = jnp.stack([1.0 + 0.5 * jnp.cos(angles), -2.0 + 0.5 * jnp.sin(angles)], axis=1)
    np.testing.assert_allclose(jax.vmap(d)(circle), 0.0, atol=1e-14)
    assert float(d(jnp.array([1.0, -2.0]))) == 1.0
    assert float(d(jnp.array([1.0, -1.0]))) < 0
    unit = pinn.BallDistance.of(pde.Ball(4))
    x = jnp.array([0.1, 0.2, -0.3, 0.4])
    assert float(unit(x)) == pytest.approx(1 - float(x @ x), abs=1e-15)
    disk = pinn.BallDistance.of(geometry.Disk([0.5, 0.5], 0.25))
    assert disk.center == (0.5, 0.5) and disk.radius == 0.25


def test_dirichlet_ansatz_meets_the_data_for_any_network(x64):
    box = pde.Box([0.0, 0.0], [1.0, 2.0])

    def g(x):
        return jnp.sin(x[0]) + x[1] ** 2

    faces = _box_faces([0.0, 0.0], [1.0, 2.0], 100, jax.random.key(2))
    for seed in range(3):
        net = pinn.PINNMLP(2, 16, 2, key=jax.random.key(seed), dtype=jnp.float64)
        u = pinn.DirichletAnsatz(net, box, g)
        np.testing.assert_allclose(jax.vmap(u)(faces), jax.vmap(g)(faces), rtol=0, atol=1e-14)
    # the ansatz is u = g + d net, and the Laplacian of every backend sees it so
    x = jnp.array([0.3, 1.1])
    d = pinn.BoxDistance.of(box)

    def written_out(p):
        return g(p) + d(p) * net(p)

    nested = jnp.trace(jax.jacfwd(jax.jacfwd(written_out))(x))
    assert float(u(x)) == pytest.approx(float(written_out(x)), abs=1e-15)
    for backend in (taylor.Exact(), taylor.HessianTrace(), taylor.ForwardLaplacian()):
        value, lap = jax.jit(lambda p: backend(taylor.laplacian(2), u, p))(x)
        assert float(value) == pytest.approx(float(u(x)), abs=1e-14)
        np.testing.assert_allclose(lap, nested, rtol=1e-12)


def test_dirichlet_ansatz_trains_only_the_network(x64):
    """The distance and the boundary extension are constants of the fit, even when they
    are equinox modules with arrays."""

    class Shifted(eqx.Module):
        offset: jax.Array

        def __call__(self, x):
            return self.offset + 0 * x[0]

    net = pinn.PINNMLP(1, 4, 1, key=jax.random.key(0), dtype=jnp.float64)
    u = pinn.DirichletAnsatz(net, pde.Box([0.0], [1.0]), Shifted(jnp.asarray(2.0)))
    grads = eqx.filter_grad(lambda m: m(jnp.array([0.3])) ** 2)(u)
    assert float(grads.boundary_value.offset) == 0.0
    assert float(jnp.abs(core.ravel(eqx.filter(grads.net, eqx.is_inexact_array))[0]).max()) > 0


class _PoissonWithData(pde.PDEProblem):
    """``-u'' = pi^2 sin(pi x)`` on [0, 1] with u(0) = 0, u(1) = 1: u = sin(pi x) + x."""

    name: str = "1D Poisson, nonzero data"
    domain: pde.Box = pde.Box([0.0], [1.0])
    operators: tuple = (taylor.laplacian(1),)

    def residual(self, x, u, derivatives):
        return derivatives[0] + jnp.pi**2 * jnp.sin(jnp.pi * x[0])

    def solution(self, x):
        return jnp.sin(jnp.pi * x[0]) + x[0]


def test_gauss_newton_on_the_ansatz_needs_no_boundary_rows(x64):
    problem = _PoissonWithData()
    net = pinn.PINNMLP(1, 12, 1, key=jax.random.key(0), dtype=jnp.float64)
    u = pinn.DirichletAnsatz(net, problem.domain, lambda x: x[0])  # g = x meets the data
    points = jnp.linspace(0.0, 1.0, 40, dtype=jnp.float64)[1:-1, None]
    loss = core.ResidualLoss(pinn.PDEResidual(problem))
    out = core.fit(loss, u, pinn.gauss_newton(1e-10), steps=30, data=(points,),
                   key=jax.random.key(0), chunk=30, progress=False)
    test = jnp.linspace(0.0, 1.0, 101, dtype=jnp.float64)[:, None]
    error = core.relative_l2(jax.vmap(out.model)(test), jax.vmap(problem.solution)(test))
    assert float(error) < 2e-5, float(error)  # 3.0e-6 measured
    assert float(out.model(jnp.array([0.0]))) == 0.0 and float(out.model(jnp.array([1.0]))) == pytest.approx(1.0, abs=1e-15)


def test_plot_field_panels_error_and_mask(x64):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    def exact(x):
        return jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])

    def u(x):
        return 1.01 * exact(x)

    fig = pinn.plot_field(u, exact, pde.Box([0.0, 0.0], [1.0, 1.0]), resolution=16, title="t")
    assert len(fig.axes) == 6  # three panels and their colorbars
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["prediction", "reference"], titles
    assert titles[2] == "absolute error (relative L2 1.00e-02)", titles
    plt.close(fig)
    # a disk: the points outside are blank
    fig = pinn.plot_field(u, exact, geometry.Disk([0.5, 0.5], 0.5), resolution=16)
    image = np.asarray(fig.axes[0].get_images()[0].get_array())
    assert np.isnan(image[0, 0]) and np.isfinite(image[8, 8])
    plt.close(fig)
    # 1D: prediction and reference, then the error
    fig = pinn.plot_field(lambda x: x[0] ** 2, lambda x: x[0] ** 2 + 1e-3, (0.0, 1.0), resolution=11)
    assert len(fig.axes) == 2 and "relative L2" in fig.axes[1].get_title()
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), 1e-3, rtol=1e-9)
    plt.close(fig)
    # space-time: time on the vertical axis
    fig = pinn.plot_field(u, None, pde.SpaceTime(pde.Box([0.0], [1.0]), 0.0, 2.0), resolution=8)
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "t"
    plt.close(fig)
