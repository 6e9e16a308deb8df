"""Text tests on single pages of the shared corpus, of the olmOCR-bench kind.

Each case is one page, cut out of its PDF and parsed alone (a one-page excerpt, so furniture
cannot be found by repetition). ``present``: sentences a reader sees in the body (matched
fuzzily, so a ligature or a joined hyphen does not count against the parse). ``absent``:
furniture that must not reach the text (running heads and feet, page numbers, download and
publisher lines). ``order``: pairs that must come in this reading order (left column before
right column, a heading before its text).

The truth was written from the page as a reader sees it (positions checked in the PDF), not
from any parser's output. ``score`` is shared by the tests and ``bench/bench_fidelity.py``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz


@dataclass(frozen=True)
class PageCase:
    pdf: str
    page: int  # 0-based
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    order: tuple[tuple[str, str], ...] = ()
    kinds: tuple[str, ...] = field(default=())  # what the page is (for the report)


CASES: tuple[PageCase, ...] = (
    PageCase("docling_2305.03393v1-pg9.pdf", 0,
             present=("the results show that OTSL has an advantage over HTML",),
             absent=("Optimized Table Tokenization for Table Structure Recognition", "9"),
             order=(("order to compute the TED score",
                     "We picked the model parameter configuration"),),
             kinds=("running head", "table")),
    PageCase("grobid_0807.3577.pdf", 0,
             absent=("IOP Publishing Ltd and SISSA", "1475-7516/08/10003+15$30.00"),
             kinds=("publisher line",)),
    PageCase("grobid_0807.3577.pdf", 1,
             present=("These theorems imply that if anisotropies in the cosmic microwave "
                      "background radiation are small",),
             absent=("Journal of Cosmology and Astroparticle Physics 10 (2008) 003",
                     "Apparent and average accelerations of the Universe", "2"),
             kinds=("journal foot", "running head", "page number")),
    PageCase("grobid_1001._0908.0054.pdf", 1,
             present=("Following the same formalism developed for the fermionic sector",),
             absent=("2",),
             order=(("Following the same formalism developed", "III. TESTING WITH THE CMB"),
                    ("TESTING WITH THE CMB", "is freezed-out and its temperature"),
                    ("In figure 4 it is shown the prediction",
                     "Once the necessary mass-to-temperature ratio is estimated")),
             kinds=("page number", "two columns")),
    PageCase("grobid_ApplPhysLett_98_082505.pdf", 0,
             absent=("APPLIED PHYSICS LETTERS 98, 082505",),
             kinds=("journal head",)),
    PageCase("grobid_ApplPhysLett_98_082505.pdf", 1,
             present=("The analysis of the HRTEM results implies several considerations on "
                      "the apex structure",),
             absent=("082505-2", "Rodary et al.", "Appl. Phys. Lett. 98, 082505",
                     "Downloaded 20 Sep 2011 to 193.48.163.6"),
             kinds=("journal head", "download notice")),
    PageCase("grobid_MullenJSSv18i03.pdf", 1,
             present=("Scientific model discovery is interactive in the case that the time",),
             absent=("TIMP: Modeling Multi-way Spectroscopic Measurements in R", "2"),
             kinds=("running head",)),
    PageCase("grobid_ZFN-A-054-0304-0272.pdf", 0,
             present=("Exact Solitary-wave Solutions for the General Fifth-order Shallow",),
             absent=("272", "Verlag der Zeitschrift für Naturforschung"),
             kinds=("scan with OCR layer", "page number", "publisher line")),
    PageCase("grobid_ZFN-A-054-0304-0272.pdf", 1,
             present=("This work was supported by the special research Grant",),
             absent=("273",),
             kinds=("scan with OCR layer", "page number")),
    PageCase("nougat_calculus00marciala_p43.pdf", 0,
             present=("The derivative of a constant is zero.",
                      "Interpret this result geometrically.",
                      "The derivative of the sum of two functions is equal to the sum of "
                      "their derivatives."),
             absent=("THE POWER FUNCTION",),
             order=(("The Derivative of a Constant", "The Derivative of the Sum of Two"),),
             kinds=("scanned book page", "chapter head")),
    PageCase("pm_2020.acl-main.447.pdf", 0,
             present=("S2ORC: The Semantic Scholar Open Research Corpus",),
             absent=("Proceedings of the 58th Annual Meeting of the Association for "
                     "Computational Linguistics", "4969"),
             kinds=("venue foot", "page number")),
    PageCase("pm_2020.acl-main.447.pdf", 1,
             present=("To construct S2ORC, we must overcome challenges in (i) paper metadata "
                      "aggregation",),
             absent=("4970",),
             kinds=("page number",)),
    PageCase("pm_2023.eacl-main.121.pdf", 0,
             absent=("May 2-6, 2023 ©2023 Association for Computational Linguistics", "1650"),
             kinds=("copyright foot",)),
    PageCase("pm_2023.eacl-main.121.pdf", 1,
             present=("We exclude five papers which used long-form summarization data",),
             absent=("1651",),
             kinds=("footnote kept", "page number")),
    PageCase("pm_2302.07302v1.pdf", 1,
             present=("we introduce and explore the idea of a personalized paper reading "
                      "experience",),
             absent=("CHI \u201923, April 23\u201328, 2023, Hamburg, Germany", "Chang et al."),
             kinds=("running head",)),
    PageCase("pm_2304.02623v1.pdf", 1,
             present=("To optimally involve LLMs to help expository writing, we argue",),
             absent=("Shen, et al.",),
             kinds=("running head",)),
    PageCase("sp_P14-1059.pdf", 0,
             present=("How to make words with vectors: Phrase generation in distributional "
                      "semantics",),
             absent=("Proceedings of the 52nd Annual Meeting of the Association for "
                     "Computational Linguistics", "624"),
             kinds=("venue foot", "page number")),
    PageCase("sp_P14-1059.pdf", 1,
             present=("Here we make the simplifying assumption that all vectors have the same "
                      "dimensionality",),
             absent=("625",),
             order=(("we introduce a more direct approach to phrase generation",
                     "Related work"),),
             kinds=("page number", "footnote kept")),
    PageCase("sp_map-reduce.pdf", 0,
             present=("Section 2 describes the basic programming model",),
             absent=("To appear in OSDI 2004",),
             order=(("Over the past five years, the authors and many others at Google",
                     "Section 2 describes the basic programming model"),),
             kinds=("venue foot", "two columns")),
    PageCase("sp_map-reduce.pdf", 1,
             present=("A term vector summarizes the most important words that occur in a "
                      "document",),
             absent=("To appear in OSDI 2004",),
             kinds=("venue foot",)),
    PageCase("sp_seung08.pdf", 1,
             present=("Convolutional networks largely avoid these difficulties by posing the "
                      "computational task",),
             absent=("2",),
             kinds=("page number",)),
    PageCase("unst_multi-column-2p.pdf", 0,
             order=(("Open-domain question answering (QA) (Voorhees, 1999)",
                     "a huge performance degradation is often observed"),
                    ("a huge performance degradation is often observed",
                     "Retrieval in open-domain QA is usually implemented")),
             kinds=("two columns",)),
)  # fmt: skip


def normalise(text: str) -> str:
    """Case, ligatures, hyphenation at line ends, quotes and spacing folded away."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"[#*|_`\"“”]+", " ", text)
    return " ".join(text.lower().split())


def _found(needle: str, hay: str) -> bool:
    return fuzz.partial_ratio(normalise(needle), hay) >= 92


def _absent(needle: str, text: str) -> bool:
    """Short furniture (a page number) must not stand on a line or paragraph of its own;
    longer furniture must not appear anywhere."""
    if len(needle) < 8:
        lines = {normalise(ln) for ln in re.split(r"\n", text)}
        return normalise(needle) not in lines
    return not _found(needle, normalise(text))


def _position(needle: str, hay: str) -> int | None:
    n = normalise(needle)
    if fuzz.partial_ratio(n, hay) < 92:
        return None
    return fuzz.partial_ratio_alignment(n, hay).dest_start  # type: ignore[union-attr]


def score(case: PageCase, text: str) -> list[tuple[str, str, bool]]:
    """Every check of ``case`` against ``text``: (kind, what, passed)."""
    hay = normalise(text)
    out = [("present", s, _found(s, hay)) for s in case.present]
    out += [("absent", s, _absent(s, text)) for s in case.absent]
    for first, second in case.order:
        a, b = _position(first, hay), _position(second, hay)
        out.append(
            ("order", f"{first[:30]} < {second[:30]}", a is not None and b is not None and a < b)
        )
    return out
