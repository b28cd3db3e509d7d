"""Parametric PDE families of Neural Spectral Methods (Du, Chalapathi, Krishnapriyan,
ICLR 2024, Sec. 5), with their random parameters and classical reference solvers.

Every random field is band-limited and handed over as its values on a grid that holds it
exactly: periodic fields with wavenumbers ``|k| <= modes - 1`` on the uniform grid of
``2 modes - 1`` points (``x_j = j / n``); the Dirichlet source on the Chebyshev-Gauss-Lobatto
grid ``x_j = (1 + cos(pi j / (n - 1))) / 2``. A method family turns these values into its
own representation (coefficients, finer grids) without loss.

* :class:`PeriodicPoisson`: ``-Lap u = f`` on the unit torus, ``f`` a zero-mean periodic
  Gaussian process (squared-exponential, length 0.2); ``u`` has zero mean.
* :class:`DirichletPoisson`: ``-Lap u = f`` on ``[0, 1]^2``, ``u = 0`` on the boundary, ``f``
  a Gaussian process (length 0.2) sampled at 16 x 16 Chebyshev points (its interpolant).
* :class:`ReactionDiffusion`: ``u_t - nu u_xx = rho u (1 - u)`` on ``[0, 1]^2`` (t, x),
  periodic in x, ``rho = 5``, ``u(0, x) = 1/2 + g(x) / (4 max|g|)`` with ``g`` a periodic GP.
* :class:`NavierStokes`: vorticity ``w_t + u . grad w = nu Lap w + f`` on the unit torus,
  ``w(0)`` a zero-mean periodic GP; unforced (``nu`` in 1e-2, 1e-3, 1e-4, ``T = 3``) or the
  forced case ``f = 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))``, ``nu = 2e-3``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..internal import check_key, check_positive, check_positive_int
from . import _spectral_solvers as solvers


def _check_modes(modes) -> None:
    check_positive_int(modes, "modes")
    if modes < 2:
        raise ValueError(f"`modes` must be at least 2 (wavenumbers 0..modes-1), got {modes}.")


def periodic_gp(
    key: PRNGKeyArray, modes: int, length_scale: float, ndim: int = 1, zero_mean: bool = False
) -> Array:
    """A periodic Gaussian random field on ``[0, 1)^ndim``, band-limited to ``|k_i| < modes``.

    Spectral density of the squared-exponential kernel restricted to the torus,
    ``S(k) ~ exp(-2 pi^2 l^2 |k|^2)``, normalized to unit variance; ``zero_mean`` drops
    ``k = 0``. Returns values on the uniform grid of ``2 modes - 1`` points per axis.
    """
    check_key(key)
    _check_modes(modes)
    check_positive(length_scale, "length_scale")
    n = 2 * modes - 1
    k = jnp.fft.fftfreq(n, 1.0 / n)
    k2 = sum(jnp.meshgrid(*([k**2] * ndim), indexing="ij"))
    s = jnp.exp(-2 * jnp.pi**2 * length_scale**2 * k2)
    if zero_mean:
        s = s.at[(0,) * ndim].set(0.0)
    s = s / jnp.sum(s)
    kr, ki = jax.random.split(key)
    z = jax.random.normal(kr, s.shape) + 1j * jax.random.normal(ki, s.shape)
    values = jnp.fft.ifftn(z * jnp.sqrt(s)) * n**ndim
    return values.real


def chebyshev_points01(n: int) -> np.ndarray:
    """Gauss-Lobatto points on [0, 1], from 1 (``j = 0``) down to 0."""
    return (1.0 + np.cos(np.pi * np.arange(n) / (n - 1))) / 2


def chebyshev_interpolant_2d(values: np.ndarray):
    """The polynomial interpolant of ``values`` at ``chebyshev_points01 x chebyshev_points01``."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    V = np.polynomial.chebyshev.chebvander(2 * chebyshev_points01(n) - 1, n - 1)
    coeffs = np.linalg.solve(V, np.linalg.solve(V, values).T).T

    def f(x, y):
        return np.polynomial.chebyshev.chebval2d(2 * np.asarray(x) - 1, 2 * np.asarray(y) - 1, coeffs)

    return f


class PeriodicPoisson(eqx.Module):
    """``-Lap u = f`` on ``[0, 1)^2`` with periodic GP sources of zero mean.

    Example:
        >>> problem = PeriodicPoisson()
        >>> f = problem.sample(jax.random.key(0))        # (31, 31) grid values
        >>> u = problem.solve(f, 64)                      # exact solution on a 64^2 grid
    """

    modes: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)

    def __check_init__(self):
        _check_modes(self.modes)
        check_positive(self.length_scale, "length_scale")

    @property
    def grid_size(self) -> int:
        return 2 * self.modes - 1

    def sample(self, key: PRNGKeyArray) -> Float[Array, "n n"]:
        return periodic_gp(key, self.modes, self.length_scale, ndim=2, zero_mean=True)

    def solve(self, f, n_out: int) -> np.ndarray:
        """Exact zero-mean solution on the uniform ``n_out x n_out`` grid (float64)."""
        check_positive_int(n_out, "n_out")
        return solvers.periodic_poisson(np.asarray(f, dtype=np.float64), n_out)


