"""Every Python code block of docs/conventions.md runs (they show the conventions in use)."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "conventions.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_page_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.heavy
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_code_block_runs(index):
    exec(compile(BLOCKS[index], f"{DOC.name}[block {index}]", "exec"), {})
