"""A user's own problem, model and the study that trains them (``helmholtz.toml``).

2D Helmholtz equation ``Lap u + k^2 u = f`` on ``[-1, 1]^2`` with ``u = 0`` on the boundary
and the manufactured solution ``u* = sin(a1 pi x) sin(a2 pi y)``, so that
``f = (k^2 - pi^2 (a1^2 + a2^2)) u*`` (Wang, Teng and Perdikaris, "Understanding and
mitigating gradient flow pathologies in physics-informed neural networks", SIAM J. Sci.
Comput. 43(5), 2021, Sec. 2.3: a1 = 1, a2 = 4, k = 1).

Nothing here is part of jaxsci: the study file names these factories as
``"helmholtz:Helmholtz2D"`` and ``"helmholtz:FourierMLP"`` and the runner imports this file
from the study file's folder.

    python -m jaxsci study run examples/studies/user_problem/helmholtz.toml

Example:
    >>> import jax
    >>> problem = Helmholtz2D(wavenumber=1.0, a1=1, a2=2)
    >>> point = jax.numpy.array([0.5, 0.25])
    >>> round(float(problem.solution(point)), 6)  # sin(pi / 2) sin(pi / 2)
    1.0
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxsci import pde, taylor


class Helmholtz2D(pde.PDEProblem):
    """``Lap u + k^2 u = f`` on ``[-1, 1]^2``, ``u* = sin(a1 pi x) sin(a2 pi y)``."""

    name: str = eqx.field(static=True)
    domain: pde.Box
    operators: tuple
    wavenumber: float = eqx.field(static=True)
    a1: int = eqx.field(static=True)
    a2: int = eqx.field(static=True)

    def __init__(self, wavenumber: float = 1.0, a1: int = 1, a2: int = 4):
        if not wavenumber > 0:
            raise ValueError(f"`wavenumber` must be positive, got {wavenumber!r}.")
        for name, value in (("a1", a1), ("a2", a2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer (u = 0 on the boundary), got {value!r}.")
        self.wavenumber, self.a1, self.a2 = float(wavenumber), a1, a2
        self.name = f"Helmholtz k={wavenumber:g} ({a1}, {a2})"
        self.domain = pde.Box([-1.0, -1.0], [1.0, 1.0])
        self.operators = (taylor.laplacian(2),)

    def solution(self, p):
        return jnp.sin(self.a1 * jnp.pi * p[0]) * jnp.sin(self.a2 * jnp.pi * p[1])

    def forcing(self, p):
        return (self.wavenumber**2 - jnp.pi**2 * (self.a1**2 + self.a2**2)) * self.solution(p)

    def residual(self, p, u, derivatives):
        (lap,) = derivatives
        return lap + self.wavenumber**2 * u - self.forcing(p)

    def hard_constraint(self, net):
        def constrained(p):  # zero on the boundary of [-1, 1]^2
            return (1.0 - p[0] ** 2) * (1.0 - p[1] ** 2) * net(p)

        return constrained


class FourierMLP(eqx.Module):
    """An MLP on random Fourier features ``[cos(B x), sin(B x)]`` (Tancik et al., NeurIPS
    2020): a user model, any equinox module works."""

    frequencies: jax.Array
    mlp: eqx.nn.MLP

    def __init__(self, width: int = 32, depth: int = 2, features: int = 16, scale: float = 1.0,
                 activation=jnp.tanh, *, key):
        k_freq, k_mlp = jax.random.split(key)
        self.frequencies = scale * jax.random.normal(k_freq, (features, 2))
        self.mlp = eqx.nn.MLP(2 * features, "scalar", width, depth, activation=activation, key=k_mlp)

    def __call__(self, x):
        z = self.frequencies @ x
        return self.mlp(jnp.concatenate([jnp.cos(z), jnp.sin(z)]))
