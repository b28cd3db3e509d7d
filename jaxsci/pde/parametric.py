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

Every problem is an :class:`AbstractParametricProblem`: ``sample(num, *, key)`` draws
instances (JAX arrays, usable under ``jit``/``vmap`` and in a training step) and ``solve``
computes the classical reference in float64 NumPy on the host, whatever the caller's x64
setting (instances are converted to float64 first).
"""

from __future__ import annotations

import abc

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

    Example:
        >>> periodic_gp(jax.random.key(0), 4, 0.2, ndim=2).shape
        (7, 7)
    """
    key = check_key(key)
    _check_modes(modes)
    check_positive(length_scale, "length_scale")
    check_positive_int(ndim, "ndim")
    n = 2 * modes - 1
    dtype = jnp.zeros(()).dtype
    k = jnp.fft.fftfreq(n, 1.0 / n).astype(dtype)
    k2 = sum(jnp.meshgrid(*([k**2] * ndim), indexing="ij"))
    s = jnp.exp(-2 * jnp.pi**2 * length_scale**2 * k2)
    if zero_mean:
        s = s.at[(0,) * ndim].set(0.0)
    s = s / jnp.sum(s)
    kr, ki = jax.random.split(key)
    z = jax.lax.complex(jax.random.normal(kr, s.shape, dtype), jax.random.normal(ki, s.shape, dtype))
    values = jnp.fft.ifftn(z * jnp.sqrt(s).astype(z.dtype)) * n**ndim
    return values.real


def chebyshev_points01(n: int) -> np.ndarray:
    """Gauss-Lobatto points on [0, 1], from 1 (``j = 0``) down to 0.

    Example:
        >>> chebyshev_points01(3)
        array([1. , 0.5, 0. ])
    """
    check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"`n` must be at least 2 (both end points), got {n}.")
    return (1.0 + np.cos(np.pi * np.arange(n) / (n - 1))) / 2


