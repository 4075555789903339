"""Python's cyclic garbage collector during bulk work: the long-lived heap frozen, fewer young collections.

A collection of the oldest generation walks every tracked object of the process. A parse worker holds ~290,000
of them once Great Expectations is loaded, nearly all of them modules, classes and the engine's own state that
live as long as the process. Parsing allocates containers by the million (rows, lists, matches), so with the
default thresholds the collector runs often, and every full run walks that whole heap again: ~13 % of a
worker's parse CPU went to collections that found almost nothing.

:func:`long_lived` makes what is alive when bulk work starts permanent for the collector (``gc.freeze``) and
raises the youngest generation's threshold for the duration; :meth:`Frozen.settle` adds what a step loaded
later (the rule engine is imported on the first chunk). Cycles the work itself makes are still collected.
When the last open block ends, the thresholds and the frozen set are as they were (a set frozen before by
someone else stays frozen).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000
"""Container allocations (net) between two collections of the youngest generation during bulk work (Python's
default: 700). Most of a parse's containers die by reference counting long before."""

_LOCK = threading.Lock()
_DEPTH = 0
_SAVED: tuple[int, ...] = ()  # the thresholds before the first open block
_OURS = True  # whether the frozen set was empty before it (else someone else froze first: it is left frozen)


class Frozen:
    """The handle of a :func:`long_lived` block."""

    def settle(self) -> None:
        """Everything alive now is long-lived too (call once after loading a large, lasting state)."""
        gc.collect()
        gc.freeze()


@contextmanager
def long_lived(young: int = YOUNG_THRESHOLD) -> Iterator[Frozen]:
    """Inside the block the heap that exists now is frozen and young collections are rarer (see the module
    doc). Blocks may nest or overlap (in any thread of the process): the collector is restored when the last
    one open ends."""
    global _DEPTH, _SAVED, _OURS
    handle = Frozen()
    with _LOCK:
        if _DEPTH == 0:
            _SAVED, _OURS = gc.get_threshold(), gc.get_freeze_count() == 0
            handle.settle()
            gc.set_threshold(max(young, _SAVED[0]), *_SAVED[1:])
        _DEPTH += 1
    try:
        yield handle
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                gc.set_threshold(*_SAVED)
                if _OURS:
                    gc.unfreeze()
