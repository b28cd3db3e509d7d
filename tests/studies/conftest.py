import textwrap

import pytest

TEMPLATE = """
[study]
name = "test"
output = "out"

[problem]
name = "two_body_allen_cahn"
dim = {dim}

[backend]
name = "sparse_stde"
num_samples = 4

[train]
steps = {steps}
learning_rate = {lrs}
seeds = {seeds}
batch_size = 16
width = 8
depth = 2
eval_every = {eval_every}
checkpoint_every = {checkpoint_every}
test_points = 200

[devices]
shard = "{shard}"
"""


@pytest.fixture
def study_file(tmp_path):
    def write(dim=5, steps=60, lrs="[1e-3, 3e-3]", seeds="[0, 1]", eval_every=20, checkpoint_every=20,
              shard="none", name="study.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(TEMPLATE.format(dim=dim, steps=steps, lrs=lrs, seeds=seeds,
                                                        eval_every=eval_every, checkpoint_every=checkpoint_every,
                                                        shard=shard)))
        return path

    return write
