"""Cyclic garbage collection paused while a bulk step builds many objects that form no cycles.

Reading a day of alerts and replaying it allocate hundreds of thousands of
records, tasks and tuples that hold no reference cycles; Python's cycle
collector would walk all of them again and again as they pile up (a fifth of
the time of the 100,000-alert day in ``bench/drill.py``). Reference counting
still frees everything as it goes; the collector runs again, as before, when
the step ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cycle collection inside the block (if it was on, it is on again after it, whatever happens)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
