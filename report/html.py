"""``scicurate report``: one static HTML page with the pipeline's numbers and plots.

Everything is inline (matplotlib SVG charts, CSS); the page needs no network to view and runs no
script. Empty tables say "none"; the success chart shows ok against failed out of the total.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from annotation.stats import collect_stats
from report.charts import Stage, fraction_bar, horizontal_bars, stacked_bars, success_bars
from warehouse.db import Warehouse
from warehouse.status import collect_status

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{margin-bottom:4px} .muted{color:#666}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:18px}
section{border:1px solid #ddd;border-radius:6px;padding:10px 14px;background:#fff}
table{border-collapse:collapse;font-size:13px} td,th{padding:3px 10px;border-bottom:1px solid #eee;
text-align:left} td.n{text-align:right}
svg.chart{max-width:100%;height:auto;display:block;margin-top:6px}
"""


def _pivot(rows: list[tuple[Any, Any, Any]]) -> tuple[list[str], dict[str, list[float]]]:
    """(x, series, value) rows -> sorted x labels and one value list per series."""
    xs = sorted({str(r[0]) for r in rows})
    series: dict[str, dict[str, float]] = defaultdict(dict)
    for x, name, value in rows:
        series[str(name)][str(x)] = float(value or 0)
    return xs, {name: [vals.get(x, 0.0) for x in xs] for name, vals in sorted(series.items())}


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(f"{v:,}")}</td>'
            if isinstance(v, int)
            else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def collect(wh: Warehouse) -> dict[str, Any]:
    with wh.read() as con:
        q = con.execute
        data: dict[str, Any] = {
            "papers_per_day": q(
                "SELECT CAST(coalesce(published, first_seen) AS DATE) AS day, "
                "coalesce(primary_category, categories[1], source) AS cat, count(*) "
                "FROM papers GROUP BY ALL ORDER BY day DESC LIMIT 400"
            ).fetchall(),
            "papers": q("SELECT count(*) FROM papers").fetchone()[0],  # type: ignore[index]
            "pdf_status": q("SELECT status, count(*) FROM pdfs GROUP BY 1 ORDER BY 1").fetchall(),
            "doc_status": q(
                "SELECT status, count(*) FROM documents GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "quality": q(
                "SELECT CASE WHEN cpp < 500 THEN 'a <500' WHEN cpp < 1500 THEN 'b 500-1.5k' "
                "WHEN cpp < 3000 THEN 'c 1.5k-3k' WHEN cpp < 5000 THEN 'd 3k-5k' "
                "ELSE 'e 5k+' END AS bucket, status, count(*) FROM (SELECT status, "
                "CAST(json_extract(quality, '$.chars_per_page') AS DOUBLE) AS cpp "
                "FROM documents WHERE quality IS NOT NULL) WHERE cpp IS NOT NULL GROUP BY ALL"
            ).fetchall(),
            "feedback_types": q(
                "SELECT CAST(updated_at AS DATE), t, count(*) FROM (SELECT updated_at, "
                "unnest(error_types) AS t FROM annotations WHERE is_current AND NOT is_deleted "
                "AND NOT was_cancelled AND updated_at IS NOT NULL) GROUP BY ALL"
            ).fetchall(),
            "throughput": q(
                "SELECT CAST(updated_at AS DATE), coalesce(annotator, '?'), count(*) "
                "FROM annotations WHERE revision = 1 AND updated_at IS NOT NULL GROUP BY ALL"
            ).fetchall(),
            "datasets": q(
                'SELECT name, "version", rows FROM dataset_versions ORDER BY name, "version"'
            ).fetchall(),
        }
    data["loop"] = collect_stats(wh)
    data["status"] = collect_status(wh)
    return data


