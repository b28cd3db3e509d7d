"""Time-dependent problems on the unit box ``[0, 1]^dim`` with homogeneous Dirichlet
(``u = 0``) or Neumann (``du/dn = 0``) conditions.

Initial conditions are sums of separable modes ``a prod_d s(pi m_d x_d)``, with ``s = sin``
(Dirichlet) or ``s = cos`` (Neumann), so every mode satisfies the condition. Heat has the
exact solution by mode decay; the Allen-Cahn reference solves the odd (Dirichlet) or even
(Neumann) extension of the solution to ``[-1, 1)^2``, which is periodic, by the periodic
float64 ETDRK4 solver of :func:`jaxsci.pde.evolution.spectral_reference` (the extension
is exact: ``Lap`` and ``u - u^3`` preserve oddness and evenness in each variable).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..internal import check_positive_int
from ._evolution_base import (
    AbstractEvolutionProblem,
    ReferenceSolution,
    _AllenCahn,
    _check_coefficient,
    _check_times,
    _Heat,
    spectral_reference,
)

BoxModes = tuple[tuple[float, tuple[int, ...]], ...]
CONDITIONS = ("dirichlet", "neumann")


def check_condition(condition) -> str:
    """``condition`` must be ``"dirichlet"`` or ``"neumann"``."""
    if condition not in CONDITIONS:
        raise ValueError(f"`condition` must be one of {list(CONDITIONS)}, got {condition!r}.")
    return condition


def boundary_value(condition: str, u, x: Float[Array, " d"], normal: Float[Array, " d"]):
    """The homogeneous boundary condition's left side at one boundary point: ``u(x)``
    (Dirichlet) or the normal derivative ``normal . grad u(x)`` (Neumann, one JVP)."""
    if condition == "dirichlet":
        return u(x)
    return jax.jvp(u, (x,), (normal.astype(x.dtype),))[1]


def box_grid(dim: int, n: int, dtype=None) -> Float[Array, "m dim"]:
    """Uniform ``n^dim`` grid on ``[0, 1]^dim``, the faces included, as ``(n**dim, dim)``.

    Example:
        >>> box_grid(2, 3)[:4].tolist()
        [[0.0, 0.0], [0.0, 0.5], [0.0, 1.0], [0.5, 0.0]]
    """
    check_positive_int(dim, "dim")
    check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"`n` must be >= 2 (the grid holds both faces of each axis), got {n}.")
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    g = jnp.linspace(0.0, 1.0, n, dtype=dtype)
    axes = jnp.meshgrid(*([g] * dim), indexing="ij")
    return jnp.stack([a.ravel() for a in axes], axis=-1)


def box_boundary_points(dim: int, n: int, dtype=None) -> tuple[Array, Array]:
    """Points on the faces of ``[0, 1]^dim`` and their outward unit normals.

    On each of the ``2 dim`` faces the other coordinates run over the ``n`` cell midpoints
    ``(j + 1/2) / n`` (so no point is an edge or corner, where the normal is undefined):
    ``2 dim n^(dim-1)`` points.

    Returns:
        ``(points, normals)``, both of shape ``(2 dim n^(dim-1), dim)``.

    Example:
        >>> p, nrm = box_boundary_points(2, 4); p.shape, nrm.shape
        ((16, 2), (16, 2))
    """
    check_positive_int(dim, "dim")
    check_positive_int(n, "n")
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    mids = (np.arange(n) + 0.5) / n
    rest = np.stack([a.ravel() for a in np.meshgrid(*([mids] * (dim - 1)), indexing="ij")],
                    axis=-1) if dim > 1 else np.zeros((1, 0))
    points, normals = [], []
    for d in range(dim):
        for side in (0.0, 1.0):
            p = np.insert(rest, d, side, axis=1)
            nrm = np.zeros_like(p)
            nrm[:, d] = 1.0 if side else -1.0
            points.append(p)
            normals.append(nrm)
    return (jnp.asarray(np.concatenate(points), dtype),
            jnp.asarray(np.concatenate(normals), dtype))


def _modes_np(condition: str, modes: BoxModes, x: np.ndarray, decay=None) -> np.ndarray:
    """``sum_j a_j decay(|m_j|^2) prod_d s(pi m_jd x_d)`` in float64 NumPy."""
    x = np.asarray(x, dtype=np.float64)
    s = np.sin if condition == "dirichlet" else np.cos
    out = np.zeros(x.shape[:-1])
    for a, ms in modes:
        factor = 1.0 if decay is None else decay(float(np.dot(ms, ms)))
        out += a * factor * np.prod(s(np.pi * np.asarray(ms) * x), axis=-1)
    return out


def _modes_jnp(condition: str, modes: BoxModes, x, decay=None):
    """:func:`_modes_np` in traceable JAX (the caller's dtype)."""
    s = jnp.sin if condition == "dirichlet" else jnp.cos
    out = jnp.zeros(x.shape[:-1], dtype=x.dtype)
    for a, ms in modes:
        factor = 1.0 if decay is None else decay(float(np.dot(ms, ms)))
        term = a * factor * jnp.ones(x.shape[:-1], x.dtype)
        for d, m in enumerate(ms):  # a product of factors: jet has no rule for reduce_prod
            term = term * s(jnp.pi * m * x[..., d])
        out = out + term
    return out


def _check_modes(condition: str, modes, dim: int) -> BoxModes:
    modes = tuple((float(a), tuple(int(m) for m in ms)) for a, ms in modes)
    if not modes:
        raise ValueError("`modes` must hold at least one mode (amplitude, wavenumbers).")
    for _, ms in modes:
        if len(ms) != dim:
            raise ValueError(f"every mode's wavenumbers must have length dim={dim}, got {ms}.")
        if any(m < 0 for m in ms) or (condition == "dirichlet" and any(m < 1 for m in ms)):
            low = 1 if condition == "dirichlet" else 0
            raise ValueError(f"wavenumbers must be integers >= {low} for {condition} "
                             f"conditions, got {ms}.")
    return modes


class AbstractBoxProblem(AbstractEvolutionProblem):
    """A problem on ``[0, 1]^dim`` with a homogeneous ``condition`` on every face.

    ``condition`` is ``"dirichlet"`` (``u = 0``) or ``"neumann"`` (``du/dn = 0``);
    :meth:`boundary_value` is the condition's left side at a boundary point, which
    :class:`jaxsci.teng.BoundaryRows` adds to the least-squares fits and the exact
    networks (:class:`jaxsci.teng.BoxMLP`) satisfy by construction.
    """

    condition: eqx.AbstractVar[str]

    @property
    def periodic(self) -> bool:
        return False

    def boundary_value(self, u, x: Float[Array, " d"], normal: Float[Array, " d"]):
        """``u(x)`` (Dirichlet) or ``normal . grad u(x)`` (Neumann); zero for a solution."""
        return boundary_value(self.condition, u, x, normal)

    def boundary_points(self, n: int, dtype=None) -> tuple[Array, Array]:
        """``(points, outward normals)`` on the faces: :func:`box_boundary_points`."""
        return box_boundary_points(self.dim, n, dtype)


class BoxHeat(AbstractBoxProblem, _Heat):
    """Heat equation ``u_t = nu Lap u`` on ``[0, 1]^dim`` with Dirichlet or Neumann faces.

    Each mode ``prod_d s(pi m_d x_d)`` decays as ``exp(-nu pi^2 |m|^2 t)`` (:meth:`exact`).
    Default modes, Dirichlet: ``prod sin(pi x_d) + 0.5 sin(2 pi x_1) prod_{d>1} sin(pi x_d)
    + 0.3 prod_{d<dim} sin(pi x_d) sin(3 pi x_dim)``; Neumann: ``0.2 + cos(pi x_1) +
    0.5 cos(2 pi x_dim) + 0.3 prod cos(pi x_d)``. :meth:`held_out` gives other modes.

    Args:
        dim: the spatial dimension (>= 1).
        condition: ``"dirichlet"`` or ``"neumann"``.
        nu: the diffusivity, ``> 0`` (default 0.02: the slowest Dirichlet mode in 2D
            decays by ``exp(-2 pi^2 nu t) = 0.2`` by ``t = 4``).
        modes: ``((a, (m_1, ..., m_dim)), ...)``; the default above.

    Example:
        >>> p = BoxHeat(2, "dirichlet"); float(p.exact(jnp.array([[0.0, 0.3]]), 1.0)[0])
        0.0
    """

    space_dim: int = eqx.field(static=True)
    condition: str = eqx.field(static=True)
    nu: float
    modes: BoxModes = eqx.field(static=True)

    def __init__(self, dim: int, condition: str = "dirichlet", nu: float = 0.02,
                 modes: Sequence | None = None):
        check_positive_int(dim, "dim")
        self.condition = check_condition(condition)
        _check_coefficient(nu, "nu")
        self.space_dim = int(dim)
        self.nu = nu
        self.modes = _check_modes(self.condition, _default_heat_modes(self.condition, dim)
                                  if modes is None else modes, dim)

    def held_out(self) -> BoxHeat:
        """The same equation with other modes, for choosing settings on unscored data."""
        d = self.space_dim
        if self.condition == "dirichlet":
            modes = [(0.8, (2,) * d), (0.6, (1,) * (d - 1) + (2,)), (-0.4, (3,) + (1,) * (d - 1))]
        else:
            modes = [(-0.3, (0,) * d), (0.8, (0,) * (d - 1) + (1,)), (0.6, (2,) + (0,) * (d - 1)),
                     (0.4, (1,) * d)]
        return BoxHeat(d, self.condition, self.nu, modes)

    def initial(self, x: Float[Array, "n d"]) -> Float[Array, " n"]:
        """``u(x, 0)``."""
        return self.exact(x, 0.0)

    def exact(self, x: Float[Array, "n d"], t: float | Array) -> Float[Array, " n"]:
        """``sum_j a_j exp(-nu pi^2 |m_j|^2 t) prod_d s(pi m_jd x_d)``."""
        return _modes_jnp(self.condition, self.modes, x,
                          lambda m2: jnp.exp(-self.nu * np.pi**2 * m2 * t))

    def reference(self, times, **spectral) -> ReferenceSolution:
        """The exact solution at ``times`` in float64 NumPy; with ``spectral`` options
        (``n``, ``dt``; 2D only) the ETDRK4 solver of the extension instead, which checks
        that solver against the exact decay."""
        if spectral:
            if self.space_dim != 2:
                raise ValueError("the spectral reference is two-dimensional; call "
                                 "reference(times) for the exact solution.")
            return _extension_reference(self, lambda k2: -self.nu * np.pi**2 * k2,
                                        lambda u, kx, ky: np.zeros(kx.shape, complex),
                                        times, **spectral)
        times = _check_times(times)
        return ReferenceSolution(times, lambda p, i: _modes_np(
            self.condition, self.modes, p,
            lambda m2: np.exp(-self.nu * np.pi**2 * m2 * times[i])), dim=self.space_dim)


def _default_heat_modes(condition: str, dim: int) -> BoxModes:
    ones = (1,) * dim
    if condition == "dirichlet":
        last3 = (3,) if dim == 1 else (1,) * (dim - 1) + (3,)
        return ((1.0, ones), (0.5, (2,) + (1,) * (dim - 1)), (0.3, last3))
    first = (1,) + (0,) * (dim - 1)
    last2 = (0,) * (dim - 1) + (2,)
    return ((0.2, (0,) * dim), (1.0, first), (0.5, last2), (0.3, ones))


class BoxAllenCahn(AbstractBoxProblem, _AllenCahn):
    """Allen-Cahn equation ``u_t = eps Lap u + u - u^3`` on ``[0, 1]^2``, Dirichlet or
    Neumann faces.

    ``eps = 0.01``. Initial condition, Dirichlet: ``0.05 s(1,1) + 0.03 s(2,1) - 0.02
    s(1,3)`` with ``s(m, n) = sin(m pi x) sin(n pi y)``; Neumann: the same amplitudes on
    ``cos(pi x) cos(pi y)``, ``cos(2 pi x)``, ``cos(3 pi y)``. The reaction amplifies
    them about 20-fold by ``t = 4`` and the cubic term starts to saturate them. Reference:
    :meth:`reference`. :meth:`held_out` gives other modes.

    Args:
        condition: ``"dirichlet"`` or ``"neumann"``.
        eps: the diffusion coefficient, ``> 0``.
        modes: ``((a, (m, n)), ...)``; the default above.

    Example:
        >>> BoxAllenCahn("neumann").operator(lambda x: jnp.cos(x[0]), jnp.zeros(2)).shape
        ()
    """

    condition: str = eqx.field(static=True)
    eps: float
    modes: BoxModes = eqx.field(static=True)
    default_modes: ClassVar[dict[str, BoxModes]] = {
        "dirichlet": ((0.05, (1, 1)), (0.03, (2, 1)), (-0.02, (1, 3))),
        "neumann": ((0.05, (1, 1)), (0.03, (2, 0)), (-0.02, (0, 3))),
    }
    held_out_modes: ClassVar[dict[str, BoxModes]] = {
        "dirichlet": ((0.04, (1, 2)), (0.04, (2, 2)), (0.02, (3, 1))),
        "neumann": ((0.04, (0, 1)), (0.04, (2, 2)), (-0.02, (1, 0))),
    }

    def __init__(self, condition: str = "dirichlet", eps: float = 0.01,
                 modes: Sequence | None = None):
        self.condition = check_condition(condition)
        _check_coefficient(eps, "eps")
        self.eps = eps
        self.modes = _check_modes(self.condition, self.default_modes[self.condition]
                                  if modes is None else modes, 2)

    @property
    def dim(self) -> int:
        return 2

    def held_out(self) -> BoxAllenCahn:
        """The same equation with other modes, for choosing settings on unscored data."""
        return BoxAllenCahn(self.condition, self.eps, self.held_out_modes[self.condition])

    def initial(self, x: Float[Array, "n 2"]) -> Float[Array, " n"]:
        """``u(x, 0)``."""
        return _modes_jnp(self.condition, self.modes, x)

    def reference(self, times, *, n: int = 128, dt: float = 4e-3) -> ReferenceSolution:
        """Float64 ETDRK4 solution of the odd/even extension on an ``n x n`` grid of
        ``[-1, 1)^2`` with step ``dt`` (float64 NumPy whatever the x64 setting)."""
        return _extension_reference(self, lambda k2: 1.0 - self.eps * np.pi**2 * k2,
                                    lambda u, kx, ky: -np.fft.rfft2(u**3), times, n=n, dt=dt)


def _extension_reference(problem, linear, nonlinear, times, *, n: int = 128,
                         dt: float = 4e-3) -> ReferenceSolution:
    """The periodic ETDRK4 reference of the extension: ``s = pi x`` maps ``[0, 1]`` onto
    ``[0, pi]``; the modes, evaluated on ``[0, 2pi)`` as they stand, are the odd (sine) or
    even (cosine) extension, and ``Lap_x = pi^2 Lap_s`` (so the symbols take ``pi^2 k^2``)."""
    def initial(s):
        return _modes_np(problem.condition, problem.modes, s / np.pi)

    return spectral_reference(initial, linear, nonlinear, times, n=n, dt=dt,
                              to_periodic=lambda p: np.pi * p)
