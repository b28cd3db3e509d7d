"""Batch PINN studies: a TOML grid of runs, trained as vmapped (and sharded) ensembles,
checkpointed with orbax, resumable after a crash, summarised in a results table."""

from ._config import BACKENDS as BACKENDS
from ._config import PROBLEMS as PROBLEMS
from ._config import Study as Study
from ._config import StudyFileError as StudyFileError
from ._config import load as load
from ._config import parse as parse
from ._ensemble import Ensemble as Ensemble
from ._report import report as report
from ._report import status as status
from ._runner import run as run
