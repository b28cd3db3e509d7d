"""Taylor-mode differential operators: exact and stochastic (STDE) evaluation.

Build an operator, pick a backend, evaluate it at a point::

    from jaxsci import taylor
    op = taylor.laplacian(1000)
    u_x, lap_u = taylor.SparseSTDE(16)(op, u, x, key=key)  # unbiased estimate
    u_x, lap_u = taylor.Exact()(op, u, x)                   # all 1000 directions

Backends (subclasses of :class:`AbstractBackend`): :class:`Exact` (collapsed Taylor mode
by default, or vmapped jets), :class:`SparseSTDE`, :class:`DenseSTDE` (Shi et al., NeurIPS
2024), and the baselines :class:`HessianTrace`, :class:`Hutchinson`, :class:`SDGD` and
:class:`ForwardLaplacian` (folx).
"""

from ._backends import (
    SDGD,
    AbstractBackend,
    DenseSTDE,
    Exact,
    ForwardLaplacian,
    HessianTrace,
    Hutchinson,
    SparseSTDE,
    apply,
    two_draw_product,
)
from ._collapsed import collapsed_sum
from ._directions import (
    DenseDirections,
    SparseDirections,
    operator_directions,
    polarization_lattice,
)
from ._evaluate import MODES, directional_derivatives, directional_sum
from ._operator import (
    DifferentialOperator,
    DirectionalTerms,
    PartialTerms,
    biharmonic,
    diffusion_trace,
    directional,
    from_terms,
    gradient_dot,
    laplacian,
    partial,
    time_derivative,
)

__all__ = [
    "MODES",
    "SDGD",
    "AbstractBackend",
    "DenseDirections",
    "DenseSTDE",
    "DifferentialOperator",
    "DirectionalTerms",
    "Exact",
    "ForwardLaplacian",
    "HessianTrace",
    "Hutchinson",
    "PartialTerms",
    "SparseDirections",
    "SparseSTDE",
    "apply",
    "biharmonic",
    "collapsed_sum",
    "diffusion_trace",
    "directional",
    "directional_derivatives",
    "directional_sum",
    "from_terms",
    "gradient_dot",
    "laplacian",
    "operator_directions",
    "partial",
    "polarization_lattice",
    "time_derivative",
    "two_draw_product",
]
