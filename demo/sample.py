"""A small, self-contained arXiv-like sample the project owns, for the offline demo and tests.

It produces recorded-style OAI-PMH ``ListRecords`` pages (``arXivRaw``, with resumption
tokens), the matching arXiv API Atom entries, and real PDFs generated with PyMuPDF: two
columns, numbered headings, a table and an equation, so every stage has realistic input.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

_TOPICS = [
    ("diffusion models", "image synthesis", "cs.CV"),
    ("graph neural networks", "molecular property prediction", "cs.LG"),
    ("retrieval-augmented generation", "scientific question answering", "cs.AI"),
    ("vision transformers", "document layout analysis", "cs.CV"),
    ("reinforcement learning", "theorem proving", "cs.AI"),
    ("contrastive learning", "table structure recognition", "cs.LG"),
    ("large language models", "peer review generation", "cs.CL"),
    ("program synthesis", "test generation", "cs.SE"),
]
_METHODS = [
    "sparse attention",
    "curriculum learning",
    "mixture of experts",
    "active learning",
    "knowledge distillation",
    "self-supervised pre-training",
]
_SURNAMES = [
    "Nguyen",
    "Schmidt",
    "Okafor",
    "Tanaka",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Silva",
    "Johansson",
    "Chen",
    "Dubois",
    "Novak",
]
_FIRST = ["A.", "B. K.", "Chiara", "D.", "Elif", "F.", "Grace", "H.-J.", "Ines", "J."]


@dataclass(frozen=True)
class SamplePaper:
    arxiv_id: str
    title: str
    abstract: str
    authors: str
    submitter: str
    categories: list[str]
    versions: list[datetime]
    datestamp: str  # OAI header datestamp, YYYY-MM-DD

    @property
    def latest(self) -> str:
        return f"v{len(self.versions)}"


def sample_papers(n: int = 60, *, seed: int = 7, month: str = "2611") -> list[SamplePaper]:
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not crypto
    base = datetime(2000 + int(month[:2]), int(month[2:]), 1, 9, 0, 0)
    papers = []
    for i in range(n):
        subject, task, primary = _TOPICS[i % len(_TOPICS)]
        method = rng.choice(_METHODS)
        names = [f"{rng.choice(_FIRST)} {rng.choice(_SURNAMES)}" for _ in range(rng.randint(1, 4))]
        authors = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
        others = sorted({primary, rng.choice(["cs.AI", "cs.LG", "cs.CV", "stat.ML"])} - {primary})
        created = base + timedelta(days=i % 19, hours=rng.randint(0, 12), minutes=i)
        versions = [created]
        if i % 5 == 0:
            versions.append(created + timedelta(days=2, hours=3))
        papers.append(
            SamplePaper(
                arxiv_id=f"{month}.{1001 + i:05d}",
                title=f"{method.capitalize()} for {task} with {subject}",
                abstract=(
                    f"We study {subject} for {task}. Existing approaches struggle when "
                    f"annotations are scarce. We propose a {method} scheme that improves "
                    f"accuracy by {rng.randint(2, 15)}.{rng.randint(0, 9)} points on three "
                    "benchmarks while halving the compute budget. Code and data are released."
                ),
                authors=authors,
                submitter=names[0],
                categories=[primary, *others],
                versions=versions,
                datestamp=(versions[-1] + timedelta(days=1)).date().isoformat(),
            )
        )
    return papers


def _raw_record(p: SamplePaper) -> str:
    versions = "".join(
        f'<version version="v{k}"><date>{format_datetime(when, usegmt=False)[:-6]} GMT</date>'
        f"<size>{120 + 7 * k}kb</size></version>"
        for k, when in enumerate(p.versions, start=1)
    )
    return (
        "<record><header>"
        f"<identifier>oai:arXiv.org:{p.arxiv_id}</identifier>"
        f"<datestamp>{p.datestamp}</datestamp><setSpec>cs</setSpec>"
        "</header><metadata>"
        '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">'
        f"<id>{p.arxiv_id}</id><submitter>{escape(p.submitter)}</submitter>{versions}"
        f"<title>{escape(p.title)}</title><authors>{escape(p.authors)}</authors>"
        f"<categories>{' '.join(p.categories)}</categories>"
        "<license>http://creativecommons.org/licenses/by/4.0/</license>"
        f"<abstract>  {escape(p.abstract)}\n</abstract>"
        "</arXivRaw></metadata></record>"
    )


def oai_pages(papers: list[SamplePaper], *, page_size: int = 25) -> list[tuple[str | None, bytes]]:
    """ListRecords pages as (the token that fetches it, body); the first page's token is None."""
    pages = []
    chunks = [papers[i : i + page_size] for i in range(0, len(papers), page_size)] or [[]]
    for n, chunk in enumerate(chunks):
        token_in = None if n == 0 else f"sample|{n * page_size + 1}"
        token_out = f"sample|{(n + 1) * page_size + 1}" if n + 1 < len(chunks) else ""
        body = "".join(_raw_record(p) for p in chunk)
        if not chunk:
            body = '<error code="noRecordsMatch">No records match</error>'
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            "<responseDate>2026-11-21T00:00:00Z</responseDate>"
            '<request verb="ListRecords">https://oaipmh.arxiv.org/oai</request>'
            + (
                f"<ListRecords>{body}<resumptionToken>{token_out}</resumptionToken></ListRecords>"
                if chunk
                else body
            )
            + "</OAI-PMH>"
        )
        pages.append((token_in, xml.encode()))
    return pages


