"""jaxsci: JAX functional numerics for scientific machine learning.

Every subpackage is reachable from ``import jaxsci`` (loaded on first use):

- :mod:`jaxsci.core`: the training loop ``fit``, ``RESULTS`` codes, least squares,
  ``relative_l2``, chunked vmap, PRNG and dtype helpers.
- :mod:`jaxsci.taylor`: Taylor-mode differential operators, exact and stochastic (STDE).
- :mod:`jaxsci.pde`: problems (domains, operators, exact or reference solutions).
- :mod:`jaxsci.pinn`: collocation samplers, residual losses, PINN training.
- :mod:`jaxsci.spectral`: Fourier/Chebyshev bases, neural spectral methods, FNO baselines.
- :mod:`jaxsci.teng`: TENG time stepping and the TDVP / OBTI baselines.
- :mod:`jaxsci.diffusion`: noise schedules and exponential-integrator samplers.
- :mod:`jaxsci.nde`: neural ODEs/SDEs on diffrax with solver-heuristic regularization.
- :mod:`jaxsci.studies`: batch studies (ensembles, checkpoints, reports).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the lazy imports below, made visible to type checkers
    from . import (
        core,
        diffusion,
        internal as internal,
        nde,
        pde,
        pinn,
        spectral,
        studies,
        taylor,
        teng,
    )

__version__ = "0.2.0"

__all__ = [
    "core",
    "diffusion",
    "nde",
    "pde",
    "pinn",
    "spectral",
    "studies",
    "taylor",
    "teng",
]
_SUBPACKAGES = (*__all__, "internal")  # `internal` is reachable but not public API


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'jaxsci' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_SUBPACKAGES))
