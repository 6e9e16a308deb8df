"""The Prefect side of the step hook (``jobs.steps.Steps``): each step a task, log lines to the
run logger, summaries as artifacts.

Retries: a step is retried (twice, a minute apart) only when it failed with an error marked
``core.errors.Transient``; the HTTP client's and the catalog's own short retries sit below it
(see ``core.errors`` for the layers). Tasks neither cache nor persist results: a job's steps
write to the catalog, which is the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from core.errors import is_transient

P = ParamSpec("P")
T = TypeVar("T")
U = TypeVar("U")


def retry_transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry ``Transient`` failures, never any other."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - the state's own error, judged by its marker
        return is_transient(exc)
    return False


@dataclass(frozen=True)
class PrefectSteps:
    """Steps as Prefect tasks of the current flow run (on the flow's task runner)."""

    retries: int = 2
    retry_delay_s: float = 60.0

    def _task(self, name: str, fn: Callable[..., Any]) -> Any:
        return task(
            name=name,
            retries=self.retries,
            retry_delay_seconds=self.retry_delay_s,
            retry_condition_fn=retry_transient_only,
            cache_policy=NO_CACHE,
            persist_result=False,
        )(fn)

    def run(self, name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = self._task(name, fn)(*args, **kwargs)
        return result

    def map(
        self, name: str, fn: Callable[[U], T], items: Sequence[U], /
    ) -> Iterator[tuple[int, T]]:
        from prefect.futures import as_completed

        futures = self._task(name, fn).map(list(items))
        index = {f.task_run_id: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            yield index[future.task_run_id], future.result()

    def log(self, message: str) -> None:
        get_run_logger().info(message)

    def publish(
        self, key: str, *, markdown: str, table: list[dict[str, Any]] | None = None
    ) -> None:
        if table is not None:
            create_table_artifact(key=key, table=table, description=f"{key} counts")
        create_markdown_artifact(key=f"{key}-summary", markdown=markdown)


def on_task_runner(name: str, task_runner: Any, fn: Callable[[], T]) -> T:
    """Run ``fn`` (a job, composed once) inside a subflow whose tasks go to ``task_runner``
    (a Dask cluster): the job's ``steps.map`` then fans out there."""

    def body() -> T:
        return fn()

    body.__name__ = name.replace("-", "_")
    subflow = flow(name=name, task_runner=task_runner, validate_parameters=False)(body)
    result: T = subflow()
    return result
