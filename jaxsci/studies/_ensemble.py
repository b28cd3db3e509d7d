"""One group of a study as one compiled program: a vmapped ensemble of PINNs.

The members differ in seed (the network's initialization) and learning rate; both are
data, so one ``jit`` serves them all. They train through
``jaxsci.core.fit(..., ensemble=True)`` with Adam whose learning rate is a per-member
hyperparameter in the optimizer state (``optax.inject_hyperparams``), decayed linearly to 0
over the study's steps (clamped at 0 past them). With several devices a
``jax.sharding.Mesh`` with a ``members`` and a ``points`` axis spreads the work:
``shard = "members"`` (or ``"ensemble"``) splits the members (which never communicate),
``"points"`` splits each step's residual points and the test points of every member (the
compiler all-reduces the loss and its gradient), ``"both"`` uses gcd(members, devices)
devices along members and the rest along points.

Each step's collocation points and STDE directions come from ``core.fit``'s key stream:
member ``i`` gets the ``i``-th key of every step, so a member's run does not depend on how
many members follow it (a one-member group reproduces the first member of a larger one).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .. import pinn, taylor
from ..core import FitResult, fit, relative_l2
from ..core._host import put_global, to_host
from ..pde import PDEProblem
from ..pde.highdim import BallProblem
from ._config import ENTRY, Component, Group, Study, StudyFileError, call, resolve

TEST_KEY = 12345
TRAIN_KEY = 1


def _kwargs(component: Component, base=None) -> dict:
    """A component's settings, with ``"package.module:attribute"`` strings imported."""
    out = {}
    for k, v in component.settings:
        out[k] = resolve(v, f"{component.entry}.{k}", base) if isinstance(v, str) and ENTRY.match(v) else v
    return out


def make_problem(group: Group) -> PDEProblem:
    """The group's problem: a built-in name (``<solution>_<equation>``), a problem object
    or a factory called with its settings."""
    comp = group.components["problem"]
    if comp.builtin:
        solution = "two_body" if comp.spec.startswith("two_body") else "three_body"
        kwargs = _kwargs(comp)
        dim = kwargs.pop("dim")
        problem = call("problem", comp.label, BallProblem, dim, solution, comp.spec[len(solution) + 1:], **kwargs)
    elif isinstance(comp.spec, PDEProblem):
        if comp.settings:
            raise StudyFileError(f"`problem` is a problem object; its settings {comp.kwargs()} cannot apply. "
                                 "Give a factory (a class or function) to vary them.")
        problem = comp.spec
    elif callable(comp.spec):
        problem = call("problem", comp.label, comp.spec, **_kwargs(comp))
    else:
        raise StudyFileError(f"`problem` must be a jaxsci.pde.PDEProblem or a factory, got {comp.label!r}.")
    if not isinstance(problem, PDEProblem):
        raise StudyFileError(
            f"`problem` = {comp.label!r} gave {type(problem).__name__}, not a jaxsci.pde.PDEProblem "
            "(subclass jaxsci.pde.PDEProblem: residual, solution, domain, operators)."
        )
    return problem


def make_backend(group: Group) -> taylor.AbstractBackend:
    """The ``jaxsci.taylor`` backend object a study's ``backend`` stands for."""
    comp = group.components["backend"]
    if comp.builtin:
        n = comp.kwargs().get("num_samples", 16)
        return {
            "exact": lambda: taylor.Exact(),
            "sparse_stde": lambda: taylor.SparseSTDE(n),
            "dense_stde": lambda: taylor.DenseSTDE(n),
            "sdgd": lambda: taylor.SDGD(n),
            "hutchinson": lambda: taylor.Hutchinson(n),
        }[comp.spec]()
    backend = comp.spec
    if not isinstance(backend, taylor.AbstractBackend) and callable(backend):
        backend = call("backend", comp.label, backend, **_kwargs(comp))
    if not isinstance(backend, taylor.AbstractBackend):
        raise StudyFileError(f"`backend` = {comp.label!r} is not a jaxsci.taylor backend "
                             f"(got {type(backend).__name__}).")
    return backend


def make_sampler(group: Group) -> Callable:
    """``(domain, n, *, key) -> points`` of the group's sampler."""
    comp = group.components["sampler"]
    kwargs = _kwargs(comp)
    if comp.builtin:
        if comp.spec == "uniform":
            return lambda domain, n, *, key: domain.sample(n, key=key)
        fn = {"halton": pinn.halton, "sobol": pinn.sobol}[comp.spec]
    elif callable(comp.spec):
        fn = comp.spec
    else:
        raise StudyFileError(f"`sampler` = {comp.label!r} is not callable.")

    def sampler(domain, n, *, key):
        return call("sampler", comp.label, fn, domain, n, key=key, **kwargs)

    return sampler


