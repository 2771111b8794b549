"""Prefect flow-run details that keep a short ``newsclean run`` short, measured by scripts/bench_startup.py.

A rerun with nothing new is still a real flow run (created, logged, finished on the API, shown in the UI);
these only remove what it paid for nothing.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from prefect.flows import Flow

HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"


def is_plain_json(value: Any) -> bool:
    """Whether ``value`` is JSON as it is: str, int, float, bool, None, or lists and string-keyed dicts of them.

    >>> is_plain_json({"sources": ["a", "b"], "full": False, "seeds": None, "batch_size": 2000})
    True
    >>> from pathlib import Path
    >>> is_plain_json(["a", Path("b")]), is_plain_json((1, 2)), is_plain_json({1: "a"})
    (False, False, False)
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if type(value) is list:
        return all(is_plain_json(item) for item in value)
    if type(value) is dict:
        return all(isinstance(key, str) and is_plain_json(item) for key, item in value.items())
    return False


class PlainParametersFlow(Flow):
    """A flow whose parameters, when they are plain JSON already, go to the API as they are.

    Prefect's :meth:`Flow.serialize_parameters` runs each through FastAPI's ``jsonable_encoder``, and importing
    FastAPI for that cost 0.3-0.7 s of every ``newsclean run`` (python -X importtime: fastapi 0.35 s on a quiet
    machine, 0.79 s loaded), a tenth of a rerun with nothing new. Other values (a Path, a tuple) still go through
    Prefect's encoder, so what the API stores is the same.
    """

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if all(is_plain_json(value) for value in parameters.values()):
            return dict(parameters)
        return super().serialize_parameters(parameters)


def flow(**options: Any) -> Callable[[Callable], PlainParametersFlow]:
    """``prefect.flow(**options)`` that makes a :class:`PlainParametersFlow`."""

    def decorate(fn: Callable) -> PlainParametersFlow:
        return PlainParametersFlow(fn=fn, **options)

    return decorate


@contextlib.contextmanager
def command_run_settings() -> Iterator[None]:
    """Prefect settings for a flow run that ``newsclean run`` starts in the foreground.

    No heartbeat events, unless ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` is set: at the end of a sync flow run Prefect
    joins its heartbeat thread, which sleeps in one-second steps, so every run waited up to a second for nothing
    (0.85 s of a 6.5 s rerun with nothing new in a py-spy profile). Heartbeats only feed a zombie-run automation,
    which a self-hosted server does not have unless one is created; who has one sets the variable (and
    ``newsclean serve`` leaves them on for scheduled runs).
    """
    if os.environ.get(HEARTBEAT_ENV):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
