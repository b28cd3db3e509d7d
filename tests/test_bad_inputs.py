"""Table-driven test: every bad input raises the right exception with a helpful message."""

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "bad_inputs"
sys.path.insert(0, str(HERE))


def _load_cases():
    cases = []
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


CASES = _load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_rejected_with_a_clear_message(case):
    with pytest.raises(case.exception) as info:
        case.call()
    assert case.fragment.lower() in str(info.value).lower(), str(info.value)


def test_table_is_not_empty():
    assert len(CASES) >= 10
