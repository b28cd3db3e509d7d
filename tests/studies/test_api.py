"""Studies of any problem, model, optimizer, backend and sampler: the Python API, TOML
entry points ("package.module:attribute"), and the user-problem example."""

import functools
import shutil
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import studies, taylor
from jaxsci.pde import Box, PDEProblem
from jaxsci.pde.classical import Poisson2D
from jaxsci.pde.parabolic import SemilinearParabolic
from jaxsci.studies._ensemble import Ensemble, make_problem
from jaxsci.studies._results import ResultsTable

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "studies" / "user_problem"


def test_the_example_toml_names_user_factories_that_are_imported_from_its_folder():
    study = studies.load(EXAMPLE / "helmholtz.toml")
    assert [g.key for g in study.groups] == ["Helmholtz2D-exact-b128-wavenumber=1.0",
                                             "Helmholtz2D-exact-b128-wavenumber=4.0"]
    group = study.groups[1]
    assert group.members == ((0, 3e-3), (0, 1e-2), (1, 3e-3), (1, 1e-2))
    assert dict(group.settings) == {"problem.wavenumber": 4.0}
    problem = make_problem(group)
    assert type(problem).__name__ == "Helmholtz2D" and problem.wavenumber == 4.0 and problem.a2 == 2
    assert group.components["optimizer"].spec is optax.adamw
    assert dict(group.components["model"].settings)["activation"] == "jax.numpy:tanh"
    assert study.output == (EXAMPLE / "output").resolve()  # under the study file's folder


def test_python_api_grid_axes_make_groups_and_members():
    study = studies.Study(problem=Poisson2D, backend=taylor.Exact(), optimizer=optax.lion, steps=10,
                          eval_every=5, grid={"seed": [0, 1, 2], "learning_rate": [1e-3, 1e-2],
                                              "model.width": [8, 16], "boundary_weight": [0.0, 1.0],
                                              "batch_size": 32})
    assert len(study.groups) == 4 and all(len(g.members) == 6 for g in study.groups)
    assert len({g.key for g in study.groups}) == 4
    assert {(dict(g.settings)["model.width"], g.boundary_weight) for g in study.groups} == {
        (8, 0.0), (8, 1.0), (16, 0.0), (16, 1.0)}
    assert all(g.batch_size == 32 and g.problem == "jaxsci.pde.classical:Poisson2D" for g in study.groups)


@pytest.mark.heavy
def test_any_optax_optimizer_gets_its_learning_rate_per_member():
    study = studies.Study(problem="two_body_poisson", backend="exact", optimizer=optax.sgd, steps=4,
                          eval_every=2, test_points=8,
                          grid={"problem.dim": 2, "seed": [0, 1], "learning_rate": [0.1, 0.2],
                                "model.width": 4, "model.depth": 1, "batch_size": 4})
    ens = Ensemble(study, study.groups[0])
    rates = np.asarray(ens.init()["opt_state"][0].hyperparams["learning_rate"])
    np.testing.assert_allclose(rates, [0.1, 0.2, 0.1, 0.2], rtol=1e-6)


class _Wave(PDEProblem):
    """A user subclass: u'' = -pi^2 sin(pi x) on [0, 1], u* = sin(pi x)."""

    name: str = "wave"
    domain: Box = Box([0.0], [1.0])
    operators: tuple = (taylor.laplacian(1),)

    def residual(self, x, u, derivatives):
        return derivatives[0] + jnp.pi**2 * jnp.sin(jnp.pi * x[0])

    def solution(self, x):
        return jnp.sin(jnp.pi * x[0])

    def hard_constraint(self, net):
        return lambda x: x[0] * (1.0 - x[0]) * net(x)


@pytest.mark.heavy
@pytest.mark.parametrize("problem", [
    "two_body_poisson", Poisson2D, functools.partial(SemilinearParabolic, 10, "heat"), _Wave(),
], ids=["highdim", "classical", "parabolic", "user-subclass"])
def test_every_kind_of_pde_problem_trains_in_a_study(problem):
    """A few steps of each kind of problem: finite losses and errors that move."""
    grid = {"seed": [0, 1], "learning_rate": 1e-2, "batch_size": 16}
    if problem == "two_body_poisson":
        grid.update({"problem.dim": 3, "model.width": 8, "model.depth": 1})
    study = studies.Study(problem=problem, backend="exact", steps=20, eval_every=10, test_points=64, grid=grid)
    ens = Ensemble(study, study.groups[0])
    state = ens.init()
    before = np.asarray(ens.evaluate(state))
    state, out = ens.train(state, 20)
    after = np.asarray(ens.evaluate(state))
    assert np.isfinite(out.losses).all() and np.isfinite(after).all()
    assert not np.allclose(before, after)
    if isinstance(problem, functools.partial):  # the terminal condition enters the loss
        assert ens.condition is not None and ens.condition[1] == 1.0
        ref = SemilinearParabolic(10, "heat")
        u = ref.hard_constraint(eqx.combine(jax.tree_util.tree_map(lambda a: a[0], state["params"]), ens.static))
        expected = abs(float(u(ref.origin())) - ref.reference_value()) / abs(ref.reference_value())
        np.testing.assert_allclose(after[0], expected, rtol=1e-5)


@pytest.mark.heavy
def test_the_user_problem_example_runs_and_writes_under_its_folder(tmp_path):
    folder = tmp_path / "user_problem"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("output", "__pycache__"))
    text = (folder / "helmholtz.toml").read_text().replace("steps = 400", "steps = 200")
    (folder / "helmholtz.toml").write_text(text.replace("checkpoint_every = 200", "checkpoint_every = 100"))
    sys.modules.pop("helmholtz", None)  # the copy's module, not one imported earlier
    try:
        assert studies.run(folder / "helmholtz.toml") == 0
        study = studies.load(folder / "helmholtz.toml")
        rows = ResultsTable(folder / "output" / "results.jsonl").rows()
        seen = sorted((r["group"], r["member"], r["step"]) for r in rows)
        assert seen == sorted((g.key, m, s) for g in study.groups for m in range(4) for s in (100, 200))
        # the error against the manufactured solution sin(pi x) sin(2 pi y) falls for every member
        for group in study.groups:
            for m in range(4):
                first, last = (next(r for r in rows if (r["group"], r["member"], r["step"]) == (group.key, m, s))
                               for s in (100, 200))
                assert last["status"] == "ok" and last["rel_l2"] < min(0.2, first["rel_l2"]), (first, last)
        table = studies.report(folder / "helmholtz.toml")
        assert "wavenumber=4.0" in table and (folder / "output" / "curves.png").exists()
    finally:
        sys.modules.pop("helmholtz", None)
