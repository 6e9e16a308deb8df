"""arXiv e-prints (the LaTeX source) -> cleaned LaTeX for CPT corpora and a ``Document``.

An e-print body is a gzipped tar, a single gzipped ``.tex`` (a one-file paper), a plain tar, or
a PDF (a PDF-only submission: ``EprintIsPdfError``, and the caller stores it as a PDF).

**Safe extraction, in memory.** Nothing is written to disk. The gzip stream is decompressed in
bounded chunks (``zlib`` with ``max_length``) and read by ``tarfile`` in streaming mode, so a
bomb is stopped after at most one chunk past a limit instead of being decompressed first:
``ArchiveLimits`` bounds the member count, one member's size (checked from its header before a
byte of it is read: a 1 GB sparse member is refused at once), the total uncompressed size and
the compression ratio. Absolute paths, ``..``, symbolic and hard links, devices and FIFOs are
refused. Any of these is ``UnsafeArchiveError`` with its reason. Only the TeX-like members
(``.tex``, ``.ltx``, ``.bbl``, ``00README*``) are kept in memory; the rest is counted and
skipped (its names are in ``Eprint.files``).

**Preparing the source.** The main file comes from ``00README.json`` (``usage: toplevel``) or
``00README.XXX`` (``toplevelfile``) when present, else it is the file with
``\\documentclass`` (a ``subfiles`` child is never main; ties go to a ``\\begin{document}``, a
conventional name, then the biggest file). Comments are stripped (``%`` not preceded by an odd
number of backslashes; whole comment lines go with their newline; ``comment`` environments and
``\\iffalse`` blocks too) before ``\\input``, ``\\include``, ``\\subfile``, ``\\import`` and
``\\subimport`` are inlined, so a commented-out input stays out. Cycles and missing files are
recorded (``Eprint.missing``), never fatal; the inlined text is capped. ``\\bibliography`` and
``\\printbibliography`` are replaced by the ``.bbl``, as LaTeX itself would.

**The cleaned LaTeX** (``Eprint.latex``) follows RedPajama's arXiv preparation: everything
before the first sectioning command goes, comments are gone, user macros without arguments
(``\\newcommand``/``\\def``) are expanded, and the bibliography and anything after
``\\end{document}`` are dropped.

**The conversion to a ``Document``** is our own cleaning, chosen over pylatexenc and pandoc:

- pylatexenc's ``latex2text`` turns math into Unicode approximations (the LaTeX is what we
  want to keep), and its walker would still leave sectioning, floats and bibliography to us;
- pandoc is not installed here (Debian has it, as a large system dependency), so it was not
  measured; it would still have to be taught the custom macros and packages real e-prints are
  full of (``\\themebf``, tcolorbox boxes);
- own cleaning needs nothing, keeps every formula byte for byte and is fast (about 0.2 s a
  paper here). Measured on the three shared trees (tests/parsers/test_eprint.py and
  bench/bench_eprint.py): every ``\\section``, ``\\subsection`` and ``\\subsubsection`` of the
  inlined source is a heading with its level (17/36/12, 8/16/6 and 17/11/5 of them); every
  display environment outside lists and floats is an ``equation`` element with its LaTeX
  (152 of 159 in 2508.20357; the 7 others sit in lists and floats and stay in their text);
  and the ``.bbl`` entries are ``reference`` elements (58, 36 and 78).

It understands headings (``\\part`` 0 ... ``\\subparagraph`` 5), ``\\appendix``, the abstract,
display math (``equation``, ``align``, ``gather``, ``multline``, ``eqnarray``, ``\\[...\\]``,
``$$...$$``; ``attrs["environment"]``), lists, float captions, ``tabular`` as Markdown tables,
footnotes, ``thebibliography`` and biblatex ``.bbl`` entries. Text formatting commands keep
their argument, citations become ``[key]``, labels go; inline math stays ``$...$``.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from parsers.base import Document, Element, ElementKind, Page, ParseError, Provenance
from parsers.quality import QualityThresholds, assess

PARSER_NAME = "arxiv-src"
PARSER_VERSION = "1.0.0"
_BBOX = (0.0, 0.0, 0.0, 0.0)
_MiB = 1024 * 1024


class UnsafeArchiveError(ParseError):
    """The archive breaks a safety rule or a limit (traversal, link, bomb, too many members)."""


class EprintIsPdfError(ParseError):
    """The e-print is a PDF (a PDF-only submission): store it as a PDF instead."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 5000
    max_member_bytes: int = 256 * _MiB  # one member, from its header (sparse: its full size)
    max_total_bytes: int = 512 * _MiB  # everything decompressed
    max_ratio: float = 100.0  # decompressed / compressed, checked past ratio_floor_bytes
    ratio_floor_bytes: int = 16 * _MiB
    max_text_bytes: int = 16 * _MiB  # one TeX file kept in memory
    max_latex_chars: int = 32 * _MiB  # the inlined source
    chunk_bytes: int = 256 * 1024


