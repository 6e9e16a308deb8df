"""Static SVG charts for the report, drawn by matplotlib (Agg backend, no JavaScript, no CDN).

Each chart is one ``<svg>`` to inline in the page: text stays text (``svg.fonttype: none``) so
the browser can measure it, the output is byte-for-byte deterministic (a fixed hash salt per
chart, no date metadata), every axis is titled with its unit, count axes have integer ticks,
and the figure is cut to a tight box so rotated labels and legends fit inside it. A chart with
no data says so instead of drawing empty axes.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477",
           "#66aa00", "#b82e2e", "#316395")  # fmt: skip
OK, FAILED, OTHER = "#109618", "#dc3912", "#bbbbbb"
WIDTH_IN, HEIGHT_IN = 7.2, 3.0
MAX_TICK_LABELS = 14  # a long date axis shows every n-th day
LABEL_CHARS = 22  # tick labels and legend entries wrap (or shorten) past this

_RC: dict[str, Any] = {
    "svg.fonttype": "none",  # real <text> elements, not glyph paths
    "text.parse_math": False,  # a '$' in a category is text, not mathtext
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
}


@dataclass(frozen=True)
class Stage:
    """One bar of a success chart: how many ended ok, failed, or neither, out of the total."""

    name: str
    ok: int
    failed: int
    other: int = 0
    other_label: str = "other"

    @property
    def total(self) -> int:
        return self.ok + self.failed + self.other


def _empty(title: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="480" height="60" '
        f'viewBox="0 0 480 60" xmlns="http://www.w3.org/2000/svg"><text x="10" y="35" '
        f'font-size="14" fill="#777">{escape(title)}: no data yet</text></svg>'
    )


def _wrap(label: str) -> str:
    if len(label) <= LABEL_CHARS:
        return label
    lines = textwrap.wrap(label, LABEL_CHARS, break_long_words=True)
    if len(lines) > 2:  # at most two lines; the rest is cut with an ellipsis
        lines = [lines[0], lines[1][: LABEL_CHARS - 1] + "…"]
    return "\n".join(lines)


@contextmanager
def _figure(title: str, height: float = HEIGHT_IN) -> Iterator[tuple[Any, Any]]:
    rc: Any = {**_RC, "svg.hashsalt": f"scicurate:{title}"}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
        try:
            ax.set_title(title, loc="left")
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig: Any, title: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.08, metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inlined
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # Several charts share one page: their ids (figure_1, axes_1, clip paths) must not clash.
    slug = "c" + hashlib.sha256(title.encode()).hexdigest()[:8]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{slug}-\1"', svg)
    svg = re.sub(r'(url\(#|href="#)([^")]+)', rf"\1{slug}-\2", svg)
    return svg.replace(
        "<svg ", f'<svg class="chart" role="img" aria-label="{escape(title)}" ', 1
    ).strip()


def _legend(ax: Any, title: str | None = None) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) > 1 or title:
        ax.legend(
            handles, [_wrap(lab) for lab in labels], title=title, loc="upper left",
            bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8, title_fontsize=8,
        )  # fmt: skip


def stacked_bars(
    title: str,
    categories: Sequence[str],
    series: dict[str, list[float]],
    *,
    xlabel: str,
    ylabel: str,
    legend_title: str | None = None,
) -> str:
    """Vertical bars per category (x), stacked by series (the legend); y is a count."""
    if not categories or not series or not any(any(v) for v in series.values()):
        return _empty(title)
    with _figure(title) as (fig, ax):
        xs = range(len(categories))
        bottom = [0.0] * len(categories)
        for k, (name, vals) in enumerate(series.items()):
            ax.bar(xs, vals, 0.75, bottom=bottom, label=name, color=PALETTE[k % len(PALETTE)])
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        step = max(1, -(-len(categories) // MAX_TICK_LABELS))
        shown = list(xs)[::step]
        ax.set_xticks(shown, [_wrap(categories[i]) for i in shown], rotation=35, ha="right")
        ax.set_xlim(-0.6, len(categories) - 0.4)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _legend(ax, legend_title)
        return _svg(fig, title)


def horizontal_bars(title: str, values: dict[str, float], *, xlabel: str) -> str:
    """One horizontal bar per label (names read on the y axis, never rotated); x is a count."""
    if not values or not any(values.values()):
        return _empty(title)
    with _figure(title, height=max(1.6, 0.9 + 0.28 * len(values))) as (fig, ax):
        labels = list(values)
        ys = range(len(labels))
        ax.barh(ys, list(values.values()), 0.7, color=[PALETTE[i % len(PALETTE)] for i in ys])
        for y, v in zip(ys, values.values(), strict=True):
            ax.annotate(f"{v:,.0f}", (v, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)  # fmt: skip
        ax.set_yticks(list(ys), [_wrap(lab) for lab in labels])
        ax.invert_yaxis()
        ax.margins(x=0.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        return _svg(fig, title)


def success_bars(title: str, stages: Sequence[Stage], *, xlabel: str) -> str:
    """ok (green) against failed (red) and neither (grey), out of each stage's total."""
    stages = [s for s in stages if s.total]
    if not stages:
        return _empty(title)
    with _figure(title, height=max(1.6, 1.0 + 0.45 * len(stages))) as (fig, ax):
        ys = list(range(len(stages)))
        ok = [s.ok for s in stages]
        failed = [s.failed for s in stages]
        ax.barh(ys, ok, 0.6, color=OK, label="ok")
        ax.barh(ys, failed, 0.6, left=ok, color=FAILED, label="failed")
        others = {s.other_label for s in stages if s.other}
        if others:
            left = [o + f for o, f in zip(ok, failed, strict=True)]
            label = " / ".join(sorted(others))
            ax.barh(ys, [s.other for s in stages], 0.6, left=left, color=OTHER, label=label)
        for y, s in zip(ys, stages, strict=True):
            note = f"{s.ok:,} ok, {s.failed:,} failed"
            if s.other:
                note += f", {s.other:,} {s.other_label}"
            ax.annotate(f"{note} of {s.total:,}", (s.total, y), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        ax.set_yticks(ys, [_wrap(s.name) for s in stages])
        ax.invert_yaxis()
        ax.set_xlim(0, max(s.total for s in stages) * 1.9)  # room for the "of total" notes
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower right", frameon=False, fontsize=8, ncols=3)
        return _svg(fig, title)


def fraction_bar(title: str, label: str, value: float | None, *, xlabel: str) -> str:
    """One horizontal bar on a fixed 0..1 axis (a share, an agreement)."""
    if value is None:
        return _empty(title)
    with _figure(title, height=1.4) as (fig, ax):
        ax.barh([0], [value], 0.6, color=PALETTE[0])
        ax.annotate(f"{value:.2f}", (value, 0), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)  # fmt: skip
        ax.set_yticks([0], [_wrap(label)])
        ax.set_xlim(0, 1)
        ax.set_xlabel(xlabel)
        return _svg(fig, title)
