from _case import BadInput

from jaxsci import studies

_OK = {"study": {"name": "s"}, "problem": {"name": "two_body_poisson", "dim": 5}, "train": {"steps": 10,
       "eval_every": 5, "checkpoint_every": 10}}


def _with(section, **fields):
    data = {k: dict(v) for k, v in _OK.items()}
    data.setdefault(section, {}).update(fields)
    return lambda: studies.parse(data)


CASES = [
    BadInput("study-unknown-section", lambda: studies.parse({**_OK, "optimiser": {}}), studies.StudyFileError,
             "unknown section `optimiser`"),
    BadInput("study-unknown-field", _with("train", epochs=5), studies.StudyFileError, "unknown field `train.epochs`"),
    BadInput("study-problem-name", _with("problem", name="heat"), studies.StudyFileError, "`problem.name` must be one of"),
    BadInput("study-backend-name", _with("backend", name="folx"), studies.StudyFileError, "`backend.name` must be one of"),
    BadInput("study-type", _with("train", steps="ten"), studies.StudyFileError, "`train.steps` must be int"),
    BadInput("study-negative-lr", _with("train", learning_rate=-1e-3), studies.StudyFileError, "`train.learning_rate` must be positive"),
    BadInput("study-list-not-allowed", _with("train", steps=[10, 20]), studies.StudyFileError, "takes a single value"),
    BadInput("study-missing", lambda: studies.parse({"study": {"name": "s"}, "problem": {"name": "two_body_poisson"},
                                                      "train": {"steps": 3}}), studies.StudyFileError,
             "missing field `problem.dim`"),
    BadInput("study-eval-too-large", _with("train", eval_every=50), studies.StudyFileError, "at most `train.steps`"),
    BadInput("study-checkpoint-multiple", _with("train", eval_every=3, checkpoint_every=10), studies.StudyFileError,
             "multiple of `train.eval_every`"),
    BadInput("study-dim-small", _with("problem", name="three_body_poisson", dim=2), studies.StudyFileError,
             "`problem.dim` must be >= 3"),
    BadInput("study-shard-mode", _with("devices", shard="pmap"), studies.StudyFileError, "`devices.shard` must be one of"),
    BadInput("study-empty-list", _with("train", seeds=[]), studies.StudyFileError, "empty list"),
    BadInput("study-missing-file", lambda: studies.load("/nonexistent/study.toml"), FileNotFoundError, "does not exist"),
]
