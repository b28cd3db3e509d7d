# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Batch PINN studies: ensembles of seeds, checkpoints and resume
#
# [Open in Colab](https://colab.research.google.com/github/jaxsci/jaxsci/blob/main/notebooks/batch_studies.ipynb)
#
# A single PINN run says little: results vary with the seed and the learning rate, so a
# claim needs an ensemble. `jaxsci.studies` runs a grid of PINN trainings described in one
# TOML file. Runs that differ only in seed and learning rate share their shapes and form a
# *group*, trained as one compiled program with `jax.vmap` over the members (and sharded
# over the devices when there are several). Every group writes orbax checkpoints and appends
# its results to a table, so a study killed halfway resumes where it stopped. This notebook
# runs a tiny study in a temporary directory, interrupts it, resumes it and reports it.
#
# The problem is the two-body Allen-Cahn equation on the unit ball from the STDE paper (Shi,
# Hu, Lin, Kawaguchi, NeurIPS 2024; see the `highdim_pinn` notebook),
# $\Delta u + u - u^3 = g$ with $u = 0$ on the sphere, trained with sparse STDE.

# %%
# Set-up for Colab or any fresh kernel: install jaxsci and this notebook's extras when they
# are missing. The package comes from PyPI unless JAXSCI_PIP_SOURCE names a wheel file or a
# repository URL to install instead (in Colab: `%env JAXSCI_PIP_SOURCE=git+https://github.com/jaxsci/jaxsci`
# in a cell above). From a clone of the repository, `pip install -e ".[demo]"` in its root.
import importlib.util
import os
import subprocess
import sys

EXTRAS, NEEDED = "demo", ["jaxsci", "matplotlib"]
if any(importlib.util.find_spec(name) is None for name in NEEDED):
    source = os.environ.get("JAXSCI_PIP_SOURCE", "jaxsci")
    spec = f"jaxsci[{EXTRAS}] @ {source}" if "://" in source else f"{source}[{EXTRAS}]"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)
    importlib.invalidate_caches()

# %%
import json
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, Markdown, display

from jaxsci import studies

notebook_start = time.perf_counter()

# %% [markdown]
# ## The study file
#
# Every list is a grid axis. Here: one problem in $d = 10$, 3 seeds $\times$ 2 learning rates
# = 6 members of one group, 300 Adam steps (learning rate decaying linearly to 0),
# evaluation of the relative $L^2$ error every 100 steps and a checkpoint at each evaluation.

# %%
workdir = Path(tempfile.mkdtemp(prefix="jaxsci-study-"))
study_file = workdir / "tiny.toml"
study_file.write_text("""
[study]
name = "tiny"
output = "runs"                      # relative to the study file

[problem]
name = "two_body_allen_cahn"
dim = 10

[backend]
name = "sparse_stde"
num_samples = 4                      # 4 of the 10 second derivatives per point

[train]
steps = 300
learning_rate = [1e-3, 3e-3]
seeds = [0, 1, 2]
batch_size = 64
width = 32
depth = 2
eval_every = 100
checkpoint_every = 100
test_points = 500

[devices]
shard = "ensemble"
""")
study = studies.load(study_file)  # validates every field; a typo raises StudyFileError
for group in study.groups:
    print(group.key, "members (seed, learning rate):", group.members)

# %% [markdown]
# ## Running it
#
# `studies.run` is what `python -m jaxsci study run tiny.toml` calls. It returns 0 when every
# group finished.

# %%
start = time.perf_counter()
assert studies.run(study_file) == 0
print(f"study ran in {time.perf_counter() - start:.1f} s")
print(studies.status(study_file))


def final_rows():
    rows = [json.loads(line) for line in (study.output / "results.jsonl").read_text().splitlines()]
    last = max(r["step"] for r in rows)
    return rows, {(r["group"], r["member"]): r["rel_l2"] for r in rows if r["step"] == last}


rows, first_finals = final_rows()

# %% [markdown]
# ## Interrupting and resuming
#
# A crash between the checkpoints at steps 200 and 300 leaves the step-200 checkpoint, no
# `FINISHED` marker, and possibly result rows written after the last checkpoint. We recreate
# that state by removing the marker and the newest checkpoint, then run the same command
# again: the group resumes from step 200, drops the rows newer than its checkpoint and
# recomputes them, so no row is lost or duplicated.

# %%
group_dir = study.output / study.groups[0].key
(group_dir / "FINISHED").unlink()
newest = sorted((group_dir / "checkpoints").glob("step_*"))[-1]
shutil.rmtree(newest)
print("removed", newest.name)
print(studies.status(study_file))

assert studies.run(study_file) == 0
rows, resumed_finals = final_rows()
counts = Counter((r["group"], r["member"], r["step"]) for r in rows)
print(f"{len(rows)} result rows, each (group, member, step) exactly once: {set(counts.values()) == {1}}")
difference = max(abs(resumed_finals[k] - first_finals[k]) for k in first_finals)
print(f"largest change of a final error after the resume: {difference:.2e}")

# %% [markdown]
# ## The report
#
# `studies.report` (`python -m jaxsci study report tiny.toml`) prints the final error of
# every member as a markdown table and writes `report.md` and plots next to the results.
# The results table itself is one JSON line per member and evaluation, easy to load for
# plots of one's own:

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for member, (seed, lr) in enumerate(study.groups[0].members):
    mine = sorted((r["step"], r["rel_l2"]) for r in rows if r["member"] == member)
    steps, errs = np.array(mine).T
    ax.semilogy(steps, errs, "o-", color="C0" if lr < 2e-3 else "C1", label=f"seed {seed}, lr {lr:g}")
ax.set_xlabel("Adam steps")
ax.set_ylabel("relative L2 error")
ax.set_title("two-body Allen-Cahn, d = 10: an ensemble of 6 runs")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

by_lr = {}
for (seed, lr), err in zip(study.groups[0].members, [resumed_finals[(study.groups[0].key, m)]
                                                      for m in range(len(study.groups[0].members))]):
    by_lr.setdefault(lr, []).append(err)
for lr, errs in sorted(by_lr.items()):
    print(f"learning rate {lr:g}: final relative L2 error {np.mean(errs):.3e} "
          f"(mean over {len(errs)} seeds, spread {np.min(errs):.2e} to {np.max(errs):.2e})")

# %%
display(Markdown(studies.report(study_file)))
display(Image(filename=str(study.output / "curves.png")))

# %% [markdown]
# On a machine with several devices the same file shards the 6 members over them
# (`shard = "ensemble"`); on a multi-host TPU pod set `distributed = true` and start the same
# command on every host (see `docs/studies.md`).

# %%
shutil.rmtree(workdir)
print(f"notebook ran in {time.perf_counter() - notebook_start:.1f} s")
