"""OpenReview over the replay server: the real recorded notes plus project-written replies.

Real material (../shared/fixtures/openreview): the API v2 search response (ICLR 2024/2025
submissions among others), the ICLR 2025 submission note tVNZj27pb3, and 18 ICLR 2019 API v1
review contents. The replies around the v2 submissions (official reviews, a meta-review, a
decision, an author rebuttal, a public comment) are written here by the project, following
docs/default-*-form.md and the API v2 Note schema in docs/api2_openapi_api.yml.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from tests.replay import ReplayServer, Request, Response

V2_VENUE = "ICLR.cc/2025/Conference"
V1_VENUE = "ICLR.cc/2019/Conference"
USER, PASSWORD = "curator@example.org", "correct horse battery staple"
TOKEN = "or-token-"


def _w(value: Any) -> dict[str, Any]:
    return {"value": value}


def real_v2_submissions(shared: Path) -> list[dict[str, Any]]:
    """The ICLR 2025 submissions among the recorded notes, in API v2 shape."""
    base = shared / "fixtures/openreview"
    search = json.loads(
        (base / "fastpaper_api2_notes_search_graph_neural_network.json").read_text()
    )
    notes = [n for n in search["notes"] if n.get("domain") == V2_VENUE]
    raw = (
        base / "apiv2_note_pprint_excerpts/iclr2025_submission_tVNZj27pb3.pyrepr.txt"
    ).read_text()
    notes.append(ast.literal_eval(raw.strip()))
    return [json.loads(json.dumps(n)) for n in notes]  # deep copies


def v2_replies(forum: str, number: int, decision: str, t0: int) -> list[dict[str, Any]]:
    """Replies per the default forms: 3 reviews, a meta-review, a decision, comments."""
    prefix = f"{V2_VENUE}/Submission{number}"
    reviews = [
        {
            "summary": "This paper proposes a method for the problem studied and evaluates it on "
            "standard benchmarks.",
            "soundness": 3 - (i == 2),
            "presentation": 3,
            "contribution": 2 + (i == 0),
            "strengths": "The paper is well written. The experiments are thorough.",
            "weaknesses": "The novelty is limited compared to prior work. The authors should "
            "compare against stronger baselines.",
            "questions": "How does the method scale to larger graphs?",
            "flag_for_ethics_review": ["No ethics review needed."],
            "rating": [6, 5, 8][i],
            "confidence": [4, 3, 4][i],
            "code_of_conduct": "Yes",
        }
        for i in range(3)
    ]
    notes: list[dict[str, Any]] = []
    for i, content in enumerate(reviews):
        notes.append({
            "id": f"{forum}R{i}", "forum": forum, "replyto": forum,
            "invitations": [f"{prefix}/-/Official_Review", f"{V2_VENUE}/-/Edit"],
            "signatures": [f"{prefix}/Reviewer_{'abc'[i]}"],
            "cdate": t0 + i * 1000, "mdate": t0 + i * 1000 + 5,
            "content": {k: _w(v) for k, v in content.items()},
        })  # fmt: skip
    notes.append({
        "id": f"{forum}M", "forum": forum, "replyto": forum,
        "invitations": [f"{prefix}/-/Meta_Review"], "signatures": [f"{prefix}/Area_Chair_x"],
        "cdate": t0 + 9000, "mdate": t0 + 9000,
        "content": {"metareview": _w("The reviewers agree the paper is clearly written, but "
                                     "the gains are modest."),
                    "recommendation": _w(decision),
                    "confidence": _w("4: The area chair is confident but not absolutely certain")},
    })  # fmt: skip
    notes.append({
        "id": f"{forum}D", "forum": forum, "replyto": forum,
        "invitations": [f"{prefix}/-/Decision"], "signatures": [f"{V2_VENUE}/Program_Chairs"],
        "cdate": t0 + 10000, "mdate": t0 + 10000,
        "content": {"title": _w("Paper Decision"), "decision": _w(decision),
                    "comment": _w("Decided after discussion.")},
    })  # fmt: skip
    notes.append({
        "id": f"{forum}A", "forum": forum, "replyto": f"{forum}R0",
        "invitations": [f"{prefix}/-/Official_Comment"], "signatures": [f"{prefix}/Authors"],
        "cdate": t0 + 5000, "mdate": t0 + 5000,
        "content": {"title": _w("Response to Reviewer abc"),
                    "comment": _w("We thank the reviewer and added the requested baselines.")},
    })  # fmt: skip
    notes.append({
        "id": f"{forum}C", "forum": forum, "replyto": forum,
        "invitations": [f"{prefix}/-/Public_Comment"], "signatures": ["~Jane_Doe1"],
        "cdate": t0 + 6000, "mdate": t0 + 6000,
        "content": {"title": _w("Related work"), "comment": _w("See also our earlier paper.")},
    })  # fmt: skip
    notes.append({  # not a kind we store: revisions are ignored
        "id": f"{forum}V", "forum": forum, "replyto": forum,
        "invitations": [f"{prefix}/-/Rebuttal_Revision"], "signatures": [f"{prefix}/Authors"],
        "cdate": t0 + 7000, "content": {"title": _w("Revision")},
    })  # fmt: skip
    return notes


DECISIONS = {"IMWYNVBHob": "Reject", "Gj5JTAwdoy": "Accept (Spotlight)", "tVNZj27pb3": "Reject"}


def _submission_number(invitations: list[str]) -> int:
    """``ICLR.cc/2025/Conference/Submission3728/-/Full_Submission`` -> 3728."""
    for invitation in invitations:
        head = invitation.split("/-/", 1)[0]
        if "/Submission" in head:
            return int(head.rsplit("/Submission", 1)[1])
    raise ValueError(f"no submission number in {invitations}")


def v2_venue_page(shared: Path) -> dict[str, Any]:
    notes = real_v2_submissions(shared)
    for note in notes:
        number = note.get("number") or _submission_number(note["invitations"])
        note["details"] = {
            "replies": v2_replies(note["forum"], number, DECISIONS[note["forum"]], note["cdate"])
        }
    return {"notes": notes, "count": len(notes)}


def v1_venue_page(shared: Path) -> dict[str, Any]:
    """ICLR 2019 (API v1): the real review contents, in v1 note envelopes."""
    root = shared / "fixtures/openreview/iclr_reviews_content_v1/2019"
    notes = []
    for n, forum_dir in enumerate(sorted(root.iterdir()), start=1):
        forum = forum_dir.name
        replies = []
        for k, review_file in enumerate(sorted(forum_dir.glob("*.json"))):
            replies.append({
                "id": review_file.stem, "forum": forum, "replyto": forum,
                "invitation": f"{V1_VENUE}/-/Paper{n}/Official_Review",
                "signatures": [f"{V1_VENUE}/Paper{n}/AnonReviewer{k + 1}"],
                "tcdate": 1541000000000 + k, "tmdate": 1541000000000 + k,
                "content": json.loads(review_file.read_text()),
            })  # fmt: skip
        replies.append({
            "id": f"{forum}meta", "forum": forum, "replyto": forum,
            "invitation": f"{V1_VENUE}/-/Paper{n}/Meta_Review",
            "signatures": [f"{V1_VENUE}/Paper{n}/Area_Chair1"], "tcdate": 1544000000000,
            "content": {"metareview": "The reviewers raised concerns about the experiments.",
                        "recommendation": "Reject", "confidence": "4: The area chair is confident"},
        })  # fmt: skip
        replies.append({
            "id": f"{forum}dec", "forum": forum, "replyto": forum,
            "invitation": f"{V1_VENUE}/-/Paper{n}/Decision",
            "signatures": [f"{V1_VENUE}/Program_Chairs"], "tcdate": 1545000000000,
            "content": {"title": "Paper Decision", "decision": "Reject"},
        })  # fmt: skip
        notes.append({
            "id": forum, "forum": forum, "number": n, "tcdate": 1538000000000,
            "invitation": f"{V1_VENUE}/-/Blind_Submission",
            "content": {"title": f"ICLR 2019 submission {forum}", "authors": ["Anonymous"],
                        "abstract": "An abstract.", "keywords": ["deep learning"],
                        "pdf": f"/pdf/{forum}.pdf"},
            "details": {"replies": replies},
        })  # fmt: skip
    return {"notes": notes, "count": len(notes)}


def serve_openreview(
    server: ReplayServer, shared: Path, *, require_login: bool = False
) -> dict[str, Any]:
    """Routes for /api2 (v2), /api1 (v1) and /login. Returns shared state for assertions."""
    state: dict[str, Any] = {"logins": 0, "valid_tokens": set(), "require_login": require_login}

    def login(req: Request) -> Response:
        body = json.loads(req.body or b"{}")
        if body.get("id") != USER or body.get("password") != PASSWORD:
            return Response.json({"name": "InvalidCredentialsError", "message": "Invalid"}, 400)
        state["logins"] += 1
        token = f"{TOKEN}{state['logins']}"
        state["valid_tokens"].add(token)
        return Response.json({"token": token, "user": {"id": "~Curator1"}})

    def gate(payload: dict[str, Any]) -> Any:
        def handler(req: Request) -> Response:
            auth = req.headers.get("authorization", "")
            if state["require_login"] and auth.removeprefix("Bearer ") not in state["valid_tokens"]:
                if auth:
                    return Response.json({"name": "TokenExpiredError", "status": 401}, 401)
                return Response.json({"name": "ChallengeRequiredError", "status": 403}, 403)
            return Response.json(payload)

        return handler

    server.add("/api2/login", login, method="POST")
    server.add("/api2/notes", gate(v2_venue_page(shared)),
               query={"invitation": f"{V2_VENUE}/-/Submission", "offset": "0"})  # fmt: skip
    server.add("/api2/notes", gate({"notes": [], "count": 0}),
               query={"invitation": f"{V1_VENUE}/-/Submission", "offset": "0"})  # fmt: skip
    server.add("/api1/notes", gate(v1_venue_page(shared)),
               query={"invitation": f"{V1_VENUE}/-/Blind_Submission", "offset": "0"})  # fmt: skip
    return state