def sample_pdf(p: SamplePaper) -> bytes:
    """A two-column paper page (and a second page) with headings, a table and an equation."""
    import pymupdf

    doc = pymupdf.open()
    width, height = 612, 792
    page = doc.new_page(width=width, height=height)

    def box(
        rect: tuple[float, float, float, float],
        text: str,
        size: float,
        bold: bool = False,
        center: bool = False,
    ) -> None:
        page.insert_textbox(
            pymupdf.Rect(*rect),
            text,
            fontsize=size,
            fontname="hebo" if bold else "helv",
            align=pymupdf.TEXT_ALIGN_CENTER if center else 0,
        )

    box((72, 50, 540, 100), p.title, 16, bold=True, center=True)
    box((72, 102, 540, 122), p.authors, 10, center=True)
    box((72, 130, 540, 152), "Abstract", 10, bold=True)
    box((72, 150, 540, 226), p.abstract, 9)
    box((72, 232, 300, 254), "1 Introduction", 10, bold=True)
    box((72, 254, 300, 420), " ".join([p.abstract] * 2), 9)
    box((72, 420, 300, 442), "2 Method", 10, bold=True)
    box((72, 442, 300, 480), "We minimise the objective in Eq. (1) over the parameters.", 9)
    box((80, 480, 300, 504), "L(w) = sum_i ||f(x_i) - y_i||^2 + c ||w||^2   (1)", 9)
    box((312, 232, 540, 254), "3 Experiments", 10, bold=True)
    box((312, 254, 540, 400), "Table 1 reports accuracy on three benchmarks. " + p.abstract, 9)
    box((312, 400, 540, 422), "4 Conclusion", 10, bold=True)
    box((312, 422, 540, 450), "The method is simple and effective.", 9)
    # Table 1: a ruled grid with a caption.
    top, rows, cols = (
        480,
        [
            ("Method", "A", "B", "C"),
            ("Baseline", "71.2", "64.0", "58.9"),
            ("Ours", "78.4", "70.1", "66.3"),
        ],
        [312, 390, 440, 490, 540],
    )
    box((312, top - 20, 540, top), "Table 1: Accuracy (%).", 8)
    for r, row in enumerate(rows):
        y = top + r * 16
        page.draw_line((312, y), (540, y))
        for c, cell in enumerate(row):
            page.insert_textbox(
                pymupdf.Rect(cols[c] + 3, y + 2, cols[c + 1], y + 16),
                cell,
                fontsize=8,
                fontname="helv",
            )
    page.draw_line((312, top + 48), (540, top + 48))
    for x in cols:
        page.draw_line((x, top), (x, top + 48))
    page.insert_text((300, 770), "1", fontsize=8)
    second = doc.new_page(width=width, height=height)
    second.insert_textbox(pymupdf.Rect(72, 70, 540, 92), "References", fontsize=10, fontname="hebo")
    second.insert_textbox(
        pymupdf.Rect(72, 92, 540, 300),
        "[1] A. Author. A prior study. 2025.\n[2] B. Author. Another study. 2026.",
        fontsize=9,
        fontname="helv",
    )
    second.insert_text((300, 770), "2", fontsize=8)
    doc.set_metadata(
        {
            "title": p.title,
            "author": p.authors,
            "creationDate": "D:20261101000000Z",
            "modDate": "D:20261101000000Z",
            "producer": "scicurate sample",
            "creator": "scicurate",
        }
    )
    data: bytes = doc.tobytes(garbage=3, deflate=True, no_new_id=True)
    doc.close()
    return data
