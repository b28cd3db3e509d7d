"""Batch PINN studies: a TOML grid of runs, trained as vmapped (and sharded) ensembles
through :func:`jaxsci.core.fit`, checkpointed with orbax, resumable after a crash,
summarised in a results table."""

from ._config import (
    BACKENDS as BACKENDS,
    PROBLEMS as PROBLEMS,
    Study as Study,
    StudyFileError as StudyFileError,
    load as load,
    parse as parse,
)
from ._ensemble import Ensemble as Ensemble
from ._report import report as report, status as status
from ._runner import run as run

__all__ = [
    "BACKENDS",
    "PROBLEMS",
    "Ensemble",
    "Study",
    "StudyFileError",
    "load",
    "parse",
    "report",
    "run",
    "status",
]
