"""The step hook: how a job's steps are run, logged and reported.

A job is plain Python: it calls ``steps.run(name, fn, *args)`` for each step, ``steps.log``
for progress and ``steps.publish`` for its summary. The CLI passes ``InlineSteps`` (steps run
as calls, log lines go to the terminal, nothing is published); the Prefect flows pass
``flows.steps.PrefectSteps`` (each step a task that retries ``Transient`` errors only, log
lines to the run logger, summaries as artifacts). The job is the same code either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
U = TypeVar("U")

Echo = Callable[[str], object]


class Steps(Protocol):
    """What a job needs from whoever runs it."""

    def run(self, name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one step and return its result."""
        ...

    def map(
        self, name: str, fn: Callable[[U], T], items: Sequence[U], /
    ) -> Iterator[tuple[int, T]]:
        """Run ``fn`` on each item, possibly in parallel elsewhere; yield ``(index, result)``
        as each one completes."""
        ...

    def log(self, message: str) -> None:
        """A progress line for the person watching."""
        ...

    def publish(
        self, key: str, *, markdown: str, table: list[dict[str, Any]] | None = None
    ) -> None:
        """A job's summary, where the runner keeps such things."""
        ...


@dataclass
class InlineSteps:
    """Steps as plain calls, in this process, in order; for the CLI, the demo and tests."""

    echo: Echo = field(default=log.info)
    published: dict[str, str] = field(default_factory=dict)

    def run(self, name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(*args, **kwargs)

    def map(
        self, name: str, fn: Callable[[U], T], items: Sequence[U], /
    ) -> Iterator[tuple[int, T]]:
        for i, item in enumerate(items):
            yield i, fn(item)

    def log(self, message: str) -> None:
        self.echo(message)

    def publish(
        self, key: str, *, markdown: str, table: list[dict[str, Any]] | None = None
    ) -> None:
        self.published[key] = markdown


def counts_markdown(title: str, counts: dict[str, Any], next_steps: str = "") -> str:
    """A job's counts as a short Markdown summary."""
    lines = [f"# {title}", ""]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in counts.items()]
    if next_steps:
        lines += ["", next_steps]
    return "\n".join(lines)


def counts_table(counts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"count": k, "value": v} for k, v in counts.items()]


def ordered_mapper(
    steps: Steps, name: str
) -> Callable[[Callable[[Any], Any], list[Any]], list[Any]]:
    """``steps.map`` as a builder's ``Mapper``: results in the order of the items."""

    def mapper(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        out: list[Any] = [None] * len(items)
        for i, result in steps.map(name, fn, items):
            out[i] = result
        return out

    return mapper
