from _case import BadInput

from jaxsci import studies

_OK = {"study": {"name": "s"}, "problem": {"name": "two_body_poisson", "dim": 5}, "train": {"steps": 10,
       "eval_every": 5, "checkpoint_every": 10}}


def _with(section, **fields):
    data = {k: dict(v) for k, v in _OK.items()}
    data.setdefault(section, {}).update(fields)
    return lambda: studies.parse(data)


CASES = [
    BadInput("studies-unknown-section", lambda: studies.parse({**_OK, "optimiser": {}}), studies.StudyFileError,
             "unknown section `optimiser`"),
    BadInput("studies-unknown-field", _with("train", epochs=5), studies.StudyFileError, "unknown field `train.epochs`"),
    BadInput("studies-problem-name", _with("problem", name="heat"), studies.StudyFileError, "`problem.name` must be one of"),
    BadInput("studies-backend-name", _with("backend", name="folx"), studies.StudyFileError, "`backend.name` must be one of"),
    BadInput("studies-type", _with("train", steps="ten"), studies.StudyFileError, "`train.steps` must be int"),
    BadInput("studies-negative-lr", _with("train", learning_rate=-1e-3), studies.StudyFileError, "`train.learning_rate` must be positive"),
    BadInput("studies-list-not-allowed", _with("train", steps=[10, 20]), studies.StudyFileError, "takes a single value"),
    BadInput("studies-missing", lambda: studies.parse({"study": {"name": "s"}, "problem": {"name": "two_body_poisson"},
                                                      "train": {"steps": 3}}), studies.StudyFileError,
             "missing field `problem.dim`"),
    BadInput("studies-eval-too-large", _with("train", eval_every=50), studies.StudyFileError, "at most `train.steps`"),
    BadInput("studies-checkpoint-multiple", _with("train", eval_every=3, checkpoint_every=10), studies.StudyFileError,
             "multiple of `train.eval_every`"),
    BadInput("studies-dim-small", _with("problem", name="three_body_poisson", dim=2), studies.StudyFileError,
             "`problem.dim` must be >= 3"),
    BadInput("studies-shard-mode", _with("devices", shard="pmap"), studies.StudyFileError, "`devices.shard` must be one of"),
    BadInput("studies-empty-list", _with("train", seeds=[]), studies.StudyFileError, "empty list"),
    BadInput("studies-missing-file", lambda: studies.load("/nonexistent/study.toml"), FileNotFoundError, "does not exist"),
]


def _bad_toml():
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "study.toml"
    path.write_text("[study\nname = 's'\n")
    return studies.load(path)


CASES += [
    BadInput("studies-nan-lr", _with("train", learning_rate=float("nan")), studies.StudyFileError,
             "`train.learning_rate` must be a finite number"),
    BadInput("studies-inf-lr", _with("train", learning_rate=float("inf")), studies.StudyFileError, "finite number"),
    BadInput("studies-nan-lr-in-list", _with("train", learning_rate=[1e-3, float("nan")]), studies.StudyFileError,
             "must be a finite number"),
    BadInput("studies-duplicate-seeds", _with("train", seeds=[0, 1, 0]), studies.StudyFileError,
             "`train.seeds` lists 0 twice"),
    BadInput("studies-duplicate-lr", _with("train", learning_rate=[1e-3, 0.001]), studies.StudyFileError,
             "`train.learning_rate` lists 0.001 twice"),
    BadInput("studies-duplicate-dim", _with("problem", dim=[5, 5]), studies.StudyFileError, "`problem.dim` lists 5 twice"),
    BadInput("studies-duplicate-backend", _with("backend", name=["exact", "exact"]), studies.StudyFileError,
             "every grid entry must be distinct"),
    BadInput("studies-negative-seed", _with("train", seeds=[-1]), studies.StudyFileError, "non-negative integers"),
    BadInput("studies-bool-steps", _with("train", steps=True), studies.StudyFileError, "`train.steps` must be int"),
    BadInput("studies-float-width", _with("train", width=3.5), studies.StudyFileError, "`train.width` must be int"),
    BadInput("studies-zero-batch", _with("train", batch_size=0), studies.StudyFileError,
             "`train.batch_size` must be positive"),
    BadInput("studies-section-not-table", lambda: studies.parse({**_OK, "backend": "exact"}), studies.StudyFileError,
             "`backend` must be a table"),
    BadInput("studies-invalid-toml", _bad_toml, studies.StudyFileError, "is not valid TOML"),
]


