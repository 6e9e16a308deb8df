"""Tiny inline-SVG charts for the static report: no JavaScript, no CDN, no plotting library.

Every label is escaped; a chart with no data says so instead of drawing empty axes.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477",
           "#66aa00", "#b82e2e", "#316395")  # fmt: skip
W, H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 16, 56


def _empty(title: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{W}" height="80" '
        f'xmlns="http://www.w3.org/2000/svg"><text x="10" y="45" font-size="14" fill="#777">'
        f"{escape(title)}: no data yet</text></svg>"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(value)


def stacked_bars(title: str, categories: list[str], series: dict[str, list[float]]) -> str:
    """Bars per category (x), stacked by series (the legend)."""
    if not categories or not series or not any(any(v) for v in series.values()):
        return _empty(title)
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(categories))]
    top = _nice_max(max(totals))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / len(categories)
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{W}" height="{H}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - frac)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(top * frac)}</text>'
        )
    for i, cat in enumerate(categories):
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + plot_h
        for k, (name, vals) in enumerate(series.items()):
            h = plot_h * vals[i] / top
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(name)} {escape(cat)}: '
                f"{_fmt(vals[i])}</title></rect>"
            )
        if len(categories) <= 16 or i % max(1, len(categories) // 12) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" text-anchor="end" '
                f'transform="rotate(-35 {x + bar / 2:.1f} {TOP + plot_h + 14})">'
                f"{escape(cat[:18])}</text>"
            )
    for k, name in enumerate(series):
        y = TOP + 12 + 16 * k
        parts.append(
            f'<rect x="{W - RIGHT + 12}" y="{y - 9}" width="10" height="10" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/><text x="{W - RIGHT + 26}" y="{y}">'
            f"{escape(name[:20])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(title: str, values: dict[str, float]) -> str:
    return stacked_bars(title, list(values), {title: list(values.values())})


def _fmt(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.2f}"
