"""A domain expert in a real browser (Debian's chromium, through Playwright) against the real
Label Studio: log in, open the task whose context cites a page, see the rendered page with the
parser's regions, correct the table's markup, pick the error type, submit; the project's sync
and routing then put the page, the box and both markups into ``parser-corrections``. A task
without a page shows no page section."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from annotation.client import LabelStudioClient
from annotation.config import ERROR_NAMES
from annotation.push import push_negatives
from annotation.server import LabelStudioServer
from jobs.feedback import sync_annotations_job
from tests.annotation.stored_paper import (
    FORMULA,
    PAPER,
    TABLE,
    TABLE_BOX,
    ingest,
    negative,
    store_paper,
)
from tests.chromium_helpers import chromium_path
from tests.labelstudio_helpers import FAST
from warehouse import Warehouse
from warehouse.datasets import load

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_MS = 120_000  # generous: two shared cores, and Label Studio's frontend is heavy
CORRECTED = "| model | accuracy |\n|---|---|\n| ours | 0.93 |"
PAGE_IMG = '.lsf-main-view .lsf-image img[alt="image"]'
REGION_NODES = ".lsf-tree__node_type_rectangleregion"  # the outliner's regions
REGION_MARKUP = '.lsf-text-area:has([name="region_markup"])'  # the per-region TextArea


def _login(page: Page, url: str, email: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/user/login/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator('#login-form button[type="submit"]').click()
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=WAIT_MS)
    expect(page.locator("#login-form")).to_have_count(0)


def _open_task(page: Page, url: str, project: int, task: int, query: str) -> None:
    """The task in the labeling view, rendered to its end (the Note box comes last)."""
    from playwright.sync_api import expect

    page.goto(f"{url}/projects/{project}/data?task={task}")
    main = page.locator(".lsf-main-view")
    expect(main.get_by_text(query, exact=True)).to_be_visible()
    expect(main.locator('textarea[name="note"]')).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_be_visible()


def _correct_the_table(
    page: Page, url: str, project: int, task: int, shot: Path
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Correct the table's markup and submit: the submit's status and answer, and what the
    page showed (image size, regions, pixels of the table's box colour)."""
    from playwright.sync_api import expect

    _open_task(page, url, project, task, negative("x", page=2)["query"])
    expect(page.locator(PAGE_IMG)).to_have_count(1)
    page.wait_for_function(
        "sel => { const i = document.querySelector(sel);"
        " return !!i && i.complete && i.naturalWidth > 100; }",
        arg=PAGE_IMG,
        timeout=WAIT_MS,
    )
    seen: dict[str, Any] = {
        "natural": page.locator(PAGE_IMG).evaluate("i => [i.naturalWidth, i.naturalHeight]")
    }
    nodes = page.locator(REGION_NODES)
    expect(nodes).to_have_count(2)  # the parser's table and formula, pre-drawn
    seen["regions"] = sorted(" ".join(t.split()) for t in nodes.all_inner_texts())

    nodes.filter(has_text="table").click()  # select the table: its markup box appears
    area = page.locator(REGION_MARKUP)
    expect(area.locator('[data-testid="textarea-region"]')).to_have_count(1)
    expect(area.locator('[data-testid="htx-textbox-content"]')).to_contain_text("0.39")
    area.locator('[data-testid="htx-textbox-edit-button"]').click()
    box = area.locator('[data-testid="htx-textbox-input"]')
    expect(box).to_have_value(TABLE)  # the parser's markup, line breaks and all
    box.fill(CORRECTED)
    area.locator('[data-testid="htx-textbox-save"]').click()
    expect(area.locator('[data-testid="htx-textbox-content"]')).to_contain_text("0.93")

    choice = page.locator("label.lsf-choice__checkbox", has_text=ERROR_NAMES["multimodal"])
    choice.locator("input").check()  # the suggestion may have ticked it already
    expect(choice.locator("input")).to_be_checked()

    image = page.locator(".lsf-main-view .lsf-image")
    image.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the canvas settle after the scroll
    seen["image_box"] = image.bounding_box()
    page.screenshot(path=str(shot))

    pattern = re.compile(rf"/api/tasks/{task}/annotations/?(\?|$)")
    with page.expect_response(
        lambda r: r.request.method == "POST" and bool(pattern.search(r.url)), timeout=WAIT_MS
    ) as answer:
        page.get_by_role("button", name="Submit").click()
    return answer.value.status, answer.value.json(), seen


def _bare_task_has_no_page(page: Page, url: str, project: int, task: int, query: str) -> None:
    from playwright.sync_api import expect

    _open_task(page, url, project, task, query)
    main = page.locator(".lsf-main-view")
    # The page section is in the DOM but hidden (display: none), and so is the error Label
    # Studio writes there for the 1x1 placeholder it refuses to load: the expert sees neither.
    expect(main.get_by_text("Cited page", exact=False)).to_be_hidden()
    expect(main.locator(".lsf-image")).to_be_hidden()
    expect(main.get_by_text("issue loading URL", exact=False)).to_be_hidden()
    expect(main.locator("img")).to_have_count(0)  # no page image, not even the placeholder
    expect(main.locator(REGION_MARKUP)).to_be_hidden()  # no region-box section
    expect(page.locator(REGION_NODES)).to_have_count(0)


