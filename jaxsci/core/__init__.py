"""Shared jit/vmap-compiled primitives used by every jaxsci method family: the training
loop :func:`fit`, result codes :class:`RESULTS`, least squares, :func:`relative_l2`,
memory-bounded vmap, PRNG and dtype helpers, a progress bar that works under jit."""

from ._dtype import (
    PrecisionWarning as PrecisionWarning,
    as_float_array as as_float_array,
    default_float_dtype as default_float_dtype,
    enable_x64 as enable_x64,
    x64_enabled as x64_enabled,
)
from ._fit import FitResult as FitResult, fit as fit
from ._lstsq import (
    LeastSquaresSolution as LeastSquaresSolution,
    gauss_newton_step as gauss_newton_step,
    least_squares as least_squares,
)
from ._metrics import relative_l2 as relative_l2
from ._progress import ProgressBar as ProgressBar
from ._random import (
    random_tangents as random_tangents,
    sample_without_replacement as sample_without_replacement,
    split_like as split_like,
)
from ._residual import ResidualLoss as ResidualLoss, ResidualObjective as ResidualObjective
from ._results import RESULTS as RESULTS
from ._tree import (
    jacobian_wrt_params as jacobian_wrt_params,
    num_params as num_params,
    ravel as ravel,
    ravel_model as ravel_model,
)
from ._vmap import chunked_vmap as chunked_vmap

__all__ = [
    "RESULTS",
    "FitResult",
    "LeastSquaresSolution",
    "PrecisionWarning",
    "ProgressBar",
    "ResidualLoss",
    "ResidualObjective",
    "as_float_array",
    "chunked_vmap",
    "default_float_dtype",
    "enable_x64",
    "fit",
    "gauss_newton_step",
    "jacobian_wrt_params",
    "least_squares",
    "num_params",
    "random_tangents",
    "ravel",
    "ravel_model",
    "relative_l2",
    "sample_without_replacement",
    "split_like",
    "x64_enabled",
]