def _success(data: dict[str, Any]) -> list[Stage]:
    pdf = {str(s): int(n) for s, n in data["pdf_status"]}
    doc = {str(s): int(n) for s, n in data["doc_status"]}
    fetched = sum(pdf.values())
    degraded = sum(n for s, n in doc.items() if s not in ("ok", "failed"))
    return [
        Stage("PDF download", pdf.get("ok", 0), pdf.get("quarantined", 0),
              max(0, int(data.get("papers", 0)) - fetched), "not tried yet"),
        Stage("parse", doc.get("ok", 0), doc.get("failed", 0), degraded,
              "low quality / needs OCR"),
    ]  # fmt: skip


def render(data: dict[str, Any]) -> str:
    days, per_cat = _pivot([(d, c, n) for d, c, n in data["papers_per_day"]])
    q_x, q_series = _pivot([(b[2:], s, n) for b, s, n in sorted(data["quality"])])
    f_x, f_series = _pivot(data["feedback_types"])
    t_x, t_series = _pivot(data["throughput"])
    sizes = {f"{name} v{v}": float(rows or 0) for name, v, rows in data["datasets"]}
    loop = data["loop"]
    kappa = "n/a" if loop.fleiss_kappa is None else f"{loop.fleiss_kappa:.3f}"
    mean = "n/a" if loop.mean_agreement is None else f"{loop.mean_agreement:.2f}"
    agreement = fraction_bar(
        "mean agreement per task", "mean agreement", loop.mean_agreement,
        xlabel="share of annotator pairs that agree (0 to 1)",
    )  # fmt: skip
    status = data["status"]
    sections = [
        ("Papers per day by category", stacked_bars(
            "papers per day", days, per_cat, xlabel="publication day (date)",
            ylabel="papers (count)", legend_title="category")),
        ("PDF and parse success", success_bars(
            "PDFs and parses", _success(data), xlabel="papers or documents (count)")),
        ("Parse quality (characters per page)", stacked_bars(
            "parse quality", q_x, q_series, xlabel="characters per page (range)",
            ylabel="documents (count)", legend_title="parse status")),
        ("Feedback by error type over time", stacked_bars(
            "feedback by error type", f_x, f_series, xlabel="annotation day (date)",
            ylabel="error labels (count)", legend_title="error type")),
        (
            f"Annotator throughput and agreement (Fleiss' kappa {kappa}, mean {mean})",
            stacked_bars("annotations per day", t_x, t_series, xlabel="annotation day (date)",
                         ylabel="first annotations (count)", legend_title="annotator")
            + agreement,
        ),
        ("Dataset versions and sizes (rows)", horizontal_bars(
            "dataset rows", sizes, xlabel="rows (count)")),
    ]  # fmt: skip
    body = "".join(f"<section><h2>{escape(t)}</h2>{svg}</section>" for t, svg in sections)
    stages = _table([(s.pipeline, s.stage, s.count) for s in status.stages], ("", "stage", "count"))
    problems = _table(
        [(p.where, p.reason, p.count) for p in status.problems], ("where", "reason", "count")
    )
    coverage = _table(
        [(c.source, c.papers, c.best) for c in status.coverage],
        ("source", "papers with a document", "best source of"),
    )
    runs = _table(
        [(r.flow, r.status, str(r.started_at)[:19]) for r in status.runs],
        ("flow", "last state", "started"),
    )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>scicurate report</title>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<style>{_CSS}</style></head><body><h1>scicurate report</h1>"
        f'<p class="muted">generated {now}</p><div class="grid">{body}'
        f"<section><h2>Backlog per stage</h2>{stages}</section>"
        f"<section><h2>Last run of each flow</h2>{runs}</section>"
        f"<section><h2>Failures and quarantine</h2>{problems}</section>"
        f"<section><h2>Documents by source</h2>{coverage}</section>"
        "</div></body></html>"
    )


def write_report(wh: Warehouse, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    tmp = out / ".index.html.part"
    tmp.write_text(render(collect(wh)), encoding="utf-8")
    tmp.replace(path)
    return path