@dataclass(frozen=True)
class Eprint:
    latex: str  # the cleaned body for CPT corpora
    document: Document
    main_file: str
    files: tuple[str, ...]  # every regular file in the archive, sorted
    inlined: tuple[str, ...] = ()  # files inlined into the main one, in order
    missing: tuple[str, ...] = ()  # inputs that were not in the archive (or cycles)


# -- bounded decompression ----------------------------------------------------------------------


class _BoundedGunzip(io.RawIOBase):
    """A gzip stream decompressed on demand, chunk by chunk, that raises
    ``UnsafeArchiveError`` as soon as the output passes the size or ratio limit."""

    def __init__(self, data: bytes, limits: ArchiveLimits) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._limits = limits
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._buf = bytearray()
        self.out = 0

    def readable(self) -> bool:
        return True

    def _fill(self, want: int) -> None:
        lim = self._limits
        while len(self._buf) < want:
            if self._pending:
                src, self._pending = self._pending, b""
            elif self._pos < len(self._data):
                src = bytes(self._data[self._pos : self._pos + lim.chunk_bytes])
                self._pos += len(src)
            elif self._z.unconsumed_tail:
                src = b""
            else:
                return
            if self._z.eof:  # a second gzip member follows (``cat a.gz b.gz``)
                rest = self._z.unused_data
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                src = rest + src
                if not src.strip(b"\0"):
                    return
            try:
                chunk = self._z.decompress(self._z.unconsumed_tail + src, lim.chunk_bytes)
            except zlib.error as exc:
                raise ParseError(f"corrupt gzip stream: {exc}") from None
            self._pending = b""
            self._buf += chunk
            self.out += len(chunk)
            if self.out > lim.max_total_bytes:
                raise UnsafeArchiveError(
                    f"decompressed size over the limit of {lim.max_total_bytes // _MiB} MiB"
                )
            consumed = max(self._pos, 1)
            if self.out > lim.ratio_floor_bytes and self.out / consumed > lim.max_ratio:
                raise UnsafeArchiveError(
                    f"compression ratio over {lim.max_ratio:g}:1 (a gzip bomb?)"
                )
            if not chunk and not self._z.unconsumed_tail and self._pos >= len(self._data):
                return

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return bytes(self._buf[:n])

    def readinto(self, b: Any) -> int:
        n = len(b)
        self._fill(n)
        got = min(n, len(self._buf))
        b[:got] = self._buf[:got]
        del self._buf[:got]
        return got


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


_KEEP = (".tex", ".ltx", ".latex", ".bbl")


