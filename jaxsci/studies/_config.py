"""Study files: a TOML grid of PINN runs, validated at load time.

Example (every field shown; lists make the grid):

    [study]
    name = "allen-cahn-small"
    output = "runs/allen-cahn-small"      # relative to the study file

    [problem]
    name = "two_body_allen_cahn"          # <solution>_<equation>, see PROBLEMS
    dim = [10, 100]

    [backend]
    name = "sparse_stde"                  # see BACKENDS
    num_samples = 16

    [train]
    steps = 2000
    learning_rate = [1e-3, 3e-3]          # ensemble axis (data, not a compile-time constant)
    seeds = [0, 1, 2, 3]                  # ensemble axis
    batch_size = 100
    width = 64
    depth = 3
    eval_every = 500
    checkpoint_every = 500
    test_points = 2000

    [devices]
    shard = "ensemble"                    # "ensemble" (split members over devices) or "none"
    distributed = false                   # true: jax.distributed.initialize() (multi-host)

Runs that differ only in seed or learning rate share shapes and form one *group*, trained
as one vmapped (and sharded) ensemble; every other list field multiplies the groups.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from pathlib import Path

PROBLEMS = tuple(f"{s}_{e}" for s in ("two_body", "three_body") for e in ("poisson", "allen_cahn", "sine_gordon"))
BACKENDS = ("exact", "sparse_stde", "dense_stde", "sdgd", "hutchinson")
SHARD_MODES = ("ensemble", "none")

# section -> field -> (type, default or REQUIRED, list allowed, allowed values or None)
REQUIRED = object()
SCHEMA = {
    "study": {"name": (str, REQUIRED, False, None), "output": (str, "runs", False, None)},
    "problem": {"name": (str, REQUIRED, True, PROBLEMS), "dim": (int, REQUIRED, True, None)},
    "backend": {"name": (str, "sparse_stde", True, BACKENDS), "num_samples": (int, 16, True, None)},
    "train": {
        "steps": (int, REQUIRED, False, None),
        "learning_rate": (float, 1e-3, True, None),
        "seeds": (int, [0], True, None),
        "batch_size": (int, 100, True, None),
        "width": (int, 64, True, None),
        "depth": (int, 3, True, None),
        "eval_every": (int, 500, False, None),
        "checkpoint_every": (int, 500, False, None),
        "test_points": (int, 2000, False, None),
    },
    "devices": {"shard": (str, "ensemble", False, SHARD_MODES), "distributed": (bool, False, False, None)},
}
ENSEMBLE_FIELDS = ("learning_rate", "seeds")


class StudyFileError(ValueError):
    """A malformed study file; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Group:
    """Runs that share shapes: one compiled ensemble over ``members`` = (seed, lr) pairs."""

    key: str
    problem: str
    dim: int
    backend: str
    num_samples: int
    batch_size: int
    width: int
    depth: int
    members: tuple[tuple[int, float], ...]


@dataclasses.dataclass(frozen=True)
class Study:
    """A validated study file: the shared settings and the groups of its grid."""

    name: str
    output: Path
    steps: int
    eval_every: int
    checkpoint_every: int
    test_points: int
    shard: str
    distributed: bool
    groups: tuple[Group, ...]


def _check_value(path: str, value, kind, allowed):
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise StudyFileError(f"`{path}` must be {kind.__name__}, got {value!r}.")
    if allowed is not None and value not in allowed:
        raise StudyFileError(f"`{path}` must be one of {list(allowed)}, got {value!r}.")
    if kind is float and not math.isfinite(value):
        raise StudyFileError(f"`{path}` must be a finite number, got {value!r}.")
    if kind in (int, float) and value <= 0 and path != "train.seeds":
        raise StudyFileError(f"`{path}` must be positive, got {value!r}.")
    if path == "train.seeds" and value < 0:
        raise StudyFileError(f"`{path}` must be non-negative integers, got {value!r}.")