def _tinted_pixels(shot: Path, box: dict[str, float]) -> int:
    """Coloured pixels inside the page image on the screenshot: the rendered page is black on
    white, so they are the region boxes Label Studio drew over it."""
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    crop = image.crop((max(0, int(box["x"])), max(0, int(box["y"])),
                       min(image.width, int(box["x"] + box["width"])),
                       min(image.height, int(box["y"] + box["height"]))))  # fmt: skip
    colors = crop.getcolors(maxcolors=1 << 24) or []
    return sum(n for n, px in colors if max(px) - min(px) > 8)  # the page itself has none


def expert_session(
    chromium: str, url: str, email: str, password: str, project: int, tasks: dict[str, int],
    shot: Path,
) -> tuple[int, dict[str, Any], dict[str, Any]]:  # fmt: skip
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1600})
            page.set_default_timeout(WAIT_MS)
            page.set_default_navigation_timeout(WAIT_MS)
            _login(page, url, email, password)
            status, body, seen = _correct_the_table(page, url, project, tasks["fb-page"], shot)
            _bare_task_has_no_page(page, url, project, tasks["fb-bare"], "Who wrote the paper?")
        finally:
            browser.close()
    return status, body, seen


@pytest.fixture(scope="session")
def chromium() -> str:
    """Session-scoped and asked for first, so without chromium the test skips before Label
    Studio (another session fixture) starts."""
    return chromium_path()


# A first Label Studio start (migrations) takes up to three minutes on two loaded cores.
@pytest.mark.timeout(600)
def test_an_expert_corrects_a_parser_region_in_the_browser(
    chromium: str, wh: Warehouse, tmp_path: Path, label_studio: LabelStudioServer,
    project_title: str,
) -> None:  # fmt: skip
    store_paper(wh, tmp_path)
    ingest(wh, tmp_path / "neg.jsonl", [
        negative("fb-page", page=2),
        negative("fb-bare", page=None, query="Who wrote the paper?", answer="Nobody did."),
    ])  # fmt: skip

    def client() -> LabelStudioClient:
        return LabelStudioClient(label_studio.url, label_studio.api_key, FAST)

    with client() as ls:
        pushed = push_negatives(wh, ls, project_title=project_title, home=tmp_path)
        assert pushed.pushed == 2
        tasks = {t["data"]["feedback_id"]: int(t["id"])
                 for t in ls.iter_tasks(pushed.project_id, include="id,data")}  # fmt: skip

    shot = tmp_path / "labeling.png"
    status, body, seen = expert_session(
        chromium, label_studio.url, label_studio.username, label_studio.password,
        pushed.project_id, tasks, shot,
    )  # fmt: skip
    assert status in (200, 201)
    assert seen["natural"] == [935, 1210]  # the real page, not the 1x1 placeholder
    assert seen["regions"] == ["1 table", "2 formula"]
    assert _tinted_pixels(shot, seen["image_box"]) > 50_000  # the boxes are drawn on the page
    texts = [r["value"]["text"] for r in body["result"] if r["from_name"] == "region_markup"]
    assert sorted(texts) == sorted([[CORRECTED], [FORMULA]])
    if os.environ.get("SCICURATE_UPDATE_DOCS") == "1":
        shutil.copy(shot, Path(__file__).resolve().parents[2] / "docs" / "labeling.png")

    result = sync_annotations_job(
        wh, label_studio=client, project_title=project_title, datasets_dir=tmp_path / "datasets"
    )
    assert (result.new, result.skipped) == (1, 0)
    [row] = load(tmp_path / "datasets", "parser-corrections").to_pylist()  # formula unchanged
    assert row["feedback_id"] == "fb-page" and row["paper_id"] == PAPER and row["page"] == 2
    assert row["region_label"] == "table"
    assert (row["wrong_markup"], row["corrected_markup"]) == (TABLE, CORRECTED)
    x0, y0, x1, y1 = TABLE_BOX
    expected = [100 * x0 / 612, 100 * y0 / 792, 100 * (x1 - x0) / 612, 100 * (y1 - y0) / 792]
    assert row["bbox"] == pytest.approx(expected)
    with wh.read() as con:
        stored = con.execute(
            "SELECT page_image FROM feedback WHERE feedback_id = 'fb-page'"
        ).fetchone()
    assert stored is not None and row["page_image"] == stored[0]
    from PIL import Image

    assert row["page_image"].startswith("data:image/jpeg;base64,")
    page_png = base64.b64decode(row["page_image"].split(",", 1)[1])
    assert Image.open(io.BytesIO(page_png)).size == (935, 1210)
