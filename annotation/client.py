"""The Label Studio calls the loop needs, through the official SDK (``label-studio-sdk`` 2.x).

The SDK's own retries are switched off (``max_retries=0``): they also retry 408 and 409 and
have no total wait budget. Instead the SDK rides on an ``httpx.Client`` whose transport,
``RetryTransport``, retries only what is transient (429, 500, 502, 503, 504, refused, dropped
or timed-out connections, bodies cut short), waits for ``Retry-After`` when the server sends it
and backs off exponentially otherwise, within ``RetryPolicy``'s attempts and total wait. An
outage that outlasts the budget is ``LabelStudioUnavailableError``; any other error answer is
``LabelStudioAPIError``. The API key travels only in the Authorization header (the SDK puts it
there); it never appears in a log line or an error message, which are built from the status
and the answer's body only, with the key masked should a server echo it back.

Two calls have no SDK method and go through the SDK's own HTTP client (same base URL, headers
and transport): ``/health`` and ``/api/projects/validate/`` (the SDK can only validate a
config against an existing project).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import httpx

from annotation.errors import LabelStudioAPIError, LabelStudioUnavailableError
from core.http import TRANSIENT_STATUS, retry_after_seconds

if TYPE_CHECKING:
    from label_studio_sdk import ImportApiRequest, LabelStudio
    from label_studio_sdk.core.pagination import SyncPager

log = logging.getLogger(__name__)

# Failures worth another try: the server may be restarting or the network hiccuping. Not
# LocalProtocolError, UnsupportedProtocol or InvalidURL: those fail the same way every time.
_TRANSIENT_EXC = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a Label Studio request may keep trying through transient failures."""

    timeout: float = 120.0  # seconds, per request (connect, and each read)
    max_attempts: int = 5
    max_retry_wait: float = 20.0  # total seconds spent waiting between attempts
    backoff_first: float = 0.5
    backoff_max: float = 120.0


DEFAULT_RETRY = RetryPolicy()