def parse(data: dict, base: Path = Path(".")) -> Study:
    """Validate a parsed TOML mapping and expand its grid.

    Every field is checked (type, sign, finiteness, allowed names, no duplicate grid
    entries); a bad one raises :class:`StudyFileError` naming it.

    Example:
        >>> study = parse({"study": {"name": "s"}, "problem": {"name": "two_body_poisson", "dim": [5, 10]},
        ...                "train": {"steps": 10, "eval_every": 5, "checkpoint_every": 10, "seeds": [0, 1]}})
        >>> len(study.groups), len(study.groups[0].members)
        (2, 2)
    """
    unknown = set(data) - set(SCHEMA)
    if unknown:
        raise StudyFileError(f"unknown section `{sorted(unknown)[0]}`; allowed sections: {list(SCHEMA)}.")
    values: dict[str, dict] = {}
    for section, fields in SCHEMA.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise StudyFileError(f"`{section}` must be a table ([{section}]).")
        extra = set(given) - set(fields)
        if extra:
            raise StudyFileError(f"unknown field `{section}.{sorted(extra)[0]}`; allowed fields: {list(fields)}.")
        values[section] = {}
        for name, (kind, default, listable, allowed) in fields.items():
            path = f"{section}.{name}"
            if name not in given:
                if default is REQUIRED:
                    raise StudyFileError(f"missing field `{path}`.")
                value = default
            else:
                value = given[name]
            if isinstance(value, list):
                if not listable:
                    raise StudyFileError(f"`{path}` takes a single value, not a list.")
                if not value:
                    raise StudyFileError(f"`{path}` is an empty list.")
                for v in value:
                    _check_value(path, v, kind, allowed)
                seen = set()
                for v in value:
                    if (float(v) if kind is float else v) in seen:
                        raise StudyFileError(
                            f"`{path}` lists {v!r} twice; every grid entry must be distinct "
                            "(duplicates would train the same run twice)."
                        )
                    seen.add(float(v) if kind is float else v)
            else:
                _check_value(path, value, kind, allowed)
            values[section][name] = value
    train = values["train"]
    for name in ("eval_every", "checkpoint_every"):
        if train[name] > train["steps"]:
            raise StudyFileError(f"`train.{name}` ({train[name]}) must be at most `train.steps` ({train['steps']}).")
    if train["checkpoint_every"] % train["eval_every"]:
        raise StudyFileError("`train.checkpoint_every` must be a multiple of `train.eval_every`.")

    as_list = lambda v: v if isinstance(v, list) else [v]
    members = tuple(itertools.product(as_list(train["seeds"]), [float(x) for x in as_list(train["learning_rate"])]))
    groups = []
    for problem, dim, backend, samples, batch, width, depth in itertools.product(
        as_list(values["problem"]["name"]), as_list(values["problem"]["dim"]), as_list(values["backend"]["name"]),
        as_list(values["backend"]["num_samples"]), as_list(train["batch_size"]), as_list(train["width"]),
        as_list(train["depth"]),
    ):
        lowest = 3 if problem.startswith("three_body") else 2
        if dim < lowest:
            raise StudyFileError(f"`problem.dim` must be >= {lowest} for {problem}, got {dim}.")
        key = f"{problem}-d{dim}-{backend}{samples if backend != 'exact' else ''}-b{batch}-w{width}x{depth}"
        groups.append(Group(key, problem, dim, backend, samples, batch, width, depth, members))
    study = values["study"]
    return Study(study["name"], (base / study["output"]).resolve(), train["steps"], train["eval_every"],
                 train["checkpoint_every"], train["test_points"], values["devices"]["shard"],
                 values["devices"]["distributed"], tuple(groups))


def load(path) -> Study:
    """Read and validate a study file (TOML); see :func:`parse`.

    Example:
        >>> load("no/such/study.toml")
        Traceback (most recent call last):
        ...
        FileNotFoundError: study file no/such/study.toml does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"study file {path} does not exist.")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise StudyFileError(f"{path} is not valid TOML: {err}") from err
    return parse(data, path.parent)
