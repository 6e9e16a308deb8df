"""Hand-written arXiv HTML pages for the outcomes no public copy was found of.

No saved copy of arXiv's "no HTML" page or of a LaTeXML fatal-error page was available, so
these are written from arXiv's documented wording (the HTML papers help pages: "HTML is not
available for the source", and the banner of a broken conversion, "Conversion to HTML had a
Fatal error and exited abruptly. This document may be truncated or damaged."). They are
minimal pages, not recordings: the parser must not depend on more than that wording and the
absence (or presence) of a LaTeXML ``article``.
"""

from __future__ import annotations

# arXiv answers https://arxiv.org/html/<id> with HTTP 200 and a page like this one when the
# paper has no HTML rendering (a PDF-only submission, or a conversion that never ran).
NO_HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/>
<title>No HTML for '2510.99999'</title></head>
<body>
<header><a href="https://arxiv.org/">arXiv</a></header>
<main>
<h1>No HTML for '2510.99999'</h1>
<p>HTML is not available for the source.</p>
<p>This could be due to the source files not being HTML-compatible, or the conversion
could not be completed. See <a href="https://info.arxiv.org/about/accessible_HTML.html">
HTML papers on arXiv</a> for more information.</p>
</main>
</body></html>
"""

# A LaTeXML conversion that stopped with a fatal error: arXiv still serves what was made,
# under a banner that says so.
FATAL_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/>
<title>A broken paper</title>
<!--Generated on Mon Oct 13 06:20:40 2025 by LaTeXML (version 0.8.8) http://dlmf.nist.gov/LaTeXML/.-->
</head>
<body>
<div class="package-alerts ltx_document" role="status">
<p>Conversion to HTML had a Fatal error and exited abruptly. This document may be truncated
or damaged.</p></div>
<div class="ltx_page_main"><div class="ltx_page_content">
<article class="ltx_document"><h1 class="ltx_title ltx_title_document">A broken paper</h1>
<div class="ltx_para"><p class="ltx_p">Only the first paragraph made it.</p></div>
</article></div></div>
</body></html>
"""

# arXiv's chrome around a LaTeXML article, as a browser saves a live page: the site header,
# licence and watermark boxes, the "report an issue" button its scripts add, a banner.
CHROME_HEAD = b"""<header class="desktop_header"><div class="html-header-logo">arXiv logo</div>
<div class="html-header-message" role="banner">Why HTML? Report Issue Back to Abstract</div>
</header>
<div id="license-tr">License: CC BY 4.0</div>
<div id="watermark-tr">arXiv:2510.11973v1 [econ.GN] 13 Oct 2025</div>
<div class="package-alerts ltx_document" role="status">HTML conversions sometimes display
errors due to content that did not convert correctly from the source.</div>
"""
CHROME_BUTTON = (
    b'<button class="btn btn-primary hover-rp-button" type="button">'
    b"Report issue for preceding element</button>"
)
CHROME_WORDS = (
    "arXiv logo",
    "Why HTML",
    "Report Issue",
    "Report issue for preceding element",
    "Back to Abstract",
    "License: CC BY",
    "arXiv:2510.11973v1",
    "HTML conversions sometimes display",
)