class RetryTransport(httpx.BaseTransport):
    """An httpx transport that retries transient failures within a ``RetryPolicy``.

    Each attempt reads the whole body, so a body cut short is retried like a dropped
    connection. Past the budget it raises ``LabelStudioUnavailableError``; every other answer
    (2xx, 3xx, and 4xx other than 429) is returned as it is.
    """

    def __init__(
        self,
        policy: RetryPolicy = DEFAULT_RETRY,
        *,
        inner: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self._inner = inner or httpx.HTTPTransport()
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        p = self.policy
        waited = 0.0
        problem = ""
        attempt = 0
        for attempt in range(1, p.max_attempts + 1):
            response: httpx.Response | None = None
            try:
                response = self._inner.handle_request(request)
                response.read()
            except _TRANSIENT_EXC as exc:
                problem = type(exc).__name__
                if response is not None:
                    response.close()
                    response = None
            else:
                if response.status_code not in TRANSIENT_STATUS:
                    return response
                problem = f"HTTP {response.status_code}"
            delay = self._delay(attempt, response)
            if attempt >= p.max_attempts or waited + delay > p.max_retry_wait:
                break
            log.warning(
                "Label Studio %s %s: %s; retrying in %.1fs (attempt %d/%d)",
                request.method, request.url.path, problem, delay, attempt + 1, p.max_attempts,
            )  # fmt: skip
            self._sleep(delay)
            waited += delay
        raise LabelStudioUnavailableError(
            f"{problem} after {attempt} attempt(s) and {waited:.0f}s of waiting"
        )

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            hinted = retry_after_seconds(response.headers.get("Retry-After"))
            if hinted is not None:
                return hinted
        base = min(self.policy.backoff_max, self.policy.backoff_first * 2.0 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto

    def close(self) -> None:
        self._inner.close()


class LabelStudioClient:
    """The loop's view of Label Studio: projects, task import and listing, export,
    annotations and users. Tasks come back as plain JSON objects (dicts), as the API sends
    them."""

    def __init__(self, url: str, api_key: str, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        # Imported here: the SDK takes seconds to import, and most commands never need it.
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        self._key = api_key
        self._http = httpx.Client(
            transport=RetryTransport(retry), timeout=retry.timeout, follow_redirects=True
        )
        with self._errors("set up the client"):
            self._sdk: LabelStudio = LabelStudio(  # type: ignore[no-untyped-call]
                base_url=self.url,
                api_key=api_key,
                timeout=retry.timeout,
                max_retries=0,  # RetryTransport retries, and only what is transient
                httpx_client=self._http,
            )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabelStudioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn the SDK's and httpx's errors into the loop's own, never carrying the key."""
        from label_studio_sdk.core.api_error import ApiError
        from label_studio_sdk.core.parse_error import ParsingError

        try:
            yield
        except LabelStudioUnavailableError as exc:
            message = f"Label Studio at {self.url} is unavailable ({what}): {exc}; rerun later"
            raise LabelStudioUnavailableError(self._mask(message)) from None
        except ApiError as exc:
            status = exc.status_code or 0
            ok = 200 <= status < 400  # the SDK raises ApiError for a 2xx it cannot parse too
            detail = "the answer is not JSON" if ok else _detail(self._masked(exc.body))
            raise LabelStudioAPIError(what, status, detail) from None
        except ParsingError as exc:
            raise LabelStudioAPIError(
                what, exc.status_code or 0, "the answer does not match the API's schema"
            ) from None
        except httpx.HTTPError as exc:
            raise LabelStudioAPIError(
                what, 0, self._mask(f"the request failed ({type(exc).__name__}: {exc})")
            ) from None

    def _mask(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _masked(self, body: Any) -> Any:
        """An answer's body with the key masked, before anything shortens it (a cut key
        would no longer match)."""
        if isinstance(body, bytes):
            body = body.decode(errors="replace")
        if isinstance(body, str) or not self._key:
            return self._mask(body) if isinstance(body, str) else body
        return json.loads(self._mask(json.dumps(body, default=str)))

    def _raw(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        """A call the SDK has no method for, on the SDK's own HTTP client (base URL, auth
        header, our transport); an error answer raises like the SDK's calls do."""
        with self._errors(what):
            resp = self._sdk._client_wrapper.httpx_client.request(path, method=method, **kwargs)
        if resp.status_code >= 400:
            raise LabelStudioAPIError(what, resp.status_code, _detail(self._masked(resp.text)))
        return resp

    # -- projects ----------------------------------------------------------------------------

    def health(self) -> bool:
        try:
            resp = self._raw("GET", "health", "check health")
            return bool(resp.json().get("status") == "UP")
        except (LabelStudioUnavailableError, LabelStudioAPIError, ValueError, AttributeError):
            return False

    def validate_config(self, label_config: str) -> None:
        """Have the server validate a labeling config; raise with its complaint if invalid."""
        self._raw(
            "POST", "api/projects/validate/", "accept the labeling config",
            json={"label_config": label_config},
        )  # fmt: skip

    def find_project(self, title: str) -> dict[str, Any] | None:
        """The project with exactly this title (the API filters by substring)."""
        with self._errors("list projects"):
            projects: SyncPager[Any, Any] = self._sdk.projects.list(title=title, page_size=100)
            for project in projects:
                if project.title == title:
                    return _plain(project)
        return None

    def ensure_project(
        self,
        title: str,
        label_config: str,
        description: str = "",
        *,
        maximum_annotations: int | None = None,
        overlap_percent: int | None = None,
    ) -> int:
        """The project with this title, created, or its config and overlap updated when they
        differ. ``overlap_percent`` of the tasks need ``maximum_annotations`` experts; the
        others are finished by one (None: 2 and 0 for a new project, unchanged otherwise)."""
        found = self.find_project(title)
        overlap = {"maximum_annotations": maximum_annotations,
                   "overlap_cohort_percentage": overlap_percent}  # fmt: skip
        if found is None:
            with self._errors("create the project"):
                created = self._sdk.projects.create(
                    title=title, label_config=label_config, description=description,
                    show_skip_button=True, maximum_annotations=maximum_annotations or 2,
                    overlap_cohort_percentage=overlap_percent or 0,
                )  # fmt: skip
            if created.id is None:
                raise LabelStudioAPIError("create the project", 201, "no project id came back")
            return int(created.id)
        if (found.get("label_config") or "").strip() != label_config.strip():
            with self._errors("update the labeling config"):
                self._sdk.projects.update(int(found["id"]), label_config=label_config)
        if any(v is not None and found.get(k) != v for k, v in overlap.items()):
            with self._errors("update the overlap"):
                self._sdk.projects.update(
                    int(found["id"]), maximum_annotations=maximum_annotations,
                    overlap_cohort_percentage=overlap_percent,
                )  # fmt: skip
        return int(found["id"])

    def task_count(self, project_id: int) -> int:
        """How many tasks the project holds, as Label Studio counts them."""
        with self._errors("read the project"):
            project = self._sdk.projects.get(project_id)
        return int(project.task_number or 0)

    # -- tasks -------------------------------------------------------------------------------

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Create tasks (``{"data": ..., "predictions": [...]}``); their ids, in order."""
        # The tasks go as the JSON objects they are: the SDK serialises mappings unchanged, and
        # its ImportApiRequest models would not fit (their PredictionRequest requires a `task`
        # id, which a prediction imported with its task cannot have yet) and cost about 0.2 s
        # a batch of 1000 to build even unchecked, a fifth of the import itself.
        request = cast("list[ImportApiRequest]", tasks)
        with self._errors("import tasks"):
            answer = self._sdk.projects.import_tasks(
                project_id,
                request=request,
                return_task_ids=True,
            )
        # task_ids is not in the SDK's model of the answer: it comes as an extra field.
        ids = [int(i) for i in (answer.model_extra or {}).get("task_ids") or []]
        if len(ids) != len(tasks):
            raise LabelStudioAPIError(
                "import tasks", 201, f"{len(ids)} task ids back for {len(tasks)} tasks"
            )
        return ids

    def iter_tasks(
        self,
        project_id: int,
        *,
        updated_after: str | None = None,
        page_size: int = 1000,
        include: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Tasks of a project, oldest update first; only those updated after an ISO timestamp
        when given. ``include`` ("id,updated_at") returns just those fields, which is an order
        of magnitude cheaper than full tasks; without it, tasks come with their annotations.
        A task's ``updated_at`` moves when an annotation on it is created, edited or deleted.
        """
        query: dict[str, Any] = {"ordering": ["tasks:updated_at"]}
        if updated_after:
            query["filters"] = {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:updated_at",
                        "operator": "greater",
                        "type": "Datetime",
                        "value": updated_after,
                    }
                ],
            }
        with self._errors("list tasks"):
            page: SyncPager[Any, Any] = self._sdk.tasks.list(
                project=project_id,
                page_size=page_size,
                query=json.dumps(query),
                fields="task_only" if include else "all",
                include=include,
            )
            seen = 0
            while True:
                items = page.items or []
                for task in items:
                    yield _plain(task)
                seen += len(items)
                # Stop at the total rather than asking for the page after the last (a 404).
                if not items or seen >= int(page.response.total):
                    return
                following = page.next_page()
                if following is None:
                    return
                page = following

    def export_tasks(self, project_id: int, task_ids: list[int]) -> list[dict[str, Any]]:
        """Full tasks with their annotations (the export API: faster than listing them)."""
        if not task_ids:
            return []
        with self._errors("export tasks"):
            body = b"".join(
                self._sdk.projects.exports.download_sync(
                    project_id,
                    export_type="JSON",
                    download_all_tasks=True,
                    # The SDK's `ids` goes out as `ids=`; Label Studio reads only `ids[]`.
                    request_options={"additional_query_parameters": {"ids[]": task_ids}},
                )
            )
        try:
            data = json.loads(body)
        except ValueError:
            raise LabelStudioAPIError("export tasks", 200, "the answer is not JSON") from None
        if not isinstance(data, list):
            raise LabelStudioAPIError("export tasks", 200, "the answer is not a list of tasks")
        return data

    # -- annotations and users (what an expert's UI does; the tests use them too) ------------

    def create_annotation(
        self,
        task_id: int,
        result: list[dict[str, Any]],
        *,
        completed_by: int | None = None,
        was_cancelled: bool = False,
    ) -> int:
        extra: dict[str, Any] = {"was_cancelled": "true"} if was_cancelled else {}
        with self._errors("create an annotation"):
            created = self._sdk.annotations.create(
                task_id,
                result=result,
                was_cancelled=was_cancelled,
                **({"completed_by": completed_by} if completed_by is not None else {}),
                request_options={"additional_query_parameters": extra},
            )
        if created.id is None:
            raise LabelStudioAPIError("create an annotation", 201, "no annotation id came back")
        return int(created.id)

    def update_annotation(self, annotation_id: int, result: list[dict[str, Any]]) -> None:
        with self._errors("update an annotation"):
            self._sdk.annotations.update(annotation_id, result=result)

    def delete_annotation(self, annotation_id: int) -> None:
        with self._errors("delete an annotation"):
            self._sdk.annotations.delete(annotation_id)

    def users(self) -> dict[int, str]:
        with self._errors("list users"):
            found = self._sdk.users.list()
        return {int(u.id): str(u.email or u.username) for u in found if u.id is not None}

    def create_user(self, email: str, username: str) -> int:
        with self._errors("create a user"):
            user = self._sdk.users.create(email=email, username=username)
        if user.id is None:
            raise LabelStudioAPIError("create a user", 201, "no user id came back")
        return int(user.id)


def _plain(model: Any) -> dict[str, Any]:
    """An SDK object as the JSON object the server sent (only the fields it sent)."""
    return dict(model.model_dump(mode="json", by_alias=True, exclude_unset=True))


def _detail(body: Any) -> str:
    """The useful part of an error answer's body (parsed JSON or text), shortened."""
    if isinstance(body, str | bytes):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        try:
            body = json.loads(text)
        except ValueError:
            return " ".join(text.split())[:300]
    if isinstance(body, dict):
        for key in ("validation_errors", "detail", "label_config"):
            if body.get(key):
                return json.dumps(body[key])[:400]
    return json.dumps(body, default=str)[:400]