def _group_of(**study):
    return studies.Study(steps=4, eval_every=2, **study).groups[0]


def _failing_problem(**settings):
    raise RuntimeError("the mesh file is missing")


def _not_a_problem():
    return object()


def _build_problem(**study):
    from jaxsci.studies._ensemble import make_problem

    return lambda: make_problem(_group_of(**study))


CASES += [
    BadInput("studies-entry-no-module", _with("problem", name="no_such_pkg.mod:Problem"), studies.StudyFileError,
             "`problem.name` = 'no_such_pkg.mod:Problem': cannot import module 'no_such_pkg.mod'"),
    BadInput("studies-entry-no-attribute", _with("model", name="optax:no_such_model"), studies.StudyFileError,
             "`model.name` = 'optax:no_such_model': module 'optax' has no attribute 'no_such_model'"),
    BadInput("studies-entry-malformed", _with("problem", name="mypkg.mod.Problem"), studies.StudyFileError,
             "`problem.name` must be one of"),
    BadInput("studies-optimizer-unknown", _with("optimizer", name="adamm"), studies.StudyFileError,
             "`optimizer.name` = 'adamm' is not an optax optimizer"),
    BadInput("studies-setting-nan", _with("problem", name="jaxsci.pde.classical:Poisson2D", scale=float("nan")),
             studies.StudyFileError, "`problem.scale` must be a finite number"),
    BadInput("studies-builtin-unknown-setting", _with("model", width=8, heads=2), studies.StudyFileError,
             "unknown field `model.heads` for the built-in model 'mlp'"),
    BadInput("studies-grid-axis-unknown", lambda: _group_of(problem="two_body_poisson", grid={"epochs": [1, 2]}),
             studies.StudyFileError, "unknown grid axis `epochs`"),
    BadInput("studies-boundary-weight-negative",
             lambda: _group_of(problem="two_body_poisson", grid={"problem.dim": 3, "boundary_weight": -1.0}),
             studies.StudyFileError, "`boundary_weight` must be >= 0"),
    BadInput("studies-entry-call-fails", _build_problem(problem=_failing_problem, grid={"problem.mesh": "a.msh"}),
             studies.StudyFileError, "failed when called with {'mesh': 'a.msh'}: RuntimeError: the mesh file is missing"),
    BadInput("studies-entry-not-a-problem", _build_problem(problem=_not_a_problem), studies.StudyFileError,
             "gave object, not a jaxsci.pde.PDEProblem"),
]

CASES += [
    BadInput("studies-coordinator-format", _with("devices", coordinator="localhost"), studies.StudyFileError,
             "`devices.coordinator` must be 'host:port'"),
    BadInput("studies-process-id-range", _with("devices", num_processes=2, process_id=2), studies.StudyFileError,
             "`devices.process_id` must be in [0, num_processes)"),
    BadInput("studies-shard-points-uneven", lambda: _ensemble_of(shard="points"), ValueError,
             "cannot be split evenly over 8 devices along the points axis"),
]


def _ensemble_of(shard):
    import jax

    from jaxsci.studies._ensemble import Ensemble

    study = studies.Study(problem="two_body_poisson", steps=2, eval_every=2, shard=shard,
                          grid={"problem.dim": 2, "batch_size": 12})
    fake = [jax.devices()[0]] * 8  # the check runs before any array is placed
    return Ensemble(study, study.groups[0], devices=fake)
