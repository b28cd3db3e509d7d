"""Studies: a grid of PINN runs over any problem, model, optimizer, backend and sampler,
given in Python (:class:`Study`) or in a TOML file (:func:`load`), validated up front.

A TOML file (every section optional except ``[study]``, ``[problem]`` and ``train.steps``;
lists make the grid):

    [study]
    name = "helmholtz"
    output = "runs/helmholtz"             # relative to the study file

    [problem]
    name = "helmholtz:Helmholtz2D"        # "package.module:attribute", or a built-in name (PROBLEMS)
    wavenumber = [1.0, 2.0]               # any other field: a keyword of the factory (a grid axis if a list)

    [model]
    name = "mlp"                          # built-in tanh MLP (width, depth), or "package.module:attribute"
    width = 32
    depth = 2

    [optimizer]
    name = "adam"                         # any optax optimizer by name, or "package.module:attribute"
    b2 = 0.99                             # its other keywords (the learning rate is train.learning_rate)

    [sampler]
    name = "uniform"                      # uniform, halton, sobol, or "package.module:attribute"

    [backend]
    name = "exact"                        # see BACKENDS, or "package.module:attribute"

    [train]
    steps = 2000
    learning_rate = [1e-3, 3e-3]          # ensemble axis (data in the optimizer state)
    seeds = [0, 1, 2, 3]                  # ensemble axis
    batch_size = 256
    residual_weight = 1.0                 # loss = w_r * residual + w_b * condition term
    boundary_weight = [1.0, 10.0]         # (boundary or terminal data, when the problem has them)
    eval_every = 500
    checkpoint_every = 500
    test_points = 2000

    [devices]
    shard = "ensemble"                    # "members" (= "ensemble"), "points", "both" or "none"
    distributed = false

Factories named ``"package.module:attribute"`` are imported (a module next to the study
file is found), never unpickled or evaluated; a string setting of that form (for example
``activation = "jax.numpy:tanh"``) is imported too. Runs that differ only in seed or
learning rate form one *group*, trained as one vmapped ensemble; every other axis with
several values multiplies the groups.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import math
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROBLEMS = tuple(f"{s}_{e}" for s in ("two_body", "three_body") for e in ("poisson", "allen_cahn", "sine_gordon"))
BACKENDS = ("exact", "sparse_stde", "dense_stde", "sdgd", "hutchinson")
MODELS = ("mlp",)
SAMPLERS = ("uniform", "halton", "sobol")
SHARD_MODES = ("members", "points", "both", "ensemble", "none")
COMPONENTS = ("problem", "model", "optimizer", "backend", "sampler")
TRAIN_AXES = ("seed", "learning_rate", "batch_size", "residual_weight", "boundary_weight")
ENTRY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class StudyFileError(ValueError):
    """A malformed study (file or :class:`Study` arguments); the message names the field."""


def resolve(spec: str, entry: str, base: Path | None = None) -> Any:
    """Import ``"package.module:attribute"`` (``entry`` names the field in errors); a
    module in ``base`` (the study file's folder) is found too.

    Example:
        >>> resolve("optax:adam", "optimizer.name").__name__
        'adam'
        >>> resolve("no_such_module:f", "model.name")
        Traceback (most recent call last):
        ...
        jaxsci.studies._config.StudyFileError: `model.name` = 'no_such_module:f': cannot import module 'no_such_module' (ModuleNotFoundError: No module named 'no_such_module'); it must be installed or lie next to the study file.
    """
    if not isinstance(spec, str) or not ENTRY.match(spec):
        raise StudyFileError(f"`{entry}` = {spec!r} must be 'package.module:attribute'.")
    module_name, attr = spec.split(":")
    if base is not None and str(base) not in sys.path:
        sys.path.insert(0, str(base))
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as err:
        raise StudyFileError(
            f"`{entry}` = {spec!r}: cannot import module {module_name!r} ({type(err).__name__}: {err}); "
            "it must be installed or lie next to the study file."
        ) from err
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise StudyFileError(f"`{entry}` = {spec!r}: module {module_name!r} has no attribute {attr!r}.")
        obj = getattr(obj, part)
    return obj


def call(entry: str, label: str, factory: Callable, *args, **kwargs) -> Any:
    """``factory(*args, **kwargs)``; an exception is re-raised as :class:`StudyFileError`
    naming the study entry and the settings it was called with."""
    try:
        return factory(*args, **kwargs)
    except StudyFileError:
        raise
    except Exception as err:
        shown = {k: v for k, v in kwargs.items() if k != "key"}
        raise StudyFileError(
            f"`{entry}` = {label!r} failed when called with {shown}: {type(err).__name__}: {err}"
        ) from err


@dataclasses.dataclass(frozen=True, eq=False)
class Component:
    """One factory of a group (problem, model, optimizer, backend or sampler): ``spec`` is
    a built-in name or the imported object, ``settings`` its keywords."""

    entry: str
    label: str
    spec: Any
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def builtin(self) -> bool:
        return isinstance(self.spec, str)

    def kwargs(self) -> dict[str, Any]:
        return dict(self.settings)


@dataclasses.dataclass(frozen=True, eq=False)
class Group:
    """Runs that share shapes: one compiled ensemble over ``members`` = (seed, lr) pairs.

    ``problem``, ``backend`` are labels (built-in name or entry point); ``dim``,
    ``num_samples``, ``width``, ``depth`` are set for the built-in problem, backend and
    model (else ``None``); ``settings`` are this group's values of the grid axes."""

    key: str
    problem: str
    dim: int | None
    backend: str
    num_samples: int | None
    batch_size: int
    width: int | None
    depth: int | None
    members: tuple[tuple[int, float], ...]
    components: dict[str, Component] = dataclasses.field(default_factory=dict)
    residual_weight: float = 1.0
    boundary_weight: float | None = None
    settings: tuple[tuple[str, Any], ...] = ()


def _check_value(path: str, value, kind, allowed=None, positive=True):
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise StudyFileError(f"`{path}` must be {kind.__name__}, got {value!r}.")
    if allowed is not None and value not in allowed:
        raise StudyFileError(f"`{path}` must be one of {list(allowed)}, got {value!r}.")
    if kind is float and not math.isfinite(value):
        raise StudyFileError(f"`{path}` must be a finite number, got {value!r}.")
    if path.endswith("seeds") or path == "seed":
        if value < 0:
            raise StudyFileError(f"`{path}` must be non-negative integers, got {value!r}.")
    elif positive and kind in (int, float) and value <= 0:
        raise StudyFileError(f"`{path}` must be positive, got {value!r}.")


def _check_setting(path: str, value) -> None:
    """A factory keyword from a file or grid: numbers must be finite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise StudyFileError(f"`{path}` must be a finite number, got {value!r}.")
    if isinstance(value, (dict, list)):
        raise StudyFileError(f"`{path}` must be a number, string or boolean, got {value!r}.")


def _as_list(path: str, value) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise StudyFileError(f"`{path}` is an empty list.")
    seen: list = []
    for v in values:
        norm = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        plain = (int, float, str, bool)
        if any(norm is s or (isinstance(norm, plain) and type(norm) is type(s) and norm == s) for s in seen):
            raise StudyFileError(
                f"`{path}` lists {v!r} twice; every grid entry must be distinct (duplicates would "
                "train the same run twice)."
            )
        seen.append(norm)
    return values


def _label(spec) -> str:
    if isinstance(spec, str):
        return spec
    name = getattr(spec, "__qualname__", None) or type(spec).__qualname__
    return f"{getattr(spec, '__module__', type(spec).__module__)}:{name}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_")[:120]


def _component(entry: str, spec, base: Path | None) -> tuple[str, Any]:
    """(label, spec): built-in names stay strings, entry points are imported."""
    builtins = {"problem": PROBLEMS, "model": MODELS, "backend": BACKENDS, "sampler": SAMPLERS}.get(entry)
    if isinstance(spec, str):
        if ":" in spec:
            return spec, resolve(spec, f"{entry}.name", base)
        if entry == "optimizer":
            import optax

            if not callable(getattr(optax, spec, None)):
                raise StudyFileError(
                    f"`optimizer.name` = {spec!r} is not an optax optimizer; give one by name (adam, "
                    "adamw, sgd, lion, ...) or as 'package.module:attribute'."
                )
            return spec, spec
        if builtins is not None and spec not in builtins:
            raise StudyFileError(
                f"`{entry}.name` must be one of {list(builtins)} or 'package.module:attribute', got {spec!r}."
            )
        return spec, spec
    if spec is None:
        raise StudyFileError(f"`{entry}` is missing.")
    return _label(spec), spec


class Study:
    """A validated study: shared settings and the groups of its grid.

    Args:
        problem: a :class:`jaxsci.pde.PDEProblem`, a callable returning one (called with
            its ``problem.*`` settings), a built-in name (:data:`PROBLEMS`, with
            ``problem.dim``) or ``"package.module:attribute"``.
        model: ``"mlp"`` (a tanh MLP; ``model.width``, ``model.depth``) or a callable
            ``(**settings, key=key) -> equinox module`` (given ``problem=`` too if it takes
            that keyword), e.g. ``equinox.nn.MLP``.
        optimizer: an optax optimizer name (``"adam"``) or factory ``(learning_rate,
            **settings) -> GradientTransformation``; wrapped in ``optax.inject_hyperparams``
            so that the learning rate is per member, times a linear decay to 0 (clamped).
        backend: a :mod:`jaxsci.taylor` backend object, a built-in name (:data:`BACKENDS`,
            with ``backend.num_samples``) or a factory.
        sampler: ``"uniform"`` (the domain's sampler), ``"halton"``, ``"sobol"`` or a
            callable ``(domain, n, *, key, **settings) -> points``.
        grid: axis -> value or list of values: ``seed``, ``learning_rate`` (the ensemble
            axes), ``batch_size``, ``residual_weight``, ``boundary_weight`` and
            ``"<component>.<keyword>"`` (``"problem.dim"``, ``"model.width"``,
            ``"sampler.start"``, ...). Lists of the other axes make the groups.
        steps, eval_every, checkpoint_every, test_points: training steps; steps between
            evaluations/results rows and between checkpoints (a multiple of
            ``eval_every``); test points of the error.
        name, output: the study's name and output folder (relative to ``base``).
        shard, distributed: see :data:`SHARD_MODES`; multi-host start
            (``jax.distributed.initialize``).
        coordinator, num_processes, process_id: its arguments (``"host:port"``); unset ones
            come from the command line, the environment (``JAX_COORDINATOR_ADDRESS``,
            ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``) or JAX's own detection of SLURM and
            Cloud TPU.

    Example:
        >>> from jaxsci.pde.classical import Poisson2D
        >>> study = Study(problem=Poisson2D, backend="exact", steps=10, eval_every=5,
        ...               grid={"seed": [0, 1], "learning_rate": [1e-3, 1e-2], "model.width": [8, 16]})
        >>> len(study.groups), len(study.groups[0].members)
        (2, 4)
    """

    def __init__(self, *, problem, model="mlp", optimizer="adam", backend="sparse_stde", sampler="uniform",
                 grid: dict | None = None, steps: int, eval_every: int | None = None,
                 checkpoint_every: int | None = None, test_points: int = 2000, name: str = "study",
                 output="runs", shard: str = "none", distributed: bool = False, coordinator: str | None = None,
                 num_processes: int | None = None, process_id: int | None = None, base=None,
                 _sources: dict | None = None):
        base_path = Path(base) if base is not None else Path(".")
        _check_value("study.name", name, str)
        _check_value("train.steps", steps, int)
        eval_every = min(500, steps) if eval_every is None else eval_every
        checkpoint_every = eval_every if checkpoint_every is None else checkpoint_every
        for field, value in (("train.eval_every", eval_every), ("train.checkpoint_every", checkpoint_every),
                             ("train.test_points", test_points)):
            _check_value(field, value, int)
        for field, value in (("eval_every", eval_every), ("checkpoint_every", checkpoint_every)):
            if value > steps:
                raise StudyFileError(f"`train.{field}` ({value}) must be at most `train.steps` ({steps}).")
        if checkpoint_every % eval_every:
            raise StudyFileError("`train.checkpoint_every` must be a multiple of `train.eval_every`.")
        _check_value("devices.shard", shard, str, SHARD_MODES)
        _check_value("devices.distributed", distributed, bool)
        if coordinator is not None and (not isinstance(coordinator, str) or ":" not in coordinator):
            raise StudyFileError(f"`devices.coordinator` must be 'host:port', got {coordinator!r}.")
        if num_processes is not None:
            _check_value("devices.num_processes", num_processes, int)
        if process_id is not None:
            _check_value("devices.process_id", process_id, int, positive=False)
            if process_id < 0 or (num_processes is not None and process_id >= num_processes):
                raise StudyFileError(f"`devices.process_id` must be in [0, num_processes), got {process_id!r}.")
        self.coordinator, self.num_processes, self.process_id = coordinator, num_processes, process_id
        sources = _sources or {}
        axes: dict[str, list] = {}
        for entry, spec in (("problem", problem), ("model", model), ("optimizer", optimizer),
                            ("backend", backend), ("sampler", sampler)):
            specs = _as_list(sources.get(entry, f"{entry}.name"), spec if isinstance(spec, list) else [spec])
            axes[entry] = [_component(entry, s, base) for s in specs]
        grid = dict(grid or {})
        if "seeds" in grid:
            grid["seed"] = grid.pop("seeds")
        grid.setdefault("seed", [0])
        grid.setdefault("learning_rate", [1e-3])
        grid.setdefault("batch_size", [100])
        grid.setdefault("residual_weight", [1.0])
        for axis, value in grid.items():
            path = sources.get(axis, axis)
            if not isinstance(axis, str):
                raise StudyFileError(f"grid axis {axis!r} must be a string.")
            values = _as_list(path, value)
            if axis in ("seed", "batch_size"):
                for v in values:
                    _check_value(path, v, int)
            elif axis in ("learning_rate", "residual_weight"):
                for v in values:
                    _check_value(path, v, float)
            elif axis == "boundary_weight":
                for v in values:
                    _check_value(path, v, float, positive=False)
                    if v < 0:
                        raise StudyFileError(f"`{path}` must be >= 0, got {v!r}.")
            elif "." in axis and axis.split(".", 1)[0] in COMPONENTS:
                for v in values:
                    _check_setting(path, v)
            else:
                raise StudyFileError(
                    f"unknown grid axis `{axis}`; allowed: {list(TRAIN_AXES)} and '<component>.<keyword>' "
                    f"with a component in {list(COMPONENTS)} (e.g. 'problem.dim', 'model.width')."
                )
            axes[axis] = values
        for entry in ("problem", "model", "backend"):
            defaults = {"problem": {}, "model": {"width": 64, "depth": 3}, "backend": {"num_samples": 16}}[entry]
            if any(label in (PROBLEMS if entry == "problem" else MODELS if entry == "model" else BACKENDS)
                   for label, _ in axes[entry]):
                for kw, default in defaults.items():
                    axes.setdefault(f"{entry}.{kw}", [default])
        self.name = name
        self.output = (base_path / output).resolve()
        self.steps, self.eval_every, self.checkpoint_every = steps, eval_every, checkpoint_every
        self.test_points, self.shard, self.distributed = test_points, shard, distributed
        self.axes = axes
        self.groups = self._expand(axes, sources)

    def _expand(self, axes: dict[str, list], sources: dict) -> tuple[Group, ...]:
        members = tuple(itertools.product(axes["seed"], [float(x) for x in axes["learning_rate"]]))
        names = [a for a in axes if a not in ("seed", "learning_rate")]
        groups, keys = [], set()
        for combo in itertools.product(*(axes[a] for a in names)):
            values = dict(zip(names, combo))
            components = {}
            for entry in COMPONENTS:
                label, spec = values[entry]
                prefix = entry + "."
                settings = tuple((k[len(prefix):], v) for k, v in values.items() if k.startswith(prefix))
                if isinstance(spec, str) and entry != "optimizer":
                    settings = _builtin_settings(entry, spec, settings, sources)
                components[entry] = Component(entry, label, spec, settings)
            problem, backend, model = components["problem"], components["backend"], components["model"]
            pkw, bkw, mkw = problem.kwargs(), backend.kwargs(), model.kwargs()
            dim = pkw.get("dim") if problem.builtin else None
            if problem.builtin:
                lowest = 3 if problem.label.startswith("three_body") else 2
                _check_value(sources.get("problem.dim", "problem.dim"), dim, int)
                if dim < lowest:
                    raise StudyFileError(f"`problem.dim` must be >= {lowest} for {problem.label}, got {dim}.")
            samples = bkw.get("num_samples") if backend.builtin else None
            width, depth = (mkw.get("width"), mkw.get("depth")) if model.builtin else (None, None)
            batch = values["batch_size"]
            if problem.builtin and model.builtin and backend.builtin:
                key = (f"{problem.label}-d{dim}-{backend.label}{samples if backend.label != 'exact' else ''}"
                       f"-b{batch}-w{width}x{depth}")
                shown = [a for a in names if a not in ("problem", "backend", "batch_size", "problem.dim",
                                                        "backend.num_samples", "model.width", "model.depth")]
            else:
                key = f"{problem.label.split(':')[-1]}-{backend.label.split(':')[-1]}-b{batch}"
                shown = [a for a in names if a not in ("problem", "backend", "batch_size")]
            for axis in shown:
                if len(axes[axis]) > 1:
                    value = values[axis]
                    key += f"-{axis.split('.')[-1]}={value[0] if isinstance(value, tuple) else value}"
            key = _slug(key)
            if key in keys:
                key = f"{key}-{len(groups)}"
            keys.add(key)
            settings = tuple((a, values[a][0] if a in COMPONENTS else values[a]) for a in names
                             if len(axes[a]) > 1)
            boundary = values.get("boundary_weight")
            groups.append(Group(key, problem.label, dim, backend.label, samples, batch, width, depth, members,
                                components, float(values["residual_weight"]),
                                None if boundary is None else float(boundary), settings))
        return tuple(groups)


def _builtin_settings(entry: str, name: str, settings: tuple, sources: dict) -> tuple:
    """Check the settings of a built-in problem/model/backend (types, signs)."""
    allowed = {"problem": {"dim": int, "seed": int, "radial": str},
               "model": {"width": int, "depth": int},
               "backend": {"num_samples": int},
               "sampler": {"start": int}}[entry]
    out = []
    for k, v in settings:
        path = sources.get(f"{entry}.{k}", f"{entry}.{k}")
        if k not in allowed:
            if entry == "backend" and name == "exact":
                continue
            raise StudyFileError(f"unknown field `{path}` for the built-in {entry} {name!r}; allowed: {list(allowed)}.")
        _check_value(path, v, allowed[k], positive=k != "seed")
        out.append((k, v))
    return tuple(out)


# TOML: section -> field -> where it goes (None: a Study argument)
_TRAIN = {"steps": "steps", "eval_every": "eval_every", "checkpoint_every": "checkpoint_every",
          "test_points": "test_points", "learning_rate": "learning_rate", "seeds": "seed",
          "batch_size": "batch_size", "width": "model.width", "depth": "model.depth",
          "residual_weight": "residual_weight", "boundary_weight": "boundary_weight"}
SECTIONS = ("study", "problem", "model", "optimizer", "sampler", "backend", "train", "devices")


def parse(data: dict, base: Path = Path(".")) -> Study:
    """Validate a parsed TOML mapping and expand its grid (see the module doc).

    Every field is checked (type, sign, finiteness, allowed names, importable entry
    points, no duplicate grid entries); a bad one raises :class:`StudyFileError` naming it.

    Example:
        >>> study = parse({"study": {"name": "s"}, "problem": {"name": "two_body_poisson", "dim": [5, 10]},
        ...                "train": {"steps": 10, "eval_every": 5, "checkpoint_every": 10, "seeds": [0, 1]}})
        >>> len(study.groups), len(study.groups[0].members)
        (2, 2)
    """
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise StudyFileError(f"unknown section `{sorted(unknown)[0]}`; allowed sections: {list(SECTIONS)}.")
    for section in data:
        if not isinstance(data[section], dict):
            raise StudyFileError(f"`{section}` must be a table ([{section}]).")
    study = dict(data.get("study", {}))
    extra = set(study) - {"name", "output"}
    if extra:
        raise StudyFileError(f"unknown field `study.{sorted(extra)[0]}`; allowed fields: ['name', 'output'].")
    if "name" not in study:
        raise StudyFileError("missing field `study.name`.")
    _check_value("study.output", study.get("output", "runs"), str)
    kwargs: dict[str, Any] = {"name": study["name"], "output": study.get("output", "runs"), "base": base}
    grid: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for entry in COMPONENTS:
        section = dict(data.get(entry, {}))
        if entry == "problem":
            if "name" not in section:
                raise StudyFileError("missing field `problem.name`.")
            if section["name"] in PROBLEMS and "dim" not in section:
                raise StudyFileError("missing field `problem.dim`.")
        default = {"problem": None, "model": "mlp", "optimizer": "adam", "backend": "sparse_stde",
                   "sampler": "uniform"}[entry]
        name = section.pop("name", default)
        for n in name if isinstance(name, list) else [name]:
            if not isinstance(n, str):
                raise StudyFileError(f"`{entry}.name` must be str, got {n!r}.")
        if isinstance(name, list) and entry not in ("problem", "backend"):
            raise StudyFileError(f"`{entry}.name` takes a single value, not a list.")
        kwargs[entry] = name
        sources[entry] = f"{entry}.name"
        for field, value in section.items():
            grid[f"{entry}.{field}"] = value
            sources[f"{entry}.{field}"] = f"{entry}.{field}"
    train = dict(data.get("train", {}))
    extra = set(train) - set(_TRAIN)
    if extra:
        raise StudyFileError(f"unknown field `train.{sorted(extra)[0]}`; allowed fields: {list(_TRAIN)}.")
    if "steps" not in train:
        raise StudyFileError("missing field `train.steps`.")
    for field, value in train.items():
        target = _TRAIN[field]
        if target in ("steps", "eval_every", "checkpoint_every", "test_points"):
            if isinstance(value, list):
                raise StudyFileError(f"`train.{field}` takes a single value, not a list.")
            _check_value(f"train.{field}", value, int)
            kwargs[target] = value
        else:
            grid[target] = value
            sources[target] = f"train.{field}"
    devices = dict(data.get("devices", {}))
    allowed = ["shard", "distributed", "coordinator", "num_processes", "process_id"]
    extra = set(devices) - set(allowed)
    if extra:
        raise StudyFileError(f"unknown field `devices.{sorted(extra)[0]}`; allowed fields: {allowed}.")
    kwargs["shard"] = devices.get("shard", "ensemble")
    kwargs["distributed"] = devices.get("distributed", False)
    for field in allowed[2:]:
        if field in devices:
            kwargs[field] = devices[field]
    kwargs.setdefault("eval_every", 500)
    kwargs.setdefault("checkpoint_every", 500)
    return Study(grid=grid, _sources=sources, **kwargs)


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
