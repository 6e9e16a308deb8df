"""Contract tests: the real recorded OAI-PMH responses, parsed and replayed over HTTP."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from core.http import PoliteClient, Politeness
from sources.arxiv_oai import OAIHarvester, parse_list_records
from sources.errors import BadResumptionTokenError, MalformedResponseError, OAIError
from tests.replay import ReplayServer, Response

XML = "text/xml"


@pytest.fixture
def oai(shared: Path) -> Path:
    return shared / "fixtures/arxiv_oai"


def test_list_records_page_every_field(oai: Path) -> None:
    page = parse_list_records((oai / "mikesaelim_ListRecordsResponse.xml").read_bytes())
    assert page.resumption_token == "726959|1001"
    assert page.complete_list_size == 58011
    assert page.rejected == []
    ids = [r.paper.paper_id for r in page.records if r.paper]
    assert ids == ["0704.0471", "0704.0716", "0704.0874", "0704.1109", "0704.1114", "0704.1586"]

    first = page.records[0]
    assert first.identifier == "oai:arXiv.org:0704.0471"
    assert first.datestamp == "2014-11-18"
    assert first.sets == ["physics:nucl-ex", "physics:nucl-th"]
    p = first.paper
    assert p is not None
    assert p.source == "arxiv-oai"
    assert p.submitter == "Dinesh Shetty"
    assert p.title == (
        "Density dependence of the symmetry energy and the nuclear equation of state: "
        "A Dynamical and Statistical model perspective"
    )
    assert p.authors == "D.V. Shetty, S.J. Yennello, and G.A. Souliotis"
    assert p.authors_parsed == [
        ["Shetty", "D. V.", ""],
        ["Yennello", "S. J.", ""],
        ["Souliotis", "G. A.", ""],
    ]
    assert p.categories == ["nucl-ex", "nucl-th"]
    assert p.primary_category == "nucl-ex"
    assert p.comments == "16 pages, 14 figures"
    assert p.journal_ref == "Phys.Rev.C76:024606,2007; Erratum-ibid.C76:039902,2007"
    assert p.doi == "10.1103/PhysRevC.76.024606 10.1103/PhysRevC.76.039902"
    assert p.abstract is not None
    assert p.abstract.startswith("The density dependence of the symmetry energy")
    assert 'extremely " stiff " and " soft " form' in p.abstract  # entities decoded
    assert "\n" not in p.abstract
    assert [(v.version, v.created, v.size) for v in p.versions] == [
        ("v1", datetime(2007, 4, 3, 22, 4, 11), "294kb")
    ]
    assert p.published == p.updated == datetime(2007, 4, 3, 22, 4, 11)
    assert p.update_date == date(2014, 11, 18)

    second = page.records[1].paper
    assert second is not None
    assert [v.version for v in second.versions] == ["v1", "v2", "v3", "v4"]
    assert second.published == datetime(2007, 4, 5, 12, 45, 3)
    assert second.updated == second.versions[-1].created
    assert second.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert second.categories == ["math-ph", "math.MP"]


def test_no_records_match_is_empty(oai: Path) -> None:
    page = parse_list_records((oai / "mikesaelim_ErrorResponseNoRecordsMatch.xml").read_bytes())
    assert page.records == [] and page.resumption_token is None


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("mikesaelim_ErrorResponseBadArgument.xml", "badArgument"),
        ("mikesaelim_ErrorResponseBadVerb.xml", "badVerb"),
        ("mikesaelim_ErrorResponseIdDoesNotExist.xml", "idDoesNotExist"),
    ],
)
def test_other_errors_are_named(oai: Path, name: str, code: str) -> None:
    with pytest.raises(OAIError) as info:
        parse_list_records((oai / name).read_bytes())
    assert info.value.code == code
    assert not isinstance(info.value, BadResumptionTokenError)


def test_bad_resumption_token_has_its_own_error(oai: Path) -> None:
    with pytest.raises(BadResumptionTokenError, match="illegal"):
        parse_list_records((oai / "mikesaelim_ErrorResponseBadResumptionToken.xml").read_bytes())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "invalid"),
        (b"<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><ListRecords><record>", "invalid"),
        (b"<html><body>503 Service Unavailable</body></html>", "an HTML page, not OAI-PMH"),
        (b"<!DOCTYPE html>\n<html><body>maintenance</body></html>", "an HTML page, not OAI-PMH"),
        (b"<OAI-PMH-ish xmlns='urn:x'/>", "not an OAI-PMH response"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b"<OAI-PMH>&lol2;</OAI-PMH>",
            "DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<OAI-PMH>&xxe;</OAI-PMH>",
            "DTD",
        ),
    ],
    ids=["empty", "truncated", "html", "html-doctype", "other-xml", "billion-laughs", "xxe"],
)
def test_malformed_pages(body: bytes, message: str) -> None:
    with pytest.raises(MalformedResponseError, match=message):
        parse_list_records(body)


def test_truncated_real_page_is_detected(oai: Path) -> None:
    data = (oai / "mikesaelim_ListRecordsResponse.xml").read_bytes()
    with pytest.raises(MalformedResponseError, match="truncated"):
        parse_list_records(data[: len(data) // 2])


def test_harvester_pages_over_http(oai: Path) -> None:
    last_page = (
        b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<ListRecords><resumptionToken/></ListRecords></OAI-PMH>"
    )
    with ReplayServer() as srv:
        srv.add(
            "/oai",
            Response(
                200, (oai / "mikesaelim_ListRecordsResponse.xml").read_bytes(), content_type=XML
            ),
            query={"verb": "ListRecords", "set": "physics"},
        )
        srv.add(
            "/oai",
            Response(200, last_page, content_type=XML),
            query={"verb": "ListRecords", "resumptionToken": "726959|1001"},
        )
        harvester = OAIHarvester(PoliteClient(Politeness(min_interval=0.1)), f"{srv.url}/oai")
        pages = list(harvester.pages(set_spec="physics", from_date="2014-10-01"))
        first, second = srv.requests_to("/oai")
    assert [token for token, _ in pages] == [None, "726959|1001"]
    assert len(pages[0][1].records) == 6 and pages[1][1].records == []
    assert first.param("metadataPrefix") == "arXivRaw" and first.param("from") == "2014-10-01"
    assert second.param("resumptionToken") == "726959|1001"
    assert second.param("metadataPrefix") is None  # exclusive argument
    assert second.time - first.time >= 0.09  # client-side pacing, server-side clock


ARXIV_FORMAT_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2026-11-21T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXiv">https://oaipmh.arxiv.org/oai</request>
<ListRecords>
<record><header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-26</datestamp>
<setSpec>physics:hep-ph</setSpec></header><metadata>
<arXiv xmlns="http://arxiv.org/OAI/arXiv/">
<id>0704.0001</id><created>2007-04-02</created><updated>2007-07-24</updated>
<authors><author><keyname>Bal\xc3\xa1zs</keyname><forenames>C.</forenames></author>
<author><keyname>Yuan</keyname><forenames>C. -P.</forenames><suffix>Jr</suffix></author></authors>
<title>Calculation of prompt diphoton production cross sections at Tevatron and
  LHC energies</title><categories>hep-ph</categories>
<comments>37 pages, 15 figures; published version</comments><report-no>ANL-HEP-PR-07-12</report-no>
<journal-ref>Phys.Rev.D76:013009,2007</journal-ref><doi>10.1103/PhysRevD.76.013009</doi>
<abstract>  A fully differential calculation in perturbative quantum chromodynamics is
presented.
</abstract></arXiv></metadata></record>
<record><header status="deleted"><identifier>oai:arXiv.org:0704.0002</identifier>
<datestamp>2009-01-01</datestamp></header></record>
<resumptionToken cursor="0" completeListSize="2"></resumptionToken>
</ListRecords></OAI-PMH>"""


def test_arxiv_metadata_format_and_deleted_records() -> None:
    page = parse_list_records(ARXIV_FORMAT_PAGE)
    assert page.resumption_token is None  # an empty token ends the list
    live, deleted = page.records
    assert deleted.deleted and deleted.paper is None
    p = live.paper
    assert p is not None
    assert p.paper_id == "0704.0001"
    assert p.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert p.authors_parsed == [["Balázs", "C.", ""], ["Yuan", "C. -P.", "Jr"]]
    assert p.authors == "C. Balázs, C. -P. Yuan Jr"
    assert p.categories == ["hep-ph"] and p.primary_category == "hep-ph"
    assert p.report_no == "ANL-HEP-PR-07-12" and p.doi == "10.1103/PhysRevD.76.013009"
    assert p.published == datetime(2007, 4, 2) and p.updated == datetime(2007, 7, 24)
    assert p.update_date == date(2008, 11, 26)
    assert p.abstract == (
        "A fully differential calculation in perturbative quantum chromodynamics is presented."
    )
