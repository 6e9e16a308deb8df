"""The report's matplotlib charts: deterministic static SVG, titled axes, integer count ticks."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from report.charts import Stage, horizontal_bars, stacked_bars, success_bars


def _texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def _ticks(svg: str, axis: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    out = []
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if re.search(rf"-{axis}tick_\d+$", g.get("id", "")):
            out += [t.text or "" for t in g.iter("{http://www.w3.org/2000/svg}text")]
    return out


def test_stacked_bars_are_deterministic_titled_and_count_in_integers() -> None:
    series = {"cs.LG": [1.0, 2.0, 0.0], "instruction_following_and_more": [0.0, 1.0, 1.0]}
    args = ("papers per day", ["2026-11-01", "2026-11-02", "a $x$ & <b>"], series)
    svg = stacked_bars(*args, xlabel="publication day (date)", ylabel="papers (count)")
    assert svg == stacked_bars(*args, xlabel="publication day (date)", ylabel="papers (count)")
    assert svg.startswith('<svg class="chart"') and "<script" not in svg
    assert "Date" not in svg and "<metadata" not in svg  # no timestamp in the output
    texts = _texts(svg)
    assert "publication day (date)" in texts and "papers (count)" in texts
    assert "a $x$ & <b>" in texts  # '$' stays text (no mathtext) and markup is escaped
    yticks = _ticks(svg, "y")
    assert yticks and all(re.fullmatch(r"\d+", t) for t in yticks)  # max 3: no 0.5 steps
    assert not any("." in t for t in _ticks(svg, "y"))


def test_success_bars_show_ok_and_failed_out_of_the_total() -> None:
    svg = success_bars(
        "PDFs and parses",
        [Stage("PDF download", 55, 3, 2, "not tried yet"), Stage("parse", 50, 5)],
        xlabel="papers (count)",
    )
    texts = _texts(svg)
    assert "55 ok, 3 failed, 2 not tried yet of 60" in texts
    assert "50 ok, 5 failed of 55" in texts
    assert {"ok", "failed", "papers (count)"} <= set(texts)
    assert all(re.fullmatch(r"\d+", t) for t in _ticks(svg, "x"))


def test_ids_do_not_clash_between_charts_and_empty_charts_say_so() -> None:
    a = horizontal_bars("dataset rows", {"sft-title v1": 11}, xlabel="rows (count)")
    b = horizontal_bars("other rows", {"sft-title v1": 11}, xlabel="rows (count)")
    ids = lambda s: set(re.findall(r'id="([^"]+)"', s))  # noqa: E731
    assert ids(a) and not ids(a) & ids(b)
    assert "no data yet" in horizontal_bars("dataset rows", {}, xlabel="rows (count)")
    assert "no data yet" in success_bars("x", [Stage("parse", 0, 0)], xlabel="n (count)")