class DirichletPoisson(eqx.Module):
    """``-Lap u = f`` on ``[0, 1]^2`` with ``u = 0`` on the boundary, GP sources.

    ``sample`` returns ``f`` at the ``points x points`` Chebyshev grid (see
    :func:`chebyshev_points01`); ``f`` is the polynomial interpolant of those values.
    """

    points: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)

    def __check_init__(self):
        check_positive_int(self.points, "points")
        check_positive(self.length_scale, "length_scale")

    def sample(self, key: PRNGKeyArray) -> Float[Array, "n n"]:
        check_key(key)
        x = jnp.asarray(chebyshev_points01(self.points))
        X, Y = jnp.meshgrid(x, x, indexing="ij")
        p = jnp.stack([X.ravel(), Y.ravel()], -1)
        d2 = jnp.sum((p[:, None] - p[None]) ** 2, -1)
        K = jnp.exp(-d2 / (2 * self.length_scale**2)) + 1e-6 * jnp.eye(len(p))
        z = jax.random.normal(key, (len(p),), dtype=K.dtype)
        return (jnp.linalg.cholesky(K) @ z).reshape(self.points, self.points)

    def solve(self, f, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Chebyshev collocation with ``n`` points per axis: ``(x, u)``."""
        check_positive_int(n, "n")
        return solvers.dirichlet_poisson(chebyshev_interpolant_2d(np.asarray(f)), n)


class ReactionDiffusion(eqx.Module):
    """``u_t - nu u_xx = rho u (1 - u)``, ``(t, x)`` in ``[0, T] x [0, 1)``, periodic in x.

    Example:
        >>> problem = ReactionDiffusion(nu=0.01)
        >>> u0 = problem.sample(jax.random.key(0))        # (2 modes - 1,) grid values
        >>> u = problem.solve(u0, n_x=128, n_times=65)    # (65, 128), ETDRK4 in float64
    """

    nu: float = eqx.field(static=True, default=0.01)
    rho: float = eqx.field(static=True, default=5.0)
    modes: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)
    T: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        check_positive(self.nu, "nu")
        check_positive(self.rho, "rho")
        check_positive(self.T, "T")
        _check_modes(self.modes)
        check_positive(self.length_scale, "length_scale")

    @property
    def grid_size(self) -> int:
        return 2 * self.modes - 1

    def sample(self, key: PRNGKeyArray) -> Float[Array, " n"]:
        g = periodic_gp(key, self.modes, self.length_scale, ndim=1, zero_mean=True)
        return 0.5 + 0.25 * g / jnp.max(jnp.abs(g))

    def solve(self, u0, n_x: int = 128, n_times: int = 65, n_steps: int = 1024) -> np.ndarray:
        """ETDRK4 reference on ``n_x`` points, saved at ``n_times`` uniform times."""
        for name, v in (("n_x", n_x), ("n_times", n_times), ("n_steps", n_steps)):
            check_positive_int(v, name)
        if n_times < 2:
            raise ValueError(f"`n_times` must be at least 2 (t = 0 and t = T), got {n_times}.")
        return solvers.reaction_diffusion(
            np.asarray(u0), self.nu, self.rho, n_x, n_steps, n_times, self.T
        )


class NavierStokes(eqx.Module):
    """2D incompressible Navier-Stokes in vorticity form on the unit torus.

    ``forced=True`` adds ``f = 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))`` (the paper uses
    it with ``nu = 2e-3``, ``T = 50``).
    """

    nu: float = eqx.field(static=True, default=1e-3)
    T: float = eqx.field(static=True, default=3.0)
    modes: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)
    forced: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        check_positive(self.nu, "nu")
        check_positive(self.T, "T")
        _check_modes(self.modes)
        check_positive(self.length_scale, "length_scale")

    @property
    def grid_size(self) -> int:
        return 2 * self.modes - 1

    def sample(self, key: PRNGKeyArray) -> Float[Array, "n n"]:
        return periodic_gp(key, self.modes, self.length_scale, ndim=2, zero_mean=True)

    def forcing(self, n: int) -> np.ndarray:
        x = np.arange(n) / n
        X, Y = np.meshgrid(x, x, indexing="ij")
        if not self.forced:
            return np.zeros((n, n))
        return 0.1 * (np.sin(2 * np.pi * (X + Y)) + np.cos(2 * np.pi * (X + Y)))

    def solve(self, w0, n: int = 64, n_times: int = 13, n_steps: int = 1200) -> np.ndarray:
        """Pseudo-spectral reference: ``w`` at ``n_times`` uniform times on ``n x n``."""
        for name, v in (("n", n), ("n_times", n_times), ("n_steps", n_steps)):
            check_positive_int(v, name)
        return solvers.navier_stokes(
            np.asarray(w0), self.nu, self.T, n, n_steps, n_times,
            self.forcing(n) if self.forced else None,
        )


__all__ = [
    "DirichletPoisson",
    "NavierStokes",
    "PeriodicPoisson",
    "ReactionDiffusion",
    "chebyshev_interpolant_2d",
    "chebyshev_points01",
    "periodic_gp",
]
