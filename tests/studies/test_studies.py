"""Batch studies: ensembles equal separate runs, sharding changes nothing, crashes lose
nothing, corrupt checkpoints are skipped, failing groups do not stop the others."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import core, studies
from jaxsci.studies._checkpoint import CheckpointStore
from jaxsci.studies._ensemble import Ensemble
from jaxsci.studies._results import ResultsTable

ROOT = Path(__file__).parents[2]


def _leaves(state, i):
    return [np.asarray(a[i]) for a in jax.tree_util.tree_leaves(state["params"])]


@pytest.mark.heavy
def test_members_are_independent_and_a_lone_member_matches(study_file):
    # members: (seed, lr) = (0, 1e-3), (0, 5e-3), (1, 1e-3), (1, 5e-3)
    study = studies.load(study_file(seeds="[0, 1]", lrs="[1e-3, 5e-3]"))
    ensemble = Ensemble(study, study.groups[0])
    state, out = ensemble.train(ensemble.init(), 30)
    assert isinstance(out, core.FitResult) and out.losses.shape == (30, 4)
    assert bool(jnp.all(out.result == core.RESULTS.successful))
    # the other members' learning rates do not reach member 0 and 2 (vmapped, never mixed)
    other = studies.load(study_file(seeds="[0, 1]", lrs="[1e-3, 2e-2]", name="other.toml"))
    other_ens = Ensemble(other, other.groups[0])
    other_state, other_out = other_ens.train(other_ens.init(), 30)
    for i in (0, 2):
        np.testing.assert_allclose(out.losses[:, i], other_out.losses[:, i], rtol=1e-5)
        for a, b in zip(_leaves(state, i), _leaves(other_state, i)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(out.losses[:, 1], other_out.losses[:, 1])
    # a one-member group trains exactly like the first member of a larger one
    alone = studies.load(study_file(seeds="[0]", lrs="[1e-3]", name="alone.toml"))
    single = Ensemble(alone, alone.groups[0])
    single_state, single_out = single.train(single.init(), 30)
    np.testing.assert_allclose(out.losses[:, 0], single_out.losses[:, 0], rtol=1e-5)
    for a, b in zip(_leaves(state, 0), _leaves(single_state, 0)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.heavy
def test_learning_rates_are_per_member_and_the_decay_stops_at_zero(study_file):
    study = studies.load(study_file(steps=20, eval_every=10, checkpoint_every=20))
    ensemble = Ensemble(study, study.groups[0])
    state = ensemble.init()
    rates = np.asarray(state["opt_state"][0].hyperparams["learning_rate"])
    np.testing.assert_allclose(rates, [lr for _, lr in study.groups[0].members], rtol=1e-6)
    state, _ = ensemble.train(state, 20)
    later, out = ensemble.train(state, 10)  # past the study's steps: the rate is 0, not negative
    assert out.num_steps == 30
    for a, b in zip(_leaves(state, slice(None)), _leaves(later, slice(None))):
        np.testing.assert_array_equal(a, b)


def test_decay_matches_the_linear_formula():
    from jaxsci.studies._ensemble import Ensemble as E

    study = studies.parse({"study": {"name": "lr"}, "problem": {"name": "two_body_poisson", "dim": 3},
                           "train": {"steps": 4, "eval_every": 2, "checkpoint_every": 4}})
    schedule = optax.linear_schedule(1.0, 0.0, study.steps)
    assert [float(schedule(i)) for i in range(7)] == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0]
    assert E(study, study.groups[0]).optimizer is not None


SHARD_SCRIPT = """
import json, sys
import jax, numpy as np
from jaxsci import studies
from jaxsci.studies._ensemble import Ensemble
assert len(jax.devices()) == 8, jax.devices()
out = {}
for mode in ("ensemble", "none"):
    study = studies.load(sys.argv[1].replace(".toml", f"_{mode}.toml"))
    ens = Ensemble(study, study.groups[0])
    state = ens.init()
    leaf = jax.tree_util.tree_leaves(state["params"])[0]
    state, fit = ens.train(state, 25)
    out[mode] = dict(losses=np.asarray(fit.losses).mean(axis=0).tolist(), errors=np.asarray(ens.evaluate(state)).tolist(),
                     devices=len(leaf.sharding.device_set))
