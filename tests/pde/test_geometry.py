"""Geometry: areas and volumes by Monte Carlo against closed forms, normals against
finite differences of the SDF and closed forms, boundary points on the boundary."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.pde.geometry import Disk, Polygon, Rectangle

HOLES = ((0.3, 0.5, 0.1), (0.7, 0.5, 0.15))


def _plate():
    domain = Rectangle([0.0, 0.0], [1.0, 1.0])
    for cx, cy, r in HOLES:
        domain = domain - Disk([cx, cy], r)
    return domain


def _mc_measure(geometry, n=200_000, seed=0):
    lower, upper = geometry.bounds
    unit = np.random.default_rng(seed).random((n, geometry.dim))
    x = jnp.asarray(lower[None, :] + unit * (upper - lower)[None, :], jnp.float32)
    inside = jax.jit(jax.vmap(geometry.sdf))(x) < 0
    return float(np.prod(upper - lower) * jnp.mean(inside))


def test_areas_and_volumes_by_monte_carlo():
    plate = _plate()
    assert abs(_mc_measure(plate) - (1.0 - math.pi * sum(r**2 for *_, r in HOLES))) < 5e-3
    assert abs(_mc_measure(Disk([0.0, 0.0, 0.0], 0.5)) - 4 / 3 * math.pi * 0.125) < 5e-3
    ell = Polygon([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]])  # an L: area 3
    assert abs(_mc_measure(ell) - 3.0) < 1e-2
    d = 1.0  # two unit disks at distance 1: union area 2 pi - lens, lens = 2 acos(d/2) - d/2 sqrt(4 - d^2)
    lens = 2 * math.acos(d / 2) - d / 2 * math.sqrt(4 - d**2)
    assert abs(_mc_measure(Disk([0.0, 0.0], 1.0) | Disk([d, 0.0], 1.0)) - (2 * math.pi - lens)) < 2e-2
    assert abs(_mc_measure(Disk([0.0, 0.0], 1.0) & Disk([d, 0.0], 1.0)) - lens) < 1e-2


@pytest.mark.heavy
@pytest.mark.heavy
def test_boundary_points_lie_on_the_boundary_and_normals_are_outward():
    plate = _plate()
    x = plate.sample_boundary(400, key=jax.random.key(1))
    sdf = jax.jit(jax.vmap(plate.sdf))
    assert float(jnp.max(jnp.abs(sdf(x)))) < 1e-6
    normals = jax.jit(jax.vmap(plate.normal))(x)
    # finite differences of the SDF (independent of jax.grad)
    h = 1e-3
    x = jnp.asarray(x, jnp.float32)
    eye = jnp.eye(2)
    fd = jnp.stack([(sdf(x + h * eye[i][None, :]) - sdf(x - h * eye[i][None, :])) / (2 * h) for i in range(2)],
                   axis=1)
    fd = fd / jnp.linalg.norm(fd, axis=1, keepdims=True)
    # away from the square's corners the SDF is smooth across the boundary
    corner = jnp.min(jnp.abs(x[:, :1] - jnp.array([[0.0, 1.0]])), axis=1) + jnp.min(
        jnp.abs(x[:, 1:] - jnp.array([[0.0, 1.0]])), axis=1)
    smooth = corner > 1e-2
    np.testing.assert_allclose(normals[smooth], fd[smooth], atol=1e-4)
    # closed forms: on a hole the outward normal points to its center, on the square outward
    for cx, cy, r in HOLES:
        c = jnp.array([cx, cy])
        on = jnp.abs(jnp.linalg.norm(x - c[None, :], axis=1) - r) < 1e-6
        assert int(on.sum()) > 10
        np.testing.assert_allclose(normals[on], -(x[on] - c[None, :]) / r, atol=1e-5)
    # boundary points are spread by length: the holes get 2 pi (0.1 + 0.15) of 4 + 2 pi 0.25
    share = 2 * math.pi * 0.25 / (4 + 2 * math.pi * 0.25)
    on_holes = jnp.min(jnp.abs(x[:, :1] - jnp.array([[0.0, 1.0]])), axis=1) * jnp.min(
        jnp.abs(x[:, 1:] - jnp.array([[0.0, 1.0]])), axis=1) > 1e-9
    assert abs(float(jnp.mean(on_holes)) - share) < 0.08
    assert abs(plate.boundary_measure - (4 + 2 * math.pi * 0.25)) < 0.1


@pytest.mark.parametrize("quasi", [False, pytest.param(True, marks=pytest.mark.heavy)])
def test_interior_samplers(quasi):
    plate = _plate()
    x = plate.sample(1024, key=jax.random.key(2), quasi=quasi)
    assert x.shape == (1024, 2)
    assert bool(jnp.all(plate.contains(x, tol=0.0)))
    # uniform: the mean is the centroid (by symmetry in y, and the holes' moments in x)
    area = 1.0 - math.pi * sum(r**2 for *_, r in HOLES)
    cx = (0.5 - sum(math.pi * r**2 * c for c, _, r in HOLES)) / area
    assert abs(float(jnp.mean(x[:, 0])) - cx) < 0.03 and abs(float(jnp.mean(x[:, 1])) - 0.5) < 0.03


@pytest.mark.heavy
@pytest.mark.heavy
def test_polygon_and_rectangle_sdf_closed_forms():
    square = Polygon([[0, 0], [1, 0], [1, 1], [0, 1]])
    rect = Rectangle([0.0, 0.0], [1.0, 1.0])
    pts = jnp.array([[0.5, 0.5], [0.1, 0.3], [1.5, 0.5], [2.0, 2.0], [-0.5, 0.2]])
    expected = [-0.5, -0.1, 0.5, math.sqrt(2.0), 0.5]
    np.testing.assert_allclose(jax.vmap(square.sdf)(pts), expected, atol=1e-6)
    np.testing.assert_allclose(jax.vmap(rect.sdf)(pts), expected, atol=1e-6)
    edge = square.sample_boundary(64, key=jax.random.key(3))
    assert float(jnp.max(jnp.abs(jax.vmap(square.sdf)(edge)))) < 1e-6