def _safe_name(member: tarfile.TarInfo) -> str:
    name = member.name.replace("\\", "/")
    if "\0" in name:
        raise UnsafeArchiveError(f"member name with a NUL byte: {name!r}")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(f"absolute path in the archive: {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"path traversal in the archive: {name!r}")
    return "/".join(parts)


def _read_tar(stream: io.RawIOBase | io.BytesIO, limits: ArchiveLimits) -> dict[str, bytes | None]:
    """name -> bytes for kept members, None for the others (regular files only)."""
    files: dict[str, bytes | None] = {}
    total = 0
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                count += 1
                if count > limits.max_members:
                    raise UnsafeArchiveError(f"more than {limits.max_members} members")
                name = _safe_name(member)
                if member.issym() or member.islnk():
                    raise UnsafeArchiveError(
                        f"link in the archive: {name!r} -> {member.linkname!r}"
                    )
                if member.isdir():
                    continue
                if not member.isfile():
                    raise UnsafeArchiveError(f"device or special file in the archive: {name!r}")
                if member.size > limits.max_member_bytes:
                    raise UnsafeArchiveError(
                        f"member {name!r} of {member.size:,} bytes is over the limit of "
                        f"{limits.max_member_bytes // _MiB} MiB"
                    )
                total += member.size
                if total > limits.max_total_bytes:
                    raise UnsafeArchiveError(
                        f"members over the total limit of {limits.max_total_bytes // _MiB} MiB"
                    )
                base = posixpath.basename(name)
                keep = base.lower().endswith(_KEEP) or base.startswith("00README")
                if keep and member.size <= limits.max_text_bytes and not member.issparse():
                    fh = tar.extractfile(member)
                    files[name] = fh.read() if fh is not None else b""
                else:
                    files[name] = None
    except tarfile.TarError as exc:
        raise ParseError(f"unreadable tar: {exc}") from None
    except EOFError:
        raise ParseError("truncated tar") from None
    return files


def extract(data: bytes, limits: ArchiveLimits | None = None) -> dict[str, bytes | None]:
    """The members of an e-print body (a tar, a gzipped tar or a single gzipped file), safely.

    A single file comes back under the name ``main.tex``."""
    lim = limits or ArchiveLimits()
    if data[:5] == b"%PDF-":
        raise EprintIsPdfError("the e-print is a PDF")
    if data[:2] == b"\x1f\x8b":
        stream = _BoundedGunzip(data, lim)
        head = stream.peek(512)
        if head[:5] == b"%PDF-":
            raise EprintIsPdfError("the e-print is a gzipped PDF")
        if _is_tar(head):
            return _read_tar(stream, lim)
        body = stream.peek(lim.max_text_bytes + 1)
        if len(body) > lim.max_text_bytes:
            raise UnsafeArchiveError(
                f"single file over the limit of {lim.max_text_bytes // _MiB} MiB"
            )
        return {"main.tex": body}
    if _is_tar(data[:512]):
        return _read_tar(io.BytesIO(data), lim)
    if data[:4] == b"%!PS":
        raise ParseError("the e-print is PostScript, not LaTeX")
    if len(data) > lim.max_text_bytes:
        raise UnsafeArchiveError(f"single file over the limit of {lim.max_text_bytes // _MiB} MiB")
    if b"\\" not in data[:65536]:
        raise ParseError("not a gzip, tar, PDF or TeX file")
    return {"main.tex": data}


# -- preparing the source -------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_COMMENT_LINE = re.compile(r"(?m)^[ \t]*%.*(?:\n|$)")
_COMMENT = re.compile(r"(?m)(?<!\\)((?:\\\\)*)%.*$")
_COMMENT_ENV = re.compile(r"\\begin\{comment\}.*?\\end\{comment\}", re.S)
_IFFALSE = re.compile(r"\\iffalse\b.*?\\fi\b", re.S)


def strip_comments(tex: str) -> str:
    tex = _COMMENT_LINE.sub("", tex)
    tex = _COMMENT.sub(r"\1", tex)
    tex = _COMMENT_ENV.sub("", tex)
    return _IFFALSE.sub("", tex)


_DOCCLASS = re.compile(r"(?m)^[ \t]*\\document(class|style)\s*(\[[^\]]*\])?\s*\{([^}]*)\}")
_MAIN_NAMES = ("main", "ms", "paper", "manuscript", "article", "arxiv")


def find_main(files: dict[str, bytes | None]) -> str:
    """The top-level TeX file of an extracted e-print."""
    tex = {n: b for n, b in files.items() if b is not None and n.lower().endswith(_KEEP[:3])}
    readme = next((n for n in files if posixpath.basename(n) == "00README.json"), None)
    if readme is not None and files[readme]:
        try:
            spec = json.loads(files[readme] or b"{}")
            for src in spec.get("sources", []):
                if isinstance(src, dict) and src.get("usage") == "toplevel":
                    name = str(src.get("filename", ""))
                    if name in tex:
                        return name
        except (ValueError, AttributeError):
            pass
    for name, raw in files.items():
        if posixpath.basename(name).startswith("00README") and raw and name != readme:
            for line in _decode(raw).splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[1] in ("toplevelfile", "toplevel") and parts[0] in tex:
                    return parts[0]
    candidates = []
    for name, raw in tex.items():
        text = strip_comments(_decode(raw or b""))
        m = _DOCCLASS.search(text)
        if m is None or m.group(3).strip() in ("subfiles", "standalone"):
            continue
        stem = posixpath.splitext(posixpath.basename(name))[0].lower()
        candidates.append(
            (
                "\\begin{document}" in text,
                stem in _MAIN_NAMES,
                -name.count("/"),
                len(raw or b""),
                name,
            )
        )
    if candidates:
        return max(candidates)[-1]
    if len(tex) == 1:
        return next(iter(tex))
    raise ParseError("no main TeX file (no \\documentclass) in the e-print")


_INPUT = re.compile(
    r"\\(input|include|subfile|import|subimport|includefrom|subincludefrom)\*?"
    r"(?:\s*\{([^{}]*)\}\s*\{([^{}]*)\}|\s*\{([^{}]*)\}|\s+([^\s{}\\]+))"
)
_BODY = re.compile(r"\\begin\{document\}(.*?)(\\end\{document\}|$)", re.S)


@dataclass
class _Inliner:
    tex: dict[str, str]
    root_dir: str
    limit: int
    inlined: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    size: int = 0

    def resolve(self, arg: str, base: str) -> str | None:
        arg = arg.strip().strip('"')
        for folder in (base, self.root_dir, ""):
            path = posixpath.normpath(posixpath.join(folder, arg)).lstrip("./")
            for cand in (path, path + ".tex"):
                if cand in self.tex:
                    return cand
        return None

    def run(self, name: str, stack: tuple[str, ...]) -> str:
        text = self.tex[name]
        if len(stack) > 1:  # an included file with its own preamble (subfiles): its body
            body = _BODY.search(text) if "\\documentclass" in text else None
            if body is not None:
                text = body.group(1)
        here = posixpath.dirname(name)

        def repl(m: re.Match[str]) -> str:
            cmd = m.group(1)
            if m.group(2) is not None:  # \import{dir}{file}, \subimport{dir}{file}
                folder = m.group(2)
                base = posixpath.join(here, folder) if cmd.startswith("sub") else folder
                arg = m.group(3)
            else:
                arg, base = m.group(4) or m.group(5) or "", self.root_dir
            target = self.resolve(arg, base) or self.resolve(arg, here)
            if target is None:
                if not arg.lower().endswith((".pdf", ".png", ".jpg", ".eps", ".pgf", ".tikz")):
                    self.missing.append(arg)
                return ""
            if target in stack or len(stack) > 32:
                self.missing.append(f"{arg} (cycle)")
                return ""
            self.inlined.append(target)
            out = self.run(target, (*stack, target))
            self.size += len(out)
            if self.size > self.limit:
                raise UnsafeArchiveError(f"inlined LaTeX over {self.limit:,} characters")
            return out + "\n"

        return _INPUT.sub(repl, text)


_BIBCMD = re.compile(r"\\(bibliography\s*\{[^}]*\}|printbibliography\b(\s*\[[^\]]*\])?)")


def inline_source(
    files: dict[str, bytes | None], main: str, limits: ArchiveLimits
) -> tuple[str, list[str], list[str], str]:
    """(inlined LaTeX, files inlined, inputs missing, the .bbl text) for ``main``."""
    tex = {
        n: strip_comments(_decode(b))
        for n, b in files.items()
        if b is not None and not n.lower().endswith(".bbl") and not n.startswith("00README")
    }
    inliner = _Inliner(tex, posixpath.dirname(main), limits.max_latex_chars)
    text = inliner.run(main, (main,))
    bbls = [n for n, b in files.items() if n.lower().endswith(".bbl") and b is not None]
    stem = posixpath.splitext(main)[0] + ".bbl"
    bbl_name = stem if stem in bbls else (bbls[0] if len(bbls) == 1 else None)
    bbl = strip_comments(_decode(files[bbl_name] or b"")) if bbl_name else ""
    m = _BIBCMD.search(text)
    if bbl and m is not None:
        text = text[: m.start()] + "\n" + bbl + "\n" + _BIBCMD.sub("", text[m.end() :])
    return text, inliner.inlined, inliner.missing, bbl


# -- the cleaned LaTeX (RedPajama's arXiv preparation) ---------------------------------------------

_SECTION_START = re.compile(
    r"\\(part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\b\*?\s*[\[{]"
)
_NEWCMD = re.compile(
    r"\\(?:re)?newcommand\*?\s*\{?\s*(\\[A-Za-z]+)\s*\}?\s*\{(.*?)\}\s*$"
    r"|\\def\s*(\\[A-Za-z]+)\s*\{(.*?)\}\s*$",
    re.M,
)
_BIB_ENV = re.compile(r"\\begin\{thebibliography\}.*?\\end\{thebibliography\}", re.S)
_BIBLATEX = re.compile(r"\\refsection\{.*?\\endrefsection", re.S)
_BLANKS = re.compile(r"\n\s*\n(\s*\n)+")


def expand_macros(tex: str, preamble: str) -> str:
    """Replace user macros without arguments (``\\newcommand{\\x}{...}``, ``\\def\\x{...}``)
    by their definition, once (RedPajama's step)."""
    macros: dict[str, str] = {}
    for m in _NEWCMD.finditer(preamble):
        name, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if name and value is not None and "#" not in value and value.count("{") == value.count("}"):
            macros[name] = value
        if len(macros) >= 2000:
            break
    if not macros:
        return tex
    names = sorted(macros, key=len, reverse=True)
    pattern = re.compile("(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z@])")
    return pattern.sub(lambda m: macros[m.group(1)], tex)


def clean_latex(source: str) -> str:
    """RedPajama-style cleaned body: from the first section on, no comments (already gone),
    argument-free macros expanded, no bibliography, nothing after ``\\end{document}``."""
    end = source.find("\\end{document}")
    body = source if end < 0 else source[:end]
    start = body.find("\\begin{document}")
    preamble = body[:start] if start >= 0 else ""
    m = _SECTION_START.search(body, max(start, 0))
    if m is None:
        return ""
    body = body[m.start() :]
    body = _BIB_ENV.sub("", body)
    body = _BIBLATEX.sub("", body)
    body = _BIBCMD.sub("", body)
    body = expand_macros(body, preamble + "\n" + body)
    return _BLANKS.sub("\n\n", body).strip() + "\n"


# -- LaTeX -> Document --------------------------------------------------------------------------


def _braced(tex: str, i: int) -> tuple[str, int]:
    """The balanced ``{...}`` group starting at or after ``i`` (whitespace skipped), and the
    index after it; ``("", i)`` when there is none."""
    j = i
    while j < len(tex) and tex[j] in " \t\n":
        j += 1
    if j >= len(tex) or tex[j] != "{":
        return "", i
    depth = 0
    k = j
    while k < len(tex):
        c = tex[k]
        if c == "\\":
            k += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return tex[j + 1 : k], k + 1
        k += 1
    return tex[j + 1 :], len(tex)


def _optional(tex: str, i: int) -> int:
    """Skip an optional ``[...]`` argument at ``i`` (after whitespace)."""
    j = i
    while j < len(tex) and tex[j] in " \t\n":
        j += 1
    if j < len(tex) and tex[j] == "[":
        depth = 0
        for k in range(j, min(len(tex), j + 2000)):
            if tex[k] == "[":
                depth += 1
            elif tex[k] == "]":
                depth -= 1
                if depth == 0:
                    return k + 1
    return i


def _env_end(tex: str, name: str, i: int) -> tuple[int, int]:
    """(start of ``\\end{name}``, index after it) for the environment opened before ``i``."""
    begin, end = f"\\begin{{{name}}}", f"\\end{{{name}}}"
    depth = 1
    j = i
    while True:
        b = tex.find(begin, j)
        e = tex.find(end, j)
        if e < 0:
            return len(tex), len(tex)
        if 0 <= b < e:
            depth += 1
            j = b + len(begin)
            continue
        depth -= 1
        if depth == 0:
            return e, e + len(end)
        j = e + len(end)


_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<!\\)\$(?:\\.|[^$\\])+\$", re.S)
# Commands dropped with this many braced arguments (after an optional one).
_DROP_ARGS: dict[str, int] = {
    "newpage": 0,
    "clearpage": 0,
    "cleardoublepage": 0,
    "pagebreak": 0,
    "linebreak": 0,
    "noindent": 0,
    "centering": 0,
    "raggedright": 0,
    "raggedleft": 0,
    "maketitle": 0,
    "tableofcontents": 0,
    "listoffigures": 0,
    "listoftables": 0,
    "doparttoc": 0,
    "footnotemark": 0,
    "hline": 0,
    "toprule": 0,
    "midrule": 0,
    "bottomrule": 0,
    "smallskip": 0,
    "medskip": 0,
    "bigskip": 0,
    "par": 0,
    "appendix": 0,
    "acknowledgments": 0,
    "newline": 0,
    "protect": 0,
    "hfill": 0,
    "vfill": 0,
    "label": 1,
    "vspace": 1,
    "hspace": 1,
    "vskip": 1,
    "hskip": 1,
    "includegraphics": 1,
    "bibliographystyle": 1,
    "addbibresource": 1,
    "thispagestyle": 1,
    "pagestyle": 1,
    "nocite": 1,
    "usepackage": 1,
    "graphicspath": 1,
    "captionsetup": 1,
    "setlength": 2,
    "addtolength": 2,
    "setcounter": 2,
    "epigraph": 2,
    "newcommand": 2,
    "renewcommand": 2,
    "def": 2,
    "definecolor": 3,
}
# Commands whose leading size arguments go while their content stays.
_SIZE_ARGS = {"resizebox": 2, "scalebox": 1, "rotatebox": 1}
_CITES = re.compile(r"^(cite[a-z]*|[Cc]ite[a-z]*|parencite|textcite|autocite|footcite)$")
_REFS = re.compile(r"^([cC]?ref|eqref|autoref|[cC]pageref|pageref|vref|nameref|subref)$")
_SIMPLE = {"&": "&", "%": "%", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", " ": " "}
_CMD = re.compile(r"\\([A-Za-z@]+)\*?|\\(.)")


@dataclass
class _Ctx:
    footnotes: list[str] = field(default_factory=list)


def _clean_text(tex: str, ctx: _Ctx) -> str:
    """Inline LaTeX -> text: math kept as ``$...$`` (``\\(...\\)`` normalised), formatting
    commands replaced by their argument, citations as ``[key]``, footnotes collected."""
    tex = _pull_notes(tex, ctx)
    out: list[str] = []
    last = 0
    for m in _MATH.finditer(tex):
        out.append(_clean_prose(tex[last : m.start()], ctx))
        math = m.group(0)
        if math.startswith("\\("):
            math = "$" + math[2:-2] + "$"
        out.append(re.sub(r"\\label\{[^{}]*\}", "", math))
        last = m.end()
    out.append(_clean_prose(tex[last:], ctx))
    return re.sub(r"[ \t\n]+", " ", "".join(out)).strip()


_NOTE_CMD = re.compile(r"\\(footnote|footnotetext|thanks|texorpdfstring)(?![A-Za-z])")


def _pull_notes(tex: str, ctx: _Ctx) -> str:
    """Footnotes (collected) and ``\\texorpdfstring`` (its TeX half), taken out before math is
    split off: their arguments often hold math."""
    if "\\footnote" not in tex and "\\thanks" not in tex and "\\texorpdfstring" not in tex:
        return tex
    out: list[str] = []
    i = 0
    for m in _NOTE_CMD.finditer(tex):
        if m.start() < i:
            continue
        out.append(tex[i : m.start()])
        j = _optional(tex, m.end())
        arg, j = _braced(tex, j)
        if m.group(1) == "texorpdfstring":
            _alt, j = _braced(tex, j)
            out.append(arg)
        else:
            text = _clean_text(arg, ctx)
            if text:
                ctx.footnotes.append(text)
        i = j
    out.append(tex[i:])
    return "".join(out)


def _clean_prose(tex: str, ctx: _Ctx) -> str:
    out: list[str] = []
    i = 0
    n = len(tex)
    while i < n:
        c = tex[i]
        if c == "\\":
            m = _CMD.match(tex, i)
            if m is None:
                i += 1
                continue
            if m.group(2) is not None:
                sym = m.group(2)
                out.append("\n" if sym == "\\" else _SIMPLE.get(sym, ""))
                i = m.end()
                continue
            name = m.group(1)
            j = m.end()
            if name in ("footnote", "footnotetext", "thanks"):
                j = _optional(tex, j)
                arg, j = _braced(tex, j)
                text = _clean_text(arg, ctx)
                if text:
                    ctx.footnotes.append(text)
                i = j
                continue
            if _CITES.match(name) or _REFS.match(name):
                j = _optional(tex, j)
                j = _optional(tex, j)
                arg, j = _braced(tex, j)
                keys = ", ".join(k.strip() for k in arg.split(",") if k.strip())
                out.append(f"[{keys}]" if keys else "")
                i = j
                continue
            if name in ("href",):
                _url, j = _braced(tex, j)
                arg, j = _braced(tex, j)
                out.append(_clean_prose(arg, ctx))
                i = j
                continue
            if name in _DROP_ARGS or name in _SIZE_ARGS:
                j = _optional(tex, j)
                for _ in range(_DROP_ARGS.get(name, 0) + _SIZE_ARGS.get(name, 0)):
                    _arg, j = _braced(tex, j)
                i = j
                continue
            if name == "texorpdfstring":
                arg, j = _braced(tex, j)
                _alt, j = _braced(tex, j)
                out.append(_clean_text(arg, ctx))
                i = j
                continue
            # any other command: its arguments stay, the command goes
            j = _optional(tex, j)
            i = j
            continue
        if c in "{}":
            i += 1
            continue
        if c == "~":
            out.append(" ")
            i += 1
            continue
        out.append(c)
        i += 1
    text = "".join(out)
    return text.replace("``", "\u201c").replace("''", "\u201d")


_HEADINGS = {
    "part": 0,
    "chapter": 1,
    "section": 1,
    "subsection": 2,
    "subsubsection": 3,
    "paragraph": 4,
    "subparagraph": 5,
}
_DISPLAY_ENVS = {
    "equation",
    "align",
    "gather",
    "multline",
    "eqnarray",
    "displaymath",
    "flalign",
    "alignat",
    "math",
    "subequations",
}
# Multi-line display environments rendered as themselves in Markdown (unnumbered forms).
_MD_ENVS = {
    "align": "align*",
    "flalign": "align*",
    "alignat": "align*",
    "eqnarray": "align*",
    "gather": "gather*",
    "multline": "multline*",
}
_FLOATS = {"figure", "table", "wrapfigure", "wraptable", "sidewaystable", "sidewaysfigure"}
_LISTS = {"itemize", "enumerate", "description"}
_SKIP_ENVS = {"tikzpicture", "pgfpicture", "picture", "comment", "filecontents", "thebibliography"}
_TOKEN = re.compile(
    r"\\(part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\b\*?"
    r"|\\begin\{([A-Za-z*]+)\}|\\end\{([A-Za-z*]+)\}|\\appendix\b|\\\[|\$\$|\\item\b"
    r"|\n[ \t]*\n"
)


class _DocBuilder:
    def __init__(self) -> None:
        self.elements: list[Element] = []
        self.ctx = _Ctx()
        self.appendix = False
        self.abstract = False
        self.equations = 0
        self.tables = 0
        self.footnote_no = 0

    def emit(
        self,
        kind: ElementKind,
        text: str,
        markdown: str = "",
        level: int | None = None,
        **attrs: Any,
    ) -> None:
        if self.appendix:
            attrs["appendix"] = True
        if self.abstract and kind == "paragraph":
            attrs["abstract"] = True
        self.elements.append(Element(kind, 0, _BBOX, text, markdown, level=level, attrs=attrs))

    def paragraph(self, tex: str) -> None:
        text = _clean_text(tex, self.ctx)
        if text:
            self.emit("paragraph", text)
        self.flush_footnotes()

    def flush_footnotes(self) -> None:
        notes, self.ctx.footnotes = self.ctx.footnotes, []
        for note in notes:
            self.footnote_no += 1
            self.emit(
                "footnote", note, f"[^{self.footnote_no}]: {note}", mark=str(self.footnote_no)
            )

    def equation(self, latex: str, env: str) -> None:
        latex = re.sub(r"\\(label|nonumber|notag)\b(\{[^{}]*\})?", "", latex).strip()
        if not latex:
            return
        self.equations += 1
        base = env.rstrip("*")
        if latex.startswith("\\begin{"):  # subequations around an align: already an environment
            md = latex
        elif base in _MD_ENVS:
            md = f"\\begin{{{_MD_ENVS[base]}}}\n{latex}\n\\end{{{_MD_ENVS[base]}}}"
        else:
            md = f"\\[{latex}\\]"
        self.emit("equation", latex, md, environment=env)

    def run(self, tex: str) -> None:
        """Walk ``tex`` (the document body): structure tokens split it, prose between them
        becomes paragraphs."""
        i = 0
        buf: list[str] = []
        n = len(tex)

        def flush() -> None:
            if buf:
                self.paragraph("".join(buf))
                buf.clear()

        while i < n:
            m = _TOKEN.search(tex, i)
            if m is None:
                buf.append(tex[i:])
                break
            buf.append(tex[i : m.start()])
            tok = m.group(0)
            j = m.end()
            if m.group(1):  # a heading
                flush()
                j = _optional(tex, j)
                arg, j = _braced(tex, j)
                text = _clean_text(arg, self.ctx)
                level = _HEADINGS[m.group(1)]
                if text:
                    self.emit("heading", text, f"{'#' * (level + 1)} {text}", level=level)
                self.flush_footnotes()
            elif tok.startswith("\\appendix"):
                flush()
                self.appendix = True
            elif tok.strip() == "":
                flush()
            elif tok in ("\\[", "$$"):
                close = "\\]" if tok == "\\[" else "$$"
                k = tex.find(close, j)
                k = n if k < 0 else k
                flush()
                self.equation(tex[j:k], "displaymath")
                j = min(n, k + len(close))
            elif tok == "\\item":
                buf.append(" ")
            elif m.group(2):
                j = self.begin(m.group(2), tex, j, flush)
            # \end{...} of an environment whose contents flow (theorem, center, ...): nothing
            i = j
        flush()

    def begin(self, env: str, tex: str, j: int, flush: Any) -> int:
        base = env.rstrip("*")
        if base in _DISPLAY_ENVS:
            end, after = _env_end(tex, env, j)
            flush()
            if base == "alignat":
                _cols, j = _braced(tex, j)
            self.equation(tex[j:end], env)
            return after
        if base in _SKIP_ENVS:
            _end, after = _env_end(tex, env, j)
            return after
        if base == "abstract":
            end, after = _env_end(tex, env, j)
            flush()
            self.emit("heading", "Abstract", "## Abstract", level=1)
            self.abstract = True
            self.run(tex[j:end])
            self.abstract = False
            return after
        if base in _FLOATS:
            end, after = _env_end(tex, env, j)
            flush()
            self.float(tex[j:end])
            return after
        if base in _LISTS:
            end, after = _env_end(tex, env, j)
            flush()
            self.list(tex[j:end], ordered=base == "enumerate")
            return after
        if base.startswith("tabular"):
            end, after = _env_end(tex, env, j)
            flush()
            self.table(tex[j:end], env)
            return after
        # theorem, proof, boxes, center...: the body flows; an optional title and short
        # arguments (widths: \\begin{minipage}{0.5\\textwidth}, adjustwidth's margins) go
        j = _optional(tex, j)
        while True:
            arg, k = _braced(tex, j)
            if k == j or len(arg) > 30 or " " in arg.strip():
                return j
            j = k

    def float(self, tex: str) -> None:
        for m in re.finditer(r"\\begin\{(tabular[x*]?|longtable)\}", tex):
            end, _after = _env_end(tex, m.group(1), m.end())
            self.table(tex[m.end() : end], m.group(1))
        for m in re.finditer(r"\\(sub)?caption\*?(?![A-Za-z])", tex):
            k = _optional(tex, m.end())
            arg, _k = _braced(tex, k)
            text = _clean_text(arg, self.ctx)
            if text:
                self.emit("caption", text)
        self.flush_footnotes()

    def list(self, tex: str, *, ordered: bool) -> None:
        items: list[str] = []
        depth = 0
        cur: list[str] = []
        for part in re.split(
            r"(\\item\b|\\begin\{(?:itemize|enumerate|description)\}|"
            r"\\end\{(?:itemize|enumerate|description)\})",
            tex,
        ):
            if part.startswith("\\begin"):
                depth += 1
            elif part.startswith("\\end"):
                depth -= 1
            if part == "\\item" and depth == 0:
                if cur:
                    items.append("".join(cur))
                cur = []
                continue
            cur.append(part)
        if cur:
            items.append("".join(cur))
        texts = []
        for item in items:
            item = re.sub(r"^\s*\[[^\]]*\]", "", item)
            text = _clean_text(
                re.sub(
                    r"\\(begin|end)\{(itemize|enumerate|description)\}|"
                    r"\\item\b",
                    " ",
                    item,
                ),
                self.ctx,
            )
            if text:
                texts.append(text)
        if texts:
            md = "\n".join(f"{k}. {t}" if ordered else f"- {t}" for k, t in enumerate(texts, 1))
            self.emit("list", "\n".join(texts), md)
        self.flush_footnotes()

    def table(self, tex: str, env: str) -> None:
        j = 0
        if env.startswith(("tabularx", "tabular*")):
            _w, j = _braced(tex, j)
        _spec, j = _braced(tex, j)
        rows: list[list[str]] = []
        for raw in re.split(r"\\\\(?:\s*\[[^\]]*\])?|\\tabularnewline", tex[j:]):
            raw = re.sub(
                r"\\(hline|toprule|midrule|bottomrule|cline\{[^}]*\}|cmidrule(\([^)]*\))?"
                r"\{[^}]*\}|addlinespace(\[[^\]]*\])?)",
                " ",
                raw,
            )
            cells: list[str] = []
            for cell in re.split(r"(?<!\\)&", raw):
                span = 1
                mc = re.match(r"\s*\\multicolumn\s*\{(\d+)\}", cell)
                if mc:
                    span = int(mc.group(1))
                    _spec2, k = _braced(cell, mc.end())
                    cell, _k = _braced(cell, k)
                text = _clean_text(cell, self.ctx).replace("|", "\\|")
                cells.append(text)
                cells.extend([""] * min(span - 1, 100))
            if any(cells):
                rows.append(cells)
        if not rows:
            return
        ncols = max(len(r) for r in rows)
        rows = [r + [""] * (ncols - len(r)) for r in rows]
        md = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * ncols]
        md += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        self.tables += 1
        self.emit(
            "table", "\n".join("\t".join(r) for r in rows), "\n".join(md), shape=[len(rows), ncols]
        )

    def references(self, bbl: str) -> int:
        count = 0
        if "\\entry{" in bbl:  # biblatex
            for m in re.finditer(r"\\entry\{([^}]*)\}(.*?)\\endentry", bbl, re.S):
                key, body = m.group(1), m.group(2)
                authors = re.findall(r"family=\{([^}]*)\}", body)
                fields = dict(
                    re.findall(
                        r"\\field\{(title|journaltitle|booktitle|year)\}\{(.*?)\}\s*$", body, re.M
                    )
                )
                parts = [", ".join(authors[:6]) + (" et al." if len(authors) > 6 else "")]
                parts += [fields.get(f, "") for f in ("title", "journaltitle", "booktitle", "year")]
                text = _clean_text(". ".join(p for p in parts if p), _Ctx())
                self.emit("reference", text, f"* {text}", key=key)
                count += 1
            return count
        for m in re.finditer(
            r"\\bibitem\s*(\[[^\]]*\])?\s*\{([^}]*)\}(.*?)(?=\\bibitem|\\end\{thebibliography\}|$)",
            bbl,
            re.S,
        ):
            body = re.sub(r"\\newblock\b", " ", m.group(3))
            text = _clean_text(body, _Ctx())
            if text:
                self.emit("reference", text, f"* {text}", key=m.group(2))
                count += 1
        return count