class LossLogState(NamedTuple):
    """The steps counted so far and the last ``length`` training losses (a ring buffer)."""

    count: jax.Array
    losses: jax.Array


def loss_log(length: int) -> optax.GradientTransformationExtraArgs:
    """An identity optax transformation that keeps the last ``length`` losses in its state.

    ``core.fit`` passes the loss to the optimizer (``value=``); keeping it in the optimizer
    state lets the study's checkpoint hook report each evaluation interval's mean training
    loss (and checkpoints carry it).
    """

    def init(params):
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        return LossLogState(jnp.zeros((), jnp.int32), jnp.full((length,), jnp.nan, dtype))

    def update(updates, state, params=None, *, value=None, **extra):
        del params, extra
        index = jnp.mod(state.count, jnp.asarray(length, jnp.int32))
        losses = state.losses.at[index].set(jnp.asarray(value, state.losses.dtype))
        return updates, LossLogState(state.count + 1, losses)

    return optax.GradientTransformationExtraArgs(init, update)


class Ensemble:
    """Training state and compiled training of one group (see the module doc).

    Example:
        >>> from jaxsci import studies
        >>> study = studies.parse({"study": {"name": "s"},
        ...     "problem": {"name": "two_body_poisson", "dim": 3},
        ...     "backend": {"name": "exact"},
        ...     "train": {"steps": 4, "eval_every": 2, "checkpoint_every": 2, "seeds": [0, 1],
        ...               "width": 4, "depth": 1, "batch_size": 4, "test_points": 8}})
        >>> ens = Ensemble(study, study.groups[0])
        >>> state, out = ens.train(ens.init(), 4)
        >>> out.losses.shape, ens.evaluate(state).shape
        ((4, 2), (2,))
    """

    def __init__(self, study: Study, group: Group, devices=None):
        self.study, self.group = study, group
        # the device mesh first: a study that cannot be split fails before any compilation
        self.devices = list(devices if devices is not None else jax.devices())
        self.mesh = None
        self.mesh_shape = (1, 1)  # devices along (members, points)
        mode = {"ensemble": "members"}.get(study.shard, study.shard)
        count = len(self.devices)
        if mode != "none" and count > 1:
            along_members = {"members": count, "points": 1}.get(mode, math.gcd(len(group.members), count))
            along_points = count // along_members
            if len(group.members) % along_members:
                raise ValueError(
                    f"group {group.key}: {len(group.members)} members cannot be split evenly over "
                    f"{count} devices; use a multiple of the device count (seeds x learning rates), "
                    "devices.shard = \"points\" or \"none\"."
                )
            if group.batch_size % along_points:
                raise ValueError(
                    f"group {group.key}: batch_size {group.batch_size} cannot be split evenly over {along_points} "
                    "devices along the points axis; use a multiple of it."
                )
            self.mesh_shape = (along_members, along_points)
            self.mesh = Mesh(np.array(self.devices).reshape(self.mesh_shape), ("members", "points"))
        self.problem = make_problem(group)
        self.backend = make_backend(group)
        self.sampler = make_sampler(group)
        self.num_members = len(group.members)
        self.condition = self._condition()
        net = eqx.filter_jit(self._network)(jax.random.key(0))  # one compile, not one per eager op
        self._check_network(net)
        self.static = eqx.partition(net, eqx.is_inexact_array)[1]
        comp = group.components["optimizer"]
        self._optimizer_factory = getattr(optax, comp.spec) if comp.builtin else comp.spec
        self._optimizer_kwargs = _kwargs(comp)
        self.optimizer = call("optimizer", comp.label, self._optimizer, 1.0)
        test_key = jax.random.key(TEST_KEY)
        self.reference = None
        self.test_points = self.test_values = None
        if hasattr(self.problem, "reference_value") and hasattr(self.problem, "origin"):
            self.reference = (self.problem.origin(), self.problem.reference_value())
        else:
            def test_set(problem, key):
                points = problem.test_points(study.test_points, key=key)
                return points, jax.vmap(problem.solution)(points)

            self.test_points, self.test_values = eqx.filter_jit(test_set)(self.problem, test_key)
            if self.mesh_shape[1] > 1 and study.test_points % self.mesh_shape[1] == 0:
                self.test_points = put_global(self.test_points, self._points_sharding())
                self.test_values = put_global(self.test_values, NamedSharding(self.mesh, PartitionSpec("points")))
        # the test set is an argument, not a constant: it may span several processes' devices
        self._evaluate = jax.jit(jax.vmap(self._error, in_axes=(0, None, None)))

    def _network(self, key):
        comp, problem = self.group.components["model"], self.problem
        if comp.builtin:
            kw = comp.kwargs()
            return eqx.nn.MLP(problem.dim, "scalar", kw["width"], kw["depth"], activation=jnp.tanh, key=key)
        kwargs = _kwargs(comp)
        try:
            takes_problem = "problem" in inspect.signature(comp.spec).parameters
        except (TypeError, ValueError):
            takes_problem = False
        if takes_problem:
            kwargs["problem"] = problem
        return call("model", comp.label, comp.spec, **kwargs, key=key)

    def _check_network(self, net) -> None:
        label = self.group.components["model"].label
        if not callable(net):
            raise StudyFileError(f"`model` = {label!r} gave {type(net).__name__}, not a callable module.")
        point = jax.ShapeDtypeStruct((self.problem.dim,), jnp.result_type(float))
        try:
            out = jax.eval_shape(net, point)
        except Exception as err:
            raise StudyFileError(f"`model` = {label!r} cannot be applied to one point of shape "
                                 f"({self.problem.dim},): {type(err).__name__}: {err}") from err
        if getattr(out, "shape", None) != ():
            raise StudyFileError(f"`model` = {label!r} must map one point ({self.problem.dim},) to a scalar, "
                                 f"got shape {getattr(out, 'shape', None)} (for equinox.nn.MLP: out_size=\"scalar\").")

    def _condition(self):
        """``(sample, value)`` of the problem's boundary or terminal data, weighted by
        ``boundary_weight`` (default: 1 for a terminal condition, else 0), or ``None``."""
        problem, domain, weight = self.problem, self.problem.domain, self.group.boundary_weight
        if hasattr(problem, "terminal_condition") and hasattr(domain, "sample_terminal"):
            pair = (domain.sample_terminal, problem.terminal_condition)
            weight = 1.0 if weight is None else weight
        elif hasattr(problem, "boundary_value") and hasattr(domain, "sample_boundary"):
            pair = (domain.sample_boundary, problem.boundary_value)
        else:
            pair = None
        if weight and pair is None:
            raise StudyFileError(f"`boundary_weight` = {weight} but the problem {self.problem.name!r} has no "
                                 "boundary_value or terminal_condition to fit.")
        return (pair, float(weight)) if weight else None

    def _optimizer(self, learning_rate) -> optax.GradientTransformationExtraArgs:
        # the learning rate lives in the state (set per member in `init`); the decay
        # factor 1 - step/steps is clamped to [0, 1] by the schedule
        return optax.chain(
            optax.inject_hyperparams(self._optimizer_factory)(learning_rate=learning_rate, **self._optimizer_kwargs),
            optax.scale_by_schedule(optax.linear_schedule(1.0, 0.0, self.study.steps)),
            loss_log(self.study.eval_every),
        )

    def init(self) -> dict:
        """Fresh state: the members' parameters, optimizer state (with their learning
        rates) and the step count."""
        seeds = np.array([seed for seed, _ in self.group.members])
        rates = np.array([lr for _, lr in self.group.members])
        return self.place(self._init(seeds, rates))

    @eqx.filter_jit
    def _init(self, seeds, rates) -> dict:
        params = jax.vmap(lambda s: eqx.filter(self._network(jax.random.key(s)), eqx.is_inexact_array))(seeds)
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        rates = rates.astype(dtype)
        with jax.numpy_dtype_promotion("standard"):  # optax mixes integer counts and floats
            opt_state = jax.vmap(lambda p, lr: self._optimizer(lr).init(p))(params, rates)
        return {"params": params, "opt_state": opt_state, "step": jnp.zeros((), jnp.int32)}

    def place(self, state: dict) -> dict:
        """Put member-batched arrays on the mesh (sharded along members); scalars replicated."""
        if self.mesh is None:
            return state
        sharded = NamedSharding(self.mesh, PartitionSpec("members"))
        replicated = NamedSharding(self.mesh, PartitionSpec())

        def put(x):
            per_member = x.ndim >= 1 and x.shape[0] == self.num_members
            return put_global(x, sharded if per_member else replicated)

        return jax.tree_util.tree_map(put, state)

    def flatten(self, state: dict) -> dict:
        """The state as plain lists of arrays (what the checkpoints store)."""
        return {k: jax.tree_util.tree_leaves(v) if k in ("params", "opt_state") else v for k, v in state.items()}

    def unflatten(self, flat: dict) -> dict:
        """Inverse of :meth:`flatten`, the tree structure taken from a fresh state."""
        template = self.init()
        out = dict(flat)
        for k in ("params", "opt_state"):
            treedef = jax.tree_util.tree_structure(template[k])
            out[k] = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(x) for x in flat[k]])
        out["step"] = jnp.asarray(flat["step"], jnp.int32)
        return self.place(out)

    def _loss(self, model, batch, key):
        points, condition = batch
        u = self.problem.hard_constraint(model)
        # non-finite values are left to core.fit, which freezes and marks that member
        loss = pinn.residual_loss(self.problem, u, points, self.backend, key=key, throw=False)
        if self.group.residual_weight != 1.0:
            loss = self.group.residual_weight * loss
        if condition is not None and self.condition is not None:
            cond_points, values = condition
            loss = loss + self.condition[1] * pinn.data_loss(u, cond_points, values)
        return loss

    def _points_sharding(self) -> NamedSharding:
        assert self.mesh is not None
        return NamedSharding(self.mesh, PartitionSpec("points", None))

    def _sample(self, key):
        k_points, k_condition = jax.random.split(key)
        points = self.sampler(self.problem.domain, self.group.batch_size, key=k_points)
        if self.mesh_shape[1] > 1:  # each device takes its share of the residual points
            points = jax.lax.with_sharding_constraint(points, self._points_sharding())
        if self.condition is None:
            return points, None
        sample, value = self.condition[0]
        cond_points = sample(self.group.batch_size, key=k_condition)
        return points, (cond_points, jax.vmap(value)(cond_points))

    def train(
        self, state: dict, num_steps: int, *, checkpoint=None, compile_first: bool = False
    ) -> tuple[dict, FitResult]:
        """``num_steps`` steps of every member from ``state``, in chunks of the study's
        ``eval_every`` steps; ``checkpoint(step, model, opt_state)`` is called after each
        chunk (``core.fit``'s hook). Returns the new state and the ``core.FitResult``
        (``losses`` per step and member, ``result`` per member)."""
        start = int(state["step"])
        out = fit(
            self._loss, eqx.combine(state["params"], self.static), self.optimizer,
            steps=start + num_steps, key=jax.random.key(TRAIN_KEY), sample=self._sample,
            chunk=self.study.eval_every, opt_state=state["opt_state"], start_step=start,
            checkpoint=checkpoint, compile_first=compile_first, ensemble=True, progress=False,
            desc=self.group.key, throw=False,
        )
        new = {"params": eqx.filter(out.model, eqx.is_inexact_array), "opt_state": out.opt_state,
               "step": jnp.asarray(out.num_steps, jnp.int32)}
        return new, out

    def chunk_losses(self, opt_state, step: int, length: int) -> np.ndarray:
        """Each member's mean training loss over steps ``step - length .. step - 1`` (NaN
        for a member frozen by ``core.fit`` after a non-finite value)."""
        count, losses = to_host((opt_state[-1].count, opt_state[-1].losses))
        index = np.arange(step - length, step) % losses.shape[1]
        mean = losses[:, index].mean(axis=1)
        return np.where(count == step, mean, np.nan)

    def last_loss(self, opt_state, member: int) -> float:
        """Mean of the last finite training losses ``member`` logged (its last interval
        before ``core.fit`` froze it); NaN if it never had one."""
        losses = to_host(opt_state[-1].losses)[member]
        finite = losses[np.isfinite(losses)]
        return float(finite.mean()) if finite.size else float("nan")

    def _error(self, params, test_points, test_values):
        u = self.problem.hard_constraint(eqx.combine(params, self.static))
        if self.reference is not None:  # a reference value at one point (no closed form)
            point, value = self.reference
            return relative_l2(u(point)[None], jnp.asarray(value, point.dtype)[None])
        return relative_l2(jax.vmap(u)(test_points), test_values)

    def evaluate(self, state: dict | Any) -> jax.Array:
        """Relative L2 error of every member on the group's fixed test points (``state``
        or the stacked parameters)."""
        params = state["params"] if isinstance(state, dict) else eqx.filter(state, eqx.is_inexact_array)
        return self._evaluate(params, self.test_points, self.test_values)

