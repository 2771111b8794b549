"""Interpreter tuning for the flow's batch loop: thread switching, the cyclic garbage collector, the C heap.

None of it changes what a run writes; each setting is here for a measured figure, given beside it.
"""
from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# The loop's thread reads files and the pool's thread feeds the workers while the commits keep the
# interpreter busy: after each system call a thread waits up to the switch interval for the GIL
# (5 ms by default), which stalled reading (0.6 s -> 8 s for 5000 files in one measured run).
SWITCH_INTERVAL = 0.001  # seconds
# A full collection costs about 0.35 s with a commit's articles in flight: one every this many commits,
# a young one after the others (see tuned_for_batch_loop).
GC_EVERY_COMMITS = 4


@contextmanager
def tuned_for_batch_loop() -> Iterator[None]:
    """A short switch interval and the cyclic garbage collector out of the way, for the batch loop; restored after.

    The cyclic garbage collector: left to itself it ran 22 full collections in a 20,000-document run,
    each walking every object alive (modules, the ledger, the articles in flight): 11 s of a 64 s flow,
    growing with the run. What is loaded by now lives for the whole run and is frozen out of its sight;
    automatic collection is off in the batch loop. Most garbage is freed by reference counting; cycles
    (pandas frames of a validation, task-run objects) go in a young collection after each commit and
    a full one every GC_EVERY_COMMITS commits (at 20,000 documents: flow 56 s -> 45 s, peak RSS +10%).
    """
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if gc_was_enabled:
            gc.enable()
        sys.setswitchinterval(switch_interval)


def tidy_after_commit(number: int) -> None:
    """After commit ``number``: the cycles it left collected (a full collection every GC_EVERY_COMMITS commits,
    a young one otherwise) and the C heap's free pages handed back."""
    gc.collect(1 if number % GC_EVERY_COMMITS < GC_EVERY_COMMITS - 1 else 2)
    release_free_memory()


def _libc_malloc_trim():
    """glibc's malloc_trim, which hands the C heap's free pages back to the system; None elsewhere."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def release_free_memory() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