def _title(source: str) -> str:
    m = re.search(r"\\title\s*(\[[^\]]*\])?\s*\{", source)
    if m is None:
        return ""
    arg, _j = _braced(source, m.end() - 1)
    return _clean_text(arg, _Ctx())


def to_document(source: str, bbl: str) -> Document:
    """A ``Document`` from the inlined source (headings, paragraphs, math, tables, references)."""
    body_m = _BODY.search(source)
    body = body_m.group(1) if body_m else source
    preamble = source[: body_m.start()] if body_m else ""
    source = expand_macros(preamble, preamble) + (body_m.group(0) if body_m else "")
    body = expand_macros(body, preamble)
    b = _DocBuilder()
    title = _title(source)
    if title:
        b.emit("title", title, f"# {title}", level=0)
        b.flush_footnotes()
    bib_in_body = _BIB_ENV.search(body) or _BIBLATEX.search(body)
    text_part = _BIB_ENV.sub("", _BIBLATEX.sub("", body))
    b.run(text_part)
    b.appendix = False
    refs_src = bbl or (bib_in_body.group(0) if bib_in_body else "")
    if refs_src:
        b.emit("heading", "References", "## References", level=1)
        b.references(refs_src)
    doc = Document(
        pages=[Page(number=0, width=0, height=0, elements=b.elements)],
        provenance=Provenance(
            parser=PARSER_NAME, parser_version=PARSER_VERSION, source="arxiv-src"
        ),
    )
    abstract = [el.text for el in b.elements if el.attrs.get("abstract")]
    if abstract:
        doc.metadata["abstract"] = "\n\n".join(abstract)
    doc.metadata["equations"] = b.equations
    doc.metadata["tables"] = b.tables
    return doc


def parse_eprint(
    data: bytes,
    *,
    limits: ArchiveLimits | None = None,
    thresholds: QualityThresholds | None = None,
) -> Eprint:
    """Extract, inline and clean one e-print body; see the module docstring."""
    start = time.perf_counter()
    lim = limits or ArchiveLimits()
    files = extract(data, lim)
    main = find_main(files)
    source, inlined, missing, bbl = inline_source(files, main, lim)
    latex = clean_latex(source)
    try:
        doc = to_document(source, bbl)
    except RecursionError:
        raise ParseError("the LaTeX is nested too deeply to convert") from None
    doc.provenance.duration_s = time.perf_counter() - start
    doc.metadata.update(main_file=main, inlined=inlined, missing=missing)
    doc = assess(doc, thresholds)
    doc.quality.update(
        equations=doc.metadata.pop("equations"),
        tables=doc.metadata.pop("tables"),
        missing_inputs=len(missing),
    )
    return Eprint(
        latex=latex,
        document=doc,
        main_file=main,
        files=tuple(sorted(files)),
        inlined=tuple(inlined),
        missing=tuple(missing),
    )
