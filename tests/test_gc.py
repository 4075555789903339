"""etl._gc: the collector's state inside and after a bulk-work block."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from etl._gc import YOUNG_THRESHOLD, long_lived


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0, "a test before this one left objects frozen"
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


def test_a_block_freezes_the_heap_and_raises_the_young_threshold_then_restores_both() -> None:
    before = gc.get_threshold()
    with long_lived():
        assert gc.get_threshold() == (max(YOUNG_THRESHOLD, before[0]), *before[1:])
        assert gc.get_freeze_count() > 1_000  # (the modules and classes this test process has loaded)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_settle_freezes_what_was_loaded_inside_the_block() -> None:
    with long_lived() as heap:
        frozen = gc.get_freeze_count()
        kept = [[i] for i in range(5_000)]  # a lasting state loaded in the block (5,001 tracked lists)
        heap.settle()
        assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_the_block_are_still_collected() -> None:
    with long_lived():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None


def test_garbage_alive_when_the_block_starts_is_collected_not_frozen() -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    with long_lived():
        assert gone() is None


def test_nested_and_overlapping_blocks_restore_the_collector_when_the_last_one_ends() -> None:
    before = gc.get_threshold()
    raised = (max(YOUNG_THRESHOLD, before[0]), *before[1:])
    inner_in, outer_out = threading.Event(), threading.Event()

    def inner() -> None:
        with long_lived():
            inner_in.set()
            outer_out.wait(10)

    with long_lived():
        with long_lived():
            pass
        assert gc.get_threshold() == raised  # a nested block's end restores nothing
        t = threading.Thread(target=inner)
        t.start()
        assert inner_in.wait(10)
    assert gc.get_threshold() == raised  # the first block ended while the thread's is open
    assert gc.get_freeze_count() > 0
    outer_out.set()
    t.join(10)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_heap_frozen_before_by_someone_else_stays_frozen() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with long_lived():
        pass
    assert gc.get_freeze_count() >= frozen