print(json.dumps(out))
"""


@pytest.mark.heavy
def test_sharded_run_equals_unsharded(study_file, tmp_path):
    for mode in ("ensemble", "none"):
        study_file(seeds="[0, 1, 2, 3]", lrs="[1e-3, 3e-3]", shard=mode, name=f"s_{mode}.toml")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SHARD_SCRIPT, str(tmp_path / "s.toml")], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ensemble"]["devices"] == 8 and out["none"]["devices"] == 1
    np.testing.assert_allclose(out["ensemble"]["losses"], out["none"]["losses"], rtol=1e-5)
    np.testing.assert_allclose(out["ensemble"]["errors"], out["none"]["errors"], rtol=1e-5)


def _results(output: Path):
    return ResultsTable(output / "results.jsonl").rows()


@pytest.mark.heavy
def test_killed_study_resumes_without_losing_or_duplicating_rows(study_file, tmp_path):
    path = study_file(steps=600, eval_every=100, checkpoint_every=200)
    output = tmp_path / "out"
    group = studies.load(path).groups[0].key
    cmd = [sys.executable, "-m", "jaxsci", "study", "run", str(path)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    manifest = output / group / "checkpoints" / "step_000000200" / "sha256.json"
    deadline = time.time() + 240
    while not manifest.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert manifest.exists(), "the first checkpoint never appeared"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (output / group / "FINISHED").exists()
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    resumed = [line for line in rerun.stdout.splitlines() if "resuming from step" in line]
    assert resumed and int(resumed[0].split()[-1]) >= 200  # its manifest was written before the kill
    rows = _results(output)
    seen = [(r["member"], r["step"]) for r in rows]
    assert len(seen) == len(set(seen)), "duplicated rows"
    assert sorted(seen) == sorted((m, s) for m in range(4) for s in range(100, 601, 100))
    assert (output / group / "FINISHED").exists()
    # and a third run retrains nothing
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "finished earlier: skipped" in again.stdout and len(_results(output)) == len(rows)


def test_corrupt_latest_checkpoint_falls_back_with_a_warning(tmp_path):
    store = CheckpointStore(tmp_path / "ck")
    first = {"w": jnp.arange(6.0).reshape(2, 3), "step": jnp.int32(1)}
    second = {"w": jnp.ones((2, 3)), "step": jnp.int32(2)}
    store.save(1, first)
    store.save(2, second)
    store.finish()  # the second one's manifest: its damage is found by the hashes
    victim = max((p for p in (tmp_path / "ck" / "step_000000002").rglob("*") if p.is_file()
                  and p.name != "sha256.json"), key=lambda p: p.stat().st_size)
    victim.write_bytes(b"\x00" * victim.stat().st_size)
    with pytest.warns(UserWarning, match="unusable"):
        step, state = store.latest_valid(first)
    assert step == 1
    np.testing.assert_array_equal(state["w"], first["w"])


@pytest.mark.heavy
def test_failing_group_does_not_stop_the_others(study_file, monkeypatch, capsys):
    from jaxsci.studies import _runner

    class Failing(Ensemble):
        def train(self, state, num_steps, **kwargs):
            if self.group.dim == 6:
                raise FloatingPointError("the loss became NaN")
            return super().train(state, num_steps, **kwargs)

    monkeypatch.setattr(_runner, "Ensemble", Failing)
    path = study_file(dim="[5, 6]", steps=40, seeds="[0]", lrs="[1e-3]")
    assert studies.run(path) == 1
    study = studies.load(path)
    dirs = {g.dim: study.output / g.key for g in study.groups}
    assert (dirs[5] / "FINISHED").exists() and (dirs[6] / "FAILED").exists()
    assert "FAILED: FloatingPointError" in capsys.readouterr().err
    assert "FAILED" in studies.status(path)
    table = studies.report(path)
    assert "| 0 |" in table and (study.output / "curves.png").exists() and (study.output / "error_vs_dim.png").exists()


def test_grid_expansion():
    study = studies.parse({"study": {"name": "g"},
                           "problem": {"name": ["two_body_poisson", "three_body_allen_cahn"], "dim": [5, 10]},
                           "backend": {"name": ["exact", "sparse_stde"]},
                           "train": {"steps": 10, "seeds": [0, 1, 2], "learning_rate": [1e-3, 1e-2],
                                     "eval_every": 5, "checkpoint_every": 10}})
    assert len(study.groups) == 8 and all(len(g.members) == 6 for g in study.groups)
    assert len({g.key for g in study.groups}) == 8


def test_example_study_file_is_valid():
    study = studies.load(ROOT / "examples" / "studies" / "tiny.toml")
    assert len(study.groups) == 2 and len(study.groups[0].members) == 4
