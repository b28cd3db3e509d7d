"""Neural Spectral Methods (Du, Chalapathi, Krishnapriyan, ICLR 2024) and their classical
spectral references.

* Bases: :class:`Fourier` (periodic [0, 1), real storage through rfft), :class:`Chebyshev`
  (an interval, DCT-I transform, derivative/integral recurrences), :class:`TensorBasis`
  (products of them); transforms, evaluation on any grid or at any points, dealiased
  products, Parseval norms.
* The spectral residual loss (:func:`spectral_loss`) and exact constraints
  (:func:`zero_mean`, :func:`dirichlet_mollifier`, :func:`initial_value_mollifier`).
* Models: :class:`NSM` (coefficients to coefficients) and the baseline :class:`FNO`
  (grid values), trained by :func:`train_operator` with fresh PDE parameters each step.

Problems and float64 reference solvers live in :mod:`jaxsci.pde.parametric`.
"""

from ._chebyshev import Chebyshev
from ._fourier import Fourier
from ._loss import (
    dirichlet_mollifier,
    initial_value_mollifier,
    navier_stokes_residual,
    poisson_residual,
    reaction_diffusion_residual,
    spectral_loss,
    stream_function,
    zero_mean,
)
from ._models import FNO, NSM
from ._tasks import (
    fno_poisson_data_loss,
    fno_poisson_pinn_loss,
    fno_poisson_solution,
    fno_rd_data_loss,
    fno_rd_pinn_loss,
    fno_rd_values,
    navier_stokes_basis,
    nsm_ns_loss,
    nsm_ns_solution,
    nsm_ns_values,
    nsm_poisson_loss,
    nsm_poisson_solution,
    nsm_rd_loss,
    nsm_rd_solution,
    nsm_rd_values,
    periodic_resample,
    poisson_basis,
    reaction_diffusion_basis,
    relative_l2,
)
from ._tensor import TensorBasis
from ._train import OperatorTrainResult, train_operator

__all__ = [
    "FNO",
    "NSM",
    "Chebyshev",
    "Fourier",
    "OperatorTrainResult",
    "TensorBasis",
    "dirichlet_mollifier",
    "fno_poisson_data_loss",
    "fno_poisson_pinn_loss",
    "fno_poisson_solution",
    "fno_rd_data_loss",
    "fno_rd_pinn_loss",
    "fno_rd_values",
    "initial_value_mollifier",
    "navier_stokes_basis",
    "navier_stokes_residual",
    "nsm_ns_loss",
    "nsm_ns_solution",
    "nsm_ns_values",
    "nsm_poisson_loss",
    "nsm_poisson_solution",
    "nsm_rd_loss",
    "nsm_rd_solution",
    "nsm_rd_values",
    "periodic_resample",
    "poisson_basis",
    "poisson_residual",
    "reaction_diffusion_basis",
    "reaction_diffusion_residual",
    "relative_l2",
    "spectral_loss",
    "stream_function",
    "train_operator",
    "zero_mean",
]
