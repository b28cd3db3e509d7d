"""Sharding over a (members, points) device mesh with 8 fake CPU devices, and checkpoints
that restore on another device count (8 -> 1, 1 -> 4).

The device count of a process is fixed when JAX starts, so each count runs in its own
subprocess (XLA_FLAGS=--xla_force_host_platform_device_count=N). The reference is the
unsharded run of the same study (one device, shard = "none")."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[2]

SCRIPT = r'''
import json, sys
from pathlib import Path
import jax, jax.numpy as jnp, numpy as np
from jaxsci import studies
from jaxsci.studies._checkpoint import CheckpointStore
from jaxsci.studies._ensemble import Ensemble

devices, job, folder = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
assert len(jax.devices()) == devices, jax.devices()

def make(shard):
    return studies.Study(problem="two_body_allen_cahn", backend="exact", steps=20, eval_every=10,
                         test_points=64, shard=shard,
                         grid={"problem.dim": 3, "seed": [0, 1], "learning_rate": [1e-2, 3e-2],
                               "model.width": 8, "model.depth": 1, "batch_size": 16})

def summary(ens, state, fit):
    return dict(losses=np.asarray(fit.losses).tolist(), errors=np.asarray(ens.evaluate(state)).tolist())

def save(folder, state):
    store = CheckpointStore(folder)
    store.save(10, state)
    store.close()  # waits for the write and its manifest

def extras(state, members):
    return dict(state, elapsed=jnp.zeros((), jnp.float32), failed_at=jnp.full((members,), -1, jnp.int32))

out = {}
if job == "modes":
    for mode in ("none", "points", "both"):
        study = make(mode)
        ens = Ensemble(study, study.groups[0])
        state, fit = ens.train(ens.init(), 20)
        leaf = jax.tree_util.tree_leaves(state["params"])[0]
        out[mode] = dict(summary(ens, state, fit), mesh=list(ens.mesh_shape),
                         param_devices=len(leaf.sharding.device_set),
                         test_devices=len(ens.test_points.sharding.device_set))
    # a checkpoint written from the 8-device "both" run after 10 steps
    study = make("both")
    ens = Ensemble(study, study.groups[0])
    state, _ = ens.train(ens.init(), 10)
    save(folder / "from8", ens.flatten(extras(state, 4)))
else:  # restore: job = "<source folder>", then train the remaining 10 steps
    study = make("both" if devices > 1 else "none")
    ens = Ensemble(study, study.groups[0])
    step, flat = CheckpointStore(folder / job).latest_valid(ens.flatten(extras(ens.init(), 4)))
    flat.pop("elapsed"), flat.pop("failed_at")
    state = ens.unflatten(flat)
    leaf = jax.tree_util.tree_leaves(state["params"])[0]
    state, fit = ens.train(state, 10)
    out = dict(summary(ens, state, fit), step=step, param_devices=len(leaf.sharding.device_set))
    if devices == 1:  # the uninterrupted one-device run, and a checkpoint for the 1 -> 4 test
        ref_state, ref_fit = ens.train(ens.init(), 20)
        out["reference"] = summary(ens, ref_state, ref_fit)
        half, _ = ens.train(ens.init(), 10)
        save(folder / "from1", ens.flatten(extras(half, 4)))
print("RESULT " + json.dumps(out))
'''


def _run(devices: int, job: str, folder: Path) -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(devices), job, str(folder)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


@pytest.mark.heavy
def test_points_and_both_equal_the_unsharded_run_and_checkpoints_move_between_device_counts(tmp_path):
    modes = _run(8, "modes", tmp_path)
    assert modes["points"]["mesh"] == [1, 8] and modes["both"]["mesh"] == [4, 2]
    assert modes["none"]["mesh"] == [1, 1]
    assert modes["points"]["test_devices"] == 8 and modes["both"]["param_devices"] == 8
    for mode in ("points", "both"):
        # float32 sums split over devices add in another order: equal to rounding
        np.testing.assert_allclose(modes[mode]["losses"], modes["none"]["losses"], rtol=2e-4, err_msg=mode)
        np.testing.assert_allclose(modes[mode]["errors"], modes["none"]["errors"], rtol=2e-4, err_msg=mode)

    # 8 -> 1: the 8-device checkpoint at step 10, resumed on one device, equals the
    # uninterrupted one-device run's last 10 steps
    one = _run(1, "from8", tmp_path)
    assert one["step"] == 10 and one["param_devices"] == 1
    np.testing.assert_allclose(one["losses"], np.asarray(one["reference"]["losses"])[10:], rtol=2e-4)
    np.testing.assert_allclose(one["errors"], one["reference"]["errors"], rtol=2e-4)

    # 1 -> 4: the one-device checkpoint resumed on 4 devices ("both": 4 members x 1)
    four = _run(4, "from1", tmp_path)
    assert four["step"] == 10 and four["param_devices"] == 4
    np.testing.assert_allclose(four["losses"], np.asarray(one["reference"]["losses"])[10:], rtol=2e-4)
    np.testing.assert_allclose(four["errors"], one["reference"]["errors"], rtol=2e-4)
