"""A clearinghouse report's files on the investigator page: blurred by default, revealed on
purpose (counted toward the daily exposure and cap, audited), the view only with a fresh grant.

The file shown is a generated test card (colour noise over a checkerboard), never real material.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.accounts import AccountRole, set_org_wellness
from brightline.clearinghouse.analysis_store import analyse_intake
from brightline.clearinghouse.investigators import assign_agency
from brightline.clearinghouse.model import EstimatedLocation, ReportedFile, ReportedPerson
from brightline.clearinghouse.models import IntakeFile
from brightline.clearinghouse.routing import demo_router
from brightline.custody import CustodyEvent, custody_entries, custody_key, verify_custody
from brightline.evidence.models import EvidenceObject
from brightline.evidence.store import EvidenceStore
from brightline.review import AuditAction, exposure, query_audit
from brightline.settings import Settings
from brightline.storage.base import utcnow
from brightline.web import clearinghouse as clearinghouse_pages
from brightline.web import media
from tests.clearinghouse_analysis.conftest import AS_OF, Planted, _report, submit
from tests.web.conftest import NAMES, form_fields, login, synthetic_png

INVESTIGATOR = NAMES[AccountRole.INVESTIGATOR]
LEAD = NAMES[AccountRole.LEAD]
JSON = {"Accept": "application/json"}


class Scenario:
    """The planted reports plus one whose file is a test card, stored in the app's vault and
    routed to example-icac-south (the investigator's only agency)."""

    def __init__(self, planted: Planted, report_id: int, file_id: str) -> None:
        self.planted = planted
        self.report_id = report_id
        self.file_id = file_id

    @property
    def base(self) -> str:
        return f"/console/clearinghouse/reports/{self.report_id}/files/{self.file_id}"


@pytest.fixture
def scenario(
    client: TestClient,
    settings: Settings,
    sessions: sessionmaker[Session],
    planted: Planted,
    schema_path: Path,
) -> Scenario:
    card = _report(
        "esp-one",
        persons=(
            ReportedPerson(
                emails=("card@example.org",),
                estimated_location=EstimatedLocation(country_code="US", region="TX"),
            ),
        ),
        files=(ReportedFile(file_id="f1"),),
    )
    vault = EvidenceStore.from_settings(settings)  # the console's own vault
    report_id, _ = submit(sessions, vault, schema_path, card, file_bytes=synthetic_png(7))
    with sessions.begin() as session:
        analyse_intake(session=session, as_of=AS_OF, router=demo_router())
        assign_agency(
            session=session, username=INVESTIGATOR, agency_id="example-icac-south", actor="t"
        )
        file_id = session.scalars(
            select(IntakeFile.file_id).where(IntakeFile.report_id == report_id)
        ).one()
    return Scenario(planted, report_id, file_id)


def _high_frequency(png: bytes) -> float:
    """Mean absolute difference of neighbouring pixels: high for sharp noise, low if blurred."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(pixels, axis=0)).mean() + np.abs(np.diff(pixels, axis=1)).mean())


def _csrf(client: TestClient, scenario: Scenario) -> dict[str, str]:
    page = client.get(f"/console/clearinghouse/reports/{scenario.report_id}")
    return form_fields(page.text, f"{scenario.base}/reveal")


def _reveals(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions.begin() as session:
        rows = query_audit(session=session, action=AuditAction.REVEAL)
        return [(row.actor, row.object_type, row.object_id) for row in rows]


def test_a_file_is_blurred_until_revealed_and_the_reveal_is_counted_and_audited(
    client: TestClient, scenario: Scenario, sessions: sessionmaker[Session]
) -> None:
    login(client, INVESTIGATOR)
    page = client.get(f"/console/clearinghouse/reports/{scenario.report_id}").text
    images = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    assert images == [f"{scenario.base}/preview"]  # only the blurred preview, nothing sharper
    assert "/view?grant=" not in page

    preview = client.get(f"{scenario.base}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["cache-control"] == "no-store, private"
    shown = Image.open(io.BytesIO(preview.content))
    assert shown.mode == "L"
    assert max(shown.size) <= 160
    assert _high_frequency(preview.content) < _high_frequency(synthetic_png(7)) / 5

    assert client.get(f"{scenario.base}/view").status_code == 403
    assert _reveals(sessions) == []
    revealed = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    assert revealed.status_code == 200, revealed.text
    answer = revealed.json()
    assert answer["reveals_today"] == 1
    assert answer["video"] is False
    view = client.get(answer["view_url"])
    assert view.status_code == 200
    assert view.headers["cache-control"] == "no-store, private"
    assert _high_frequency(view.content) > 3 * _high_frequency(preview.content)
    assert _reveals(sessions) == [(INVESTIGATOR, "clearinghouse_file", scenario.file_id)]
    with sessions.begin() as session:
        today = exposure(session=session, reviewer=INVESTIGATOR, day=utcnow().date())
        assert today is not None
        assert today.reveals == 1

    # Without JavaScript: the form's redirect shows the page with this file revealed.
    again = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario))
    assert again.status_code == 303
    shown_page = client.get(again.headers["location"]).text
    found = re.search(rf'src="({re.escape(scenario.base)}/view\?grant=\d+)"', shown_page)
    assert found is not None
    assert '<b id="reveal-count">2</b>' in shown_page  # the investigator sees their count
    assert client.get(found.group(1)).status_code == 200


def test_the_view_needs_the_viewers_own_fresh_grant_of_that_file(
    client: TestClient,
    scenario: Scenario,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead = login(TestClient(client.app, follow_redirects=False), LEAD)
    theirs = lead.post(f"{scenario.base}/reveal", data=_csrf(lead, scenario), headers=JSON)
    assert theirs.status_code == 200
    assert lead.get(theirs.json()["view_url"]).status_code == 200

    login(client, INVESTIGATOR)
    assert client.get(theirs.json()["view_url"]).status_code == 403  # another person's grant
    mine = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    url = mine.json()["view_url"]
    assert client.get(url).status_code == 200
    with monkeypatch.context() as later:  # the audit log is append-only: move the clock
        later.setattr(clearinghouse_pages, "utcnow", lambda: utcnow() + timedelta(minutes=3))
        assert client.get(url).status_code == 403  # stale
        assert (
            client.get(
                f"/console/clearinghouse/reports/{scenario.report_id}?show={scenario.file_id}"
            ).text.count("/view?grant=")
            == 0
        )
    assert client.get(url).status_code == 200
    # An item's reveal is no grant for a file, and a file's grant opens no other file.
    other = f"/console/clearinghouse/reports/{scenario.planted.ordinary}"
    with sessions.begin() as session:
        other_file = session.scalars(
            select(IntakeFile.file_id).where(IntakeFile.report_id == scenario.planted.ordinary)
        ).one()
    fresh = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    fresh_grant = fresh.json()["view_url"].rsplit("=", 1)[1]
    assert client.get(f"{other}/files/{other_file}/view?grant={fresh_grant}").status_code == 403


def test_a_reveal_needs_the_form_token_and_stops_at_the_daily_cap(
    client: TestClient, scenario: Scenario, sessions: sessionmaker[Session]
) -> None:
    login(client, INVESTIGATOR)
    forged = client.post(f"{scenario.base}/reveal", data={"csrf_token": "x"}, headers=JSON)
    assert forged.status_code == 403
    assert client.post(f"{scenario.base}/reveal", headers=JSON).status_code == 403
    assert _reveals(sessions) == []

    with sessions.begin() as session:
        set_org_wellness(session=session, changes={"daily_cap": "1"}, actor="test-admin")
    login(client, INVESTIGATOR)  # preferences are read at sign-in
    first = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    assert first.status_code == 200
    assert first.json()["daily_cap"] == 1
    second = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    assert second.status_code == 409
    assert "take a break" in second.json()["detail"]
    assert len(_reveals(sessions)) == 1
    with sessions.begin() as session:
        today = exposure(session=session, reviewer=INVESTIGATOR, day=utcnow().date())
        assert today is not None
        assert today.reveals == 1


def test_files_follow_the_report_pages_scope_and_roles(
    client: TestClient, scenario: Scenario, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        west_file = session.scalars(
            select(IntakeFile.file_id).where(IntakeFile.report_id == scenario.planted.urgent)
        ).one()
    west = f"/console/clearinghouse/reports/{scenario.planted.urgent}/files/{west_file}"
    login(client, INVESTIGATOR)  # example-icac-south only
    other = client.get(f"{west}/preview")
    missing = client.get(f"/console/clearinghouse/reports/999999/files/{west_file}/preview")
    assert other.status_code == missing.status_code == 404
    assert other.text.replace(str(scenario.planted.urgent), "N") == missing.text.replace(
        "999999", "N"
    )
    fields = _csrf(client, scenario)
    assert client.post(f"{west}/reveal", data=fields, headers=JSON).status_code == 404
    assert client.get(f"{west}/view?grant=1").status_code == 404
    # A file of another report is not this report's file.
    misplaced = f"/console/clearinghouse/reports/{scenario.report_id}/files/{west_file}/preview"
    assert client.get(misplaced).status_code == 404
    assert _reveals(sessions) == []

    for role in (AccountRole.REVIEWER, AccountRole.AUDITOR):
        browser = login(TestClient(client.app, follow_redirects=False), NAMES[role])
        assert browser.get(f"{scenario.base}/preview").status_code == 403, role

    # A lead sees every agency; a file missing from this vault is a grey tile and no reveal.
    lead = login(TestClient(client.app, follow_redirects=False), LEAD)
    tile = lead.get(f"{west}/preview")
    assert tile.status_code == 200
    assert set(np.unique(np.asarray(Image.open(io.BytesIO(tile.content))))) == {128}
    page = lead.get(f"/console/clearinghouse/reports/{scenario.planted.urgent}")
    nothing = lead.post(
        f"{west}/reveal", data=form_fields(page.text, f"{west}/reveal"), headers=JSON
    )
    assert nothing.status_code == 409
    assert _reveals(sessions) == []


def test_a_reveal_of_preserved_evidence_is_a_custody_access(
    client: TestClient, scenario: Scenario, sessions: sessionmaker[Session], settings: Settings
) -> None:
    login(client, INVESTIGATOR)
    before = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    assert before.status_code == 200
    with sessions.begin() as session:
        assert custody_entries(session=session) == []  # not preserved: nothing to record
        ref = session.scalars(
            select(IntakeFile.vault_ref).where(IntakeFile.file_id == scenario.file_id)
        ).one()
        now = utcnow()
        session.add(EvidenceObject(ref=ref, first_preserved_at=now, retain_until=now))
    after = client.post(f"{scenario.base}/reveal", data=_csrf(client, scenario), headers=JSON)
    assert after.status_code == 200
    with sessions.begin() as session:
        entries = custody_entries(session=session)
        assert [(e.event, e.object_ref, e.actor, e.reason) for e in entries] == [
            (CustodyEvent.ACCESSED, ref, f"console:{INVESTIGATOR}", "investigator reveal")
        ]
        assert verify_custody(session=session, key=custody_key(settings)).ok


def test_an_untyped_upload_is_previewed_by_what_its_bytes_are(tmp_path: Path) -> None:
    """Uploads keep no media type: a video (here a generated WebM) previews as its blurred
    first frame, an image through Pillow, anything else as the grey tile."""
    from tests.video_factories import synthetic_frames, write_video

    video = write_video(
        tmp_path / "card.webm",
        synthetic_frames(seed=3, width=64, height=48, fps=5, seconds=1),
        fps=5,
        codec="libvpx",
    ).read_bytes()
    assert media.sniffed_media_type(video) == "video/webm"
    assert media.sniffed_media_type(synthetic_png(1)) == "application/octet-stream"
    for data in (video, synthetic_png(1)):
        still = media.reduced(
            data, media.sniffed_media_type(data), size=160, greyscale=True, blur_radius=None
        )
        assert len(np.unique(np.asarray(Image.open(io.BytesIO(still))))) > 1
    grey = media.reduced(
        b"not media", "application/octet-stream", size=32, greyscale=True, blur_radius=None
    )
    assert set(np.unique(np.asarray(Image.open(io.BytesIO(grey))))) == {128}