def chebyshev_interpolant_2d(values: np.ndarray):
    """The polynomial interpolant of ``values`` at ``chebyshev_points01 x chebyshev_points01``.

    Example:
        >>> f = chebyshev_interpolant_2d(np.ones((4, 4)))
        >>> float(f(0.3, 0.7))
        1.0
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] < 2:
        raise ValueError(f"`values` must be a square (n, n) array with n >= 2, got shape {values.shape}.")
    n = values.shape[0]
    V = np.polynomial.chebyshev.chebvander(2 * chebyshev_points01(n) - 1, n - 1)
    coeffs = np.linalg.solve(V, np.linalg.solve(V, values).T).T

    def f(x, y):
        return np.polynomial.chebyshev.chebval2d(2 * np.asarray(x) - 1, 2 * np.asarray(y) - 1, coeffs)

    return f


def _as_float64(instance, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``instance`` as a float64 NumPy array of ``shape`` with finite values."""
    if isinstance(instance, jax.core.Tracer):
        raise TypeError(
            f"`{name}` is traced (under jit/vmap/grad): the reference solvers are host NumPy "
            "code; call `solve` outside jit on concrete instances."
        )
    x = np.asarray(instance, dtype=np.float64)
    if x.shape != shape:
        raise ValueError(
            f"`{name}` must have shape {shape} (one instance as drawn by `sample`), got "
            f"{x.shape}; solve a batch one instance at a time."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` contains NaN or inf; the reference solve needs finite values.")
    return x


class AbstractParametricProblem(eqx.Module):
    """A family of PDE instances: random parameters and a classical reference solver.

    Subclasses implement :meth:`instance` (one instance from a key, traceable) and
    :meth:`solve` (the float64 NumPy reference); :meth:`sample` draws one instance or a
    batch with a keyword-only key.
    """

    @property
    @abc.abstractmethod
    def instance_shape(self) -> tuple[int, ...]:
        """Shape of one instance (the grid values that ``sample`` returns)."""

    @abc.abstractmethod
    def instance(self, key: PRNGKeyArray) -> Array:
        """One instance from ``key`` (traceable: usable under ``jit``/``vmap``)."""

    @abc.abstractmethod
    def solve(self, instance, *args, **kwargs) -> np.ndarray:
        """The classical reference solution of one instance, float64 NumPy."""

    def sample(self, num: int | None = None, *, key: PRNGKeyArray | None = None) -> Array:
        """One instance (``num=None``) or ``num`` instances stacked on axis 0.

        The batch is ``jax.vmap(self.instance)(jax.random.split(key, num))``, so it works
        inside a jitted training step (``sample=lambda k: problem.sample(16, key=k)``).
        Float64 when JAX's x64 mode is on, float32 otherwise.
        """
        if num is not None and (isinstance(num, bool) or not isinstance(num, (int, np.integer))):
            hint = " (the key is keyword-only: `sample(key=key)`)" if eqx.is_array(num) else ""
            raise TypeError(f"`num` must be None or a positive integer{hint}, got {type(num).__name__}.")
        if key is None:
            raise TypeError("`sample` needs a PRNG key: `problem.sample(num, key=jax.random.key(seed))`.")
        key = check_key(key)
        if num is None:
            return self.instance(key)
        check_positive_int(num, "num")
        return jax.vmap(self.instance)(jax.random.split(key, num))


class _PeriodicGP(AbstractParametricProblem):
    """Shared parts of the problems whose parameter is a zero-mean periodic GP field."""

    modes: eqx.AbstractVar[int]
    length_scale: eqx.AbstractVar[float]

    @property
    def grid_size(self) -> int:
        """Points per axis of the exact uniform grid of an instance, ``2 modes - 1``."""
        return 2 * self.modes - 1

    def _field(self, key, ndim: int) -> Array:
        return periodic_gp(key, self.modes, self.length_scale, ndim=ndim, zero_mean=True)

    def _check_fields(self) -> None:
        _check_modes(self.modes)
        check_positive(self.length_scale, "length_scale")


class PeriodicPoisson(_PeriodicGP):
    """``-Lap u = f`` on ``[0, 1)^2`` with periodic GP sources of zero mean.

    Example:
        >>> problem = PeriodicPoisson(modes=4)
        >>> f = problem.sample(key=jax.random.key(0))     # (7, 7) grid values
        >>> problem.solve(f, 16).shape                     # exact solution on a 16^2 grid
        (16, 16)
    """

    modes: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)

    def __check_init__(self):
        self._check_fields()

    @property
    def instance_shape(self) -> tuple[int, ...]:
        """``(2 modes - 1, 2 modes - 1)``."""
        return (self.grid_size, self.grid_size)

    def instance(self, key: PRNGKeyArray) -> Float[Array, "n n"]:
        """A source ``f`` on the uniform grid."""
        return self._field(key, 2)

    def solve(self, f, n_out: int) -> np.ndarray:
        """Exact zero-mean solution on the uniform ``n_out x n_out`` grid (float64)."""
        check_positive_int(n_out, "n_out")
        return solvers.periodic_poisson(_as_float64(f, self.instance_shape, "f"), n_out)


class DirichletPoisson(AbstractParametricProblem):
    """``-Lap u = f`` on ``[0, 1]^2`` with ``u = 0`` on the boundary, GP sources.

    ``sample`` returns ``f`` at the ``points x points`` Chebyshev grid (see
    :func:`chebyshev_points01`); ``f`` is the polynomial interpolant of those values.

    Example:
        >>> problem = DirichletPoisson(points=6)
        >>> x, u = problem.solve(problem.sample(key=jax.random.key(0)), 8)
        >>> u.shape
        (8, 8)
    """

    points: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)

    def __check_init__(self):
        check_positive_int(self.points, "points")
        if self.points < 2:
            raise ValueError(f"`points` must be at least 2, got {self.points}.")
        check_positive(self.length_scale, "length_scale")

    @property
    def instance_shape(self) -> tuple[int, ...]:
        """``(points, points)``."""
        return (self.points, self.points)

    def instance(self, key: PRNGKeyArray) -> Float[Array, "n n"]:
        """A source ``f`` at the Chebyshev points."""
        dtype = jnp.zeros(()).dtype
        x = jnp.asarray(chebyshev_points01(self.points), dtype)
        X, Y = jnp.meshgrid(x, x, indexing="ij")
        p = jnp.stack([X.ravel(), Y.ravel()], -1)
        d2 = jnp.sum((p[:, None] - p[None]) ** 2, -1)
        K = jnp.exp(-d2 / (2 * self.length_scale**2)) + 1e-6 * jnp.eye(len(p), dtype=dtype)
        z = jax.random.normal(key, (len(p),), dtype=dtype)
        return (jnp.linalg.cholesky(K) @ z).reshape(self.points, self.points)

    def solve(self, f, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Chebyshev collocation with ``n`` points per axis: ``(x, u)`` (float64)."""
        check_positive_int(n, "n")
        if n < 3:
            raise ValueError(f"`n` must be at least 3 (one interior point), got {n}.")
        return solvers.dirichlet_poisson(
            chebyshev_interpolant_2d(_as_float64(f, self.instance_shape, "f")), n
        )


def _check_times(n_steps: int, n_times: int) -> None:
    if n_times < 2:
        raise ValueError(f"`n_times` must be at least 2 (t = 0 and t = T), got {n_times}.")
    if n_steps % (n_times - 1):
        raise ValueError(
            f"`n_steps` ({n_steps}) must be a multiple of `n_times - 1` ({n_times - 1}) so "
            "that the saved times fall on steps."
        )


class ReactionDiffusion(_PeriodicGP):
    """``u_t - nu u_xx = rho u (1 - u)``, ``(t, x)`` in ``[0, T] x [0, 1)``, periodic in x.

    Example:
        >>> problem = ReactionDiffusion(nu=0.01, modes=4)
        >>> u0 = problem.sample(key=jax.random.key(0))     # (2 modes - 1,) grid values
        >>> problem.solve(u0, n_x=16, n_times=5, n_steps=64).shape  # ETDRK4 in float64
        (5, 16)
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
        self._check_fields()

    @property
    def instance_shape(self) -> tuple[int, ...]:
        """``(2 modes - 1,)``."""
        return (self.grid_size,)

    def instance(self, key: PRNGKeyArray) -> Float[Array, " n"]:
        """An initial value ``u_0 = 1/2 + g / (4 max|g|)`` on the uniform grid."""
        g = self._field(key, 1)
        return 0.5 + 0.25 * g / jnp.max(jnp.abs(g))

    def solve(self, u0, n_x: int = 128, n_times: int = 65, n_steps: int = 1024) -> np.ndarray:
        """ETDRK4 reference on ``n_x`` points, saved at ``n_times`` uniform times (float64)."""
        for name, v in (("n_x", n_x), ("n_times", n_times), ("n_steps", n_steps)):
            check_positive_int(v, name)
        _check_times(n_steps, n_times)
        return solvers.reaction_diffusion(
            _as_float64(u0, self.instance_shape, "u0"), self.nu, self.rho, n_x, n_steps, n_times, self.T
        )


class NavierStokes(_PeriodicGP):
    """2D incompressible Navier-Stokes in vorticity form on the unit torus.

    ``forced=True`` adds ``f = 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))`` (the paper uses
    it with ``nu = 2e-3``, ``T = 50``).

    Example:
        >>> problem = NavierStokes(modes=3, T=0.1)
        >>> w0 = problem.sample(key=jax.random.key(0))
        >>> problem.solve(w0, n=8, n_times=2, n_steps=4).shape
        (2, 8, 8)
    """

    nu: float = eqx.field(static=True, default=1e-3)
    T: float = eqx.field(static=True, default=3.0)
    modes: int = eqx.field(static=True, default=16)
    length_scale: float = eqx.field(static=True, default=0.2)
    forced: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        check_positive(self.nu, "nu")
        check_positive(self.T, "T")
        self._check_fields()

    @property
    def instance_shape(self) -> tuple[int, ...]:
        """``(2 modes - 1, 2 modes - 1)``."""
        return (self.grid_size, self.grid_size)

    def instance(self, key: PRNGKeyArray) -> Float[Array, "n n"]:
        """An initial vorticity ``w_0`` (zero mean) on the uniform grid."""
        return self._field(key, 2)

    def forcing(self, n: int) -> np.ndarray:
        """The forcing on the uniform ``n x n`` grid (zeros when unforced)."""
        check_positive_int(n, "n")
        x = np.arange(n) / n
        X, Y = np.meshgrid(x, x, indexing="ij")
        if not self.forced:
            return np.zeros((n, n))
        return 0.1 * (np.sin(2 * np.pi * (X + Y)) + np.cos(2 * np.pi * (X + Y)))

    def solve(self, w0, n: int = 64, n_times: int = 13, n_steps: int = 1200) -> np.ndarray:
        """Pseudo-spectral reference: ``w`` at ``n_times`` uniform times on ``n x n`` (float64).

        A too-coarse ``n_steps`` may blow up: the result then holds NaN/inf (check it with
        ``np.isfinite``; the benchmarks use this to find the cheapest stable setting).
        """
        for name, v in (("n", n), ("n_times", n_times), ("n_steps", n_steps)):
            check_positive_int(v, name)
        _check_times(n_steps, n_times)
        return solvers.navier_stokes(
            _as_float64(w0, self.instance_shape, "w0"), self.nu, self.T, n, n_steps, n_times,
            self.forcing(n) if self.forced else None,
        )


__all__ = [
    "AbstractParametricProblem",
    "DirichletPoisson",
    "NavierStokes",
    "PeriodicPoisson",
    "ReactionDiffusion",
    "chebyshev_interpolant_2d",
    "chebyshev_points01",
    "periodic_gp",
]
