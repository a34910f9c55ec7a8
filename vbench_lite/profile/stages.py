"""Generation stages (``text``, ``denoise``, ``decode``): the unit every cost is split by.

``stage(name)`` is a context manager adapters wrap around their parts. Profilers subscribe with
:func:`add_listener` and are told when a stage is entered and left; without listeners it costs
one context-variable set.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Protocol

STAGES: tuple[str, ...] = ("text", "denoise", "decode")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("vbench_lite_stage", default=None)


class StageListener(Protocol):
    def enter(self, name: str) -> None: ...

    def exit(self, name: str) -> None: ...


_listeners: list[StageListener] = []


def current_stage() -> str | None:
    """The innermost stage being executed, or None outside any stage."""
    return _current.get()


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark the enclosed code as part of stage ``name`` (one of :data:`STAGES`)."""
    if name not in STAGES:
        raise ValueError(f"unknown stage {name!r}; use one of {', '.join(STAGES)}")
    token = _current.set(name)
    for listener in list(_listeners):
        listener.enter(name)
    try:
        yield
    finally:
        for listener in reversed(list(_listeners)):
            listener.exit(name)
        _current.reset(token)


@contextlib.contextmanager
def listening(listener: StageListener) -> Iterator[StageListener]:
    """Subscribe ``listener`` to stage changes for the duration of the block."""
    _listeners.append(listener)
    try:
        yield listener
    finally:
        _listeners.remove(listener)
