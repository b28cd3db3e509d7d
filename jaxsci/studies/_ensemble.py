"""One group of a study as one compiled program: a vmapped ensemble of PINNs.

Members differ in seed and learning rate; both are data (the learning rate multiplies Adam's
direction, decaying linearly to 0 over the study's steps), so one ``jit`` serves them all.
With several devices the member axis is sharded over a ``jax.sharding.Mesh``; XLA then runs
each device's members locally (the members never communicate).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .. import pinn, taylor
from ..pde.highdim import BallProblem
from ._config import Group, Study

TEST_KEY = 12345


def make_problem(group: Group) -> BallProblem:
    solution = "two_body" if group.problem.startswith("two_body") else "three_body"
    return BallProblem(group.dim, solution, group.problem[len(solution) + 1:])


def make_backend(group: Group):
    n = group.num_samples
    return {
        "exact": lambda: taylor.Exact(),
        "sparse_stde": lambda: taylor.SparseSTDE(n),
        "dense_stde": lambda: taylor.DenseSTDE(n),
        "sdgd": lambda: taylor.SDGD(n),
        "hutchinson": lambda: taylor.Hutchinson(n),
    }[group.backend]()


class Ensemble:
    """Training state and compiled steps for one group (see module doc)."""

    def __init__(self, study: Study, group: Group, devices=None):
        self.study, self.group = study, group
        self.problem = make_problem(group)
        self.backend = make_backend(group)
        self.num_members = len(group.members)
        net = self._network(jax.random.key(0))
        self.static = eqx.partition(net, eqx.is_inexact_array)[1]
        self.adam = optax.scale_by_adam()
        self.devices = list(devices if devices is not None else jax.devices())
        self.mesh = None
        if study.shard == "ensemble" and len(self.devices) > 1:
            if self.num_members % len(self.devices):
                raise ValueError(
                    f"group {group.key}: {self.num_members} members cannot be split evenly over "
                    f"{len(self.devices)} devices; use a multiple of the device count (seeds x learning rates) "
                    "or set devices.shard = \"none\"."
                )
            self.mesh = Mesh(np.array(self.devices), ("members",))
        test_key = jax.random.key(TEST_KEY)
        self.test_points = self.problem.test_points(test_key, study.test_points)
        self.test_values = jax.vmap(self.problem.solution)(self.test_points)
        self._chunk = jax.jit(self._chunk_impl, static_argnums=2)
        self._evaluate = jax.jit(self._evaluate_impl)

    def _network(self, key):
        g = self.group
        return eqx.nn.MLP(g.dim, "scalar", g.width, g.depth, activation=jnp.tanh, key=key)

    def init(self) -> dict:
        """Fresh state: params, Adam moments, PRNG key data, learning rates, step."""
        seeds = jnp.array([seed for seed, _ in self.group.members])
        params = jax.vmap(lambda s: eqx.filter(self._network(jax.random.key(s)), eqx.is_inexact_array))(seeds)
        keys = jax.vmap(lambda s: jax.random.key_data(jax.random.fold_in(jax.random.key(s), 1)))(seeds)
        state = {
            "params": params,
            "adam": jax.vmap(self.adam.init)(params),
            "keys": keys,
            "lrs": jnp.array([lr for _, lr in self.group.members], dtype=jnp.result_type(float)),
            "step": jnp.zeros((), jnp.int32),
        }
        return self.place(state)

    def place(self, state: dict) -> dict:
        """Put member-batched arrays on the mesh (sharded along members); scalars replicated."""
        if self.mesh is None:
            return state
        sharded = NamedSharding(self.mesh, PartitionSpec("members"))
        replicated = NamedSharding(self.mesh, PartitionSpec())

        def put(x):
            per_member = x.ndim >= 1 and x.shape[0] == self.num_members
            return jax.device_put(x, sharded if per_member else replicated)

        return jax.tree_util.tree_map(put, state)

    def _loss(self, params, points, key):
        model = eqx.combine(params, self.static)
        return pinn.residual_loss(self.problem, self.problem.hard_constraint(model), points, self.backend, key)

    def _member_step(self, params, adam_state, key_data, lr, step):
        key, k_points, k_loss = jax.random.split(jax.random.wrap_key_data(key_data), 3)
        points = self.problem.domain.sample(k_points, self.group.batch_size)
        loss, grads = jax.value_and_grad(self._loss)(params, points, k_loss)
        direction, adam_state = self.adam.update(grads, adam_state, params)
        rate = lr * (1.0 - step.astype(lr.dtype) / self.study.steps)
        params = jax.tree_util.tree_map(lambda p, d: p - rate * d, params, direction)
        return params, adam_state, jax.random.key_data(key), loss

    def _chunk_impl(self, state, _unused, num_steps: int):
        def body(state, _):
            params, adam, keys, loss = jax.vmap(self._member_step, in_axes=(0, 0, 0, 0, None))(
                state["params"], state["adam"], state["keys"], state["lrs"], state["step"])
            new = dict(state, params=params, adam=adam, keys=keys, step=state["step"] + 1)
            return new, loss

        state, losses = jax.lax.scan(body, state, None, length=num_steps)
        return state, jnp.mean(losses, axis=0)

    def train(self, state: dict, num_steps: int):
        """``num_steps`` steps of every member; returns the state and each member's mean loss."""
        return self._chunk(state, None, num_steps)

    def _evaluate_impl(self, params):
        def one(p):
            u = self.problem.hard_constraint(eqx.combine(p, self.static))
            pred = jax.vmap(u)(self.test_points)
            return jnp.linalg.norm(pred - self.test_values) / jnp.linalg.norm(self.test_values)

        return jax.vmap(one)(params)

    def evaluate(self, state: dict):
        """Relative L2 error of every member on the group's fixed test points."""
        return self._evaluate(state["params"])
