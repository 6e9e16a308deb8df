"""A small client for the Label Studio REST API (the calls the loop needs, nothing more).

It rides on the project's polite HTTP client, so only transient failures (429, 5xx, refused
or dropped connections) are retried, with backoff that honours Retry-After, and an outage
that outlasts the budget becomes ``LabelStudioUnavailableError``. The API key travels only in
the Authorization header and never appears in a log line or an error message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from annotation.errors import LabelStudioAPIError, LabelStudioUnavailableError
from core.errors import TransientHTTPError
from core.http import PoliteClient, Politeness

DEFAULT_POLITENESS = Politeness(
    min_interval=0.0, timeout=120.0, max_retry_wait=20.0, max_attempts=5, backoff_first=0.5
)


class LabelStudioClient:
    def __init__(self, url: str, api_key: str, politeness: Politeness = DEFAULT_POLITENESS) -> None:
        self.url = url.rstrip("/")
        self._http = PoliteClient(politeness)
        self._http.set_header("Authorization", f"Token {api_key}")
        self._http.set_header("Content-Type", "application/json")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabelStudioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, what: str, *, body: Any = None, params: Any = None
    ) -> Any:
        try:
            resp = self._http.request(
                method,
                f"{self.url}{path}",
                data=json.dumps(body) if body is not None else None,
                params=params,
            )
        except TransientHTTPError as exc:
            raise LabelStudioUnavailableError(
                f"Label Studio at {self.url} is unavailable ({what}): {exc}"
            ) from None
        if resp.status_code >= 400:
            raise LabelStudioAPIError(what, resp.status_code, _detail(resp.text))
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise LabelStudioAPIError(what, resp.status_code, "the answer is not JSON") from None

    # -- projects ----------------------------------------------------------------------------

    def health(self) -> bool:
        try:
            return bool(self._call("GET", "/health", "check health"))
        except (LabelStudioUnavailableError, LabelStudioAPIError):
            return False

    def validate_config(self, label_config: str) -> None:
        """Have the server validate a labeling config; raise with its complaint if invalid."""
        self._call(
            "POST", "/api/projects/validate/", "accept the labeling config",
            body={"label_config": label_config},
        )  # fmt: skip

    def find_project(self, title: str) -> dict[str, Any] | None:
        page = 1
        while True:
            data = self._call(
                "GET", "/api/projects/", "list projects",
                params={"page": page, "page_size": 100, "title": title},
            )  # fmt: skip
            results = data["results"] if isinstance(data, dict) else data
            for project in results:
                if project.get("title") == title:
                    return dict(project)
            if not isinstance(data, dict) or not data.get("next"):
                return None
            page += 1

    def ensure_project(self, title: str, label_config: str, description: str = "") -> int:
        """The project with this title, created, or its config updated when it differs."""
        found = self.find_project(title)
        if found is None:
            created = self._call(
                "POST", "/api/projects/", "create the project",
                body={"title": title, "label_config": label_config, "description": description,
                      "show_skip_button": True, "maximum_annotations": 3},
            )  # fmt: skip
            return int(created["id"])
        if found.get("label_config", "").strip() != label_config.strip():
            self._call(
                "PATCH", f"/api/projects/{found['id']}/", "update the labeling config",
                body={"label_config": label_config},
            )  # fmt: skip
        return int(found["id"])

    def project(self, project_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/projects/{project_id}/", "read the project"))

    # -- tasks -------------------------------------------------------------------------------

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        data = self._call(
            "POST", f"/api/projects/{project_id}/import", "import tasks",
            body=tasks, params={"return_task_ids": "true"},
        )  # fmt: skip
        ids = [int(i) for i in data.get("task_ids", [])]
        if len(ids) != len(tasks):
            raise LabelStudioAPIError(
                "import tasks", 200, f"{len(ids)} task ids back for {len(tasks)} tasks"
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
        params: dict[str, Any] = {"project": project_id, "page_size": page_size,
                                  "query": json.dumps(query)}  # fmt: skip
        if include:
            params["include"] = include
        else:
            params["fields"] = "all"
        page = 1
        seen = 0
        while True:
            data = self._call("GET", "/api/tasks/", "list tasks", params={**params, "page": page})
            tasks = data.get("tasks", [])
            yield from tasks
            seen += len(tasks)
            if not tasks or seen >= int(data.get("total", 0)):
                return
            page += 1

    def export_tasks(self, project_id: int, task_ids: list[int]) -> list[dict[str, Any]]:
        """Full tasks with their annotations (the export API: faster than listing them)."""
        if not task_ids:
            return []
        data = self._call(
            "GET", f"/api/projects/{project_id}/export", "export tasks",
            params={"exportType": "JSON", "download_all_tasks": "true", "ids[]": task_ids},
        )  # fmt: skip
        return list(data)

    # -- annotations and users (what an expert's UI does; the tests use them too) ------------

    def create_annotation(
        self,
        task_id: int,
        result: list[dict[str, Any]],
        *,
        completed_by: int | None = None,
        was_cancelled: bool = False,
    ) -> int:
        body: dict[str, Any] = {"result": result, "was_cancelled": was_cancelled}
        if completed_by is not None:
            body["completed_by"] = completed_by
        params = {"was_cancelled": "true"} if was_cancelled else None
        data = self._call(
            "POST", f"/api/tasks/{task_id}/annotations/", "create an annotation",
            body=body, params=params,
        )  # fmt: skip
        return int(data["id"])

    def update_annotation(self, annotation_id: int, result: list[dict[str, Any]]) -> None:
        self._call(
            "PATCH", f"/api/annotations/{annotation_id}/", "update an annotation",
            body={"result": result},
        )  # fmt: skip

    def delete_annotation(self, annotation_id: int) -> None:
        self._call("DELETE", f"/api/annotations/{annotation_id}/", "delete an annotation")

    def users(self) -> dict[int, str]:
        data = self._call("GET", "/api/users/", "list users")
        items = data["results"] if isinstance(data, dict) else data
        return {int(u["id"]): str(u.get("email") or u.get("username")) for u in items}

    def create_user(self, email: str, username: str) -> int:
        data = self._call(
            "POST", "/api/users/", "create a user",
            body={"email": email, "username": username},
        )  # fmt: skip
        return int(data["id"])


def _detail(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:300]
    if isinstance(data, dict):
        for key in ("validation_errors", "detail", "label_config"):
            if data.get(key):
                return json.dumps(data[key])[:400]
    return json.dumps(data)[:400]
