from collections.abc import Callable
from typing import NamedTuple


class BadInput(NamedTuple):
    id: str
    call: Callable[[], object]
    exception: type[BaseException]
    fragment: str
