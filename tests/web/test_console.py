"""The review console in-process: sign-in and lockout, CSRF, roles, replays, stale claims."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from brightline.accounts import AccountRole, unlock
from brightline.review import AuditAction, AuditEntry, Decision, Item, query_audit
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from brightline.storage.base import utcnow
from tests.web.conftest import (
    NAMES,
    PASSWORD,
    Seeded,
    form_fields,
    hidden_fields,
    login,
    seed_video,
    synthetic_png,
)

REVIEWER = NAMES[AccountRole.REVIEWER]


def _other(client: TestClient) -> TestClient:
    """A second browser on the same running app (its own cookies)."""
    return TestClient(client.app, follow_redirects=False)


def _audit(settings: Settings, **filters: object) -> list[AuditEntry]:
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        rows = query_audit(session=session, **filters)  # type: ignore[arg-type]
        session.expunge_all()
    engine.dispose()
    return rows


def _count(settings: Settings, model: type, *where: object) -> int:
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        value = session.scalar(select(func.count()).select_from(model).where(*where))
    engine.dispose()
    return int(value or 0)


def _high_frequency(png: bytes) -> float:
    """Mean absolute difference of neighbouring pixels: high for sharp noise, low if blurred."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(pixels, axis=0)).mean() + np.abs(np.diff(pixels, axis=1)).mean())


def _claim(client: TestClient, job_id: int) -> str:
    """Claim one job from its page; returns the page after claiming."""
    page = client.get(f"/console/jobs/{job_id}")
    fields = form_fields(page.text, f"/console/jobs/{job_id}/claim")
    answer = client.post(f"/console/jobs/{job_id}/claim", data=fields)
    assert answer.status_code == 303, answer.text
    return client.get(f"/console/jobs/{job_id}").text


def _decide(client: TestClient, job_id: int, page: str, **data: object) -> httpx.Response:
    fields = form_fields(page, f"/console/jobs/{job_id}/decide")
    return client.post(f"/console/jobs/{job_id}/decide", data={**fields, **data})


def _csrf(page: str) -> str:
    return hidden_fields(page)["csrf_token"]


# --- sign-in ----------------------------------------------------------------------------------


def test_pages_need_a_session(client: TestClient) -> None:
    answer = client.get("/console/queues")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=/console/queues")


def test_sign_in_sets_a_strict_http_only_cookie_and_security_headers(client: TestClient) -> None:
    page = client.get("/console/login")
    token = hidden_fields(page.text)["login_token"]
    answer = client.post(
        "/console/login",
        data={"username": REVIEWER, "password": PASSWORD, "login_token": token},
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "bl_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie
    queues = client.get("/console/queues")
    assert queues.status_code == 200
    assert "script-src 'self'" in queues.headers["content-security-policy"]
    assert "unsafe-inline" not in queues.headers["content-security-policy"]
    assert queues.headers["x-frame-options"] == "DENY"
    assert queues.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in queues.headers["cache-control"]
    assert "<script>" not in queues.text
    assert " onclick=" not in queues.text


def test_unknown_and_wrong_passwords_get_the_same_answer(client: TestClient) -> None:
    answers = []
    for name, password in ((REVIEWER, "not the password"), ("nobody-here", "whatever-pass")):
        token = hidden_fields(client.get("/console/login").text)["login_token"]
        answer = client.post(
            "/console/login", data={"username": name, "password": password, "login_token": token}
        )
        assert answer.status_code == 401
        answers.append(re.search(r'id="login-message">([^<]*)<', answer.text).group(1))  # type: ignore[union-attr]
    assert answers[0] == answers[1]
    assert "bl_session" not in client.cookies


def test_repeated_failures_lock_the_account_until_unlocked(
    client: TestClient, settings: Settings
) -> None:
    for _ in range(5):
        token = hidden_fields(client.get("/console/login").text)["login_token"]
        client.post(
            "/console/login",
            data={"username": REVIEWER, "password": "wrong password!", "login_token": token},
        )
    token = hidden_fields(client.get("/console/login").text)["login_token"]
    locked = client.post(
        "/console/login", data={"username": REVIEWER, "password": PASSWORD, "login_token": token}
    )
    assert locked.status_code == 401
    assert "locked" in locked.text
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        unlock(session=session, username=REVIEWER, actor="test-admin")
    engine.dispose()
    login(client, REVIEWER)
    assert client.get("/console/queues").status_code == 200


def test_a_sign_in_form_without_its_cookie_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/console/login",
        data={"username": REVIEWER, "password": PASSWORD, "login_token": "forged-token-value"},
    )
    assert answer.status_code == 403
    assert "bl_session" not in client.cookies


def test_sign_out_ends_the_session_on_the_server(client: TestClient) -> None:
    login(client, REVIEWER)
    cookie = client.cookies["bl_session"]
    page = client.get("/console/queues")
    assert client.post("/console/logout", data={"csrf_token": _csrf(page.text)}).status_code == 303
    replay = _other(client)
    replay.cookies.set("bl_session", cookie, path="/console")
    assert replay.get("/console/queues").status_code == 303


def test_an_open_redirect_after_sign_in_is_not_followed(client: TestClient) -> None:
    token = hidden_fields(client.get("/console/login").text)["login_token"]
    answer = client.post(
        "/console/login",
        data={
            "username": REVIEWER,
            "password": PASSWORD,
            "login_token": token,
            "next": "//evil.example/",
        },
    )
    assert answer.headers["location"] == "/console/"


# --- CSRF, replays, roles ---------------------------------------------------------------------


def test_forged_posts_are_refused_and_change_nothing(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    no_token = client.post(f"/console/jobs/{job_id}/claim", data={})
    assert no_token.status_code == 403
    assert "security token" in no_token.text
    wrong = client.post(f"/console/jobs/{job_id}/claim", data={"csrf_token": "x" * 43})
    assert wrong.status_code == 403
    page = client.get("/console/queues")
    cross_site = client.post(
        f"/console/jobs/{job_id}/claim",
        data={"csrf_token": _csrf(page.text)},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert cross_site.status_code == 403
    assert _audit(settings, action=AuditAction.CLAIM) == []


def test_a_replayed_form_is_refused(client: TestClient, seeded: Seeded, settings: Settings) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    page = _claim(client, job_id)
    fields = form_fields(page, f"/console/jobs/{job_id}/skip")
    first = client.post(f"/console/jobs/{job_id}/skip", data={**fields, "reason": "not my area"})
    assert first.status_code == 303
    again = client.post(f"/console/jobs/{job_id}/skip", data={**fields, "reason": "not my area"})
    assert again.status_code == 409
    assert "already submitted" in again.text
    assert len(_audit(settings, action=AuditAction.SKIP)) == 1


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (AccountRole.REVIEWER, "/console/audit", False),
        (AccountRole.REVIEWER, "/console/audit.csv", False),
        (AccountRole.REVIEWER, "/console/settings", False),
        (AccountRole.REVIEWER, "/console/banks", False),
        (AccountRole.AUDITOR, "/console/queues", False),
        (AccountRole.AUDITOR, "/console/audit", True),
        (AccountRole.AUDITOR, "/console/banks", True),
        (AccountRole.LEAD, "/console/audit", False),
        (AccountRole.LEAD, "/console/banks", True),
        (AccountRole.ADMIN, "/console/settings", True),
    ],
)
def test_roles_reach_only_their_pages(
    client: TestClient, role: AccountRole, path: str, allowed: bool
) -> None:
    login(client, NAMES[role])
    answer = client.get(path)
    assert answer.status_code == (200 if allowed else 403), answer.text


def test_auditors_never_get_media(client: TestClient, seeded: Seeded) -> None:
    login(client, NAMES[AccountRole.AUDITOR])
    assert client.get(f"/console/items/{seeded.item_ids[0]}/preview").status_code == 403
    assert client.get(f"/console/jobs/{seeded.job_ids[0]}").status_code == 403


def test_reviewers_cannot_open_originals(client: TestClient, seeded: Seeded) -> None:
    login(client, REVIEWER)
    item_id = seeded.item_ids[0]
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}")
    assert "/original" not in page.text
    csrf = _csrf(page.text)
    for path in ("original", "download"):
        answer = client.post(
            f"/console/items/{item_id}/{path}", data={"csrf_token": csrf, "reason": "curious"}
        )
        assert answer.status_code == 403
    assert client.get(f"/console/items/{item_id}/original?grant=1").status_code == 403


def test_leads_open_originals_only_with_a_reason(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, NAMES[AccountRole.LEAD])
    item_id = seeded.item_ids[0]
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}")
    csrf = _csrf(page.text)
    bare = client.post(f"/console/items/{item_id}/original", data={"csrf_token": csrf})
    assert bare.status_code == 400
    opened = client.post(
        f"/console/items/{item_id}/original",
        data={"csrf_token": csrf, "reason": "classification unclear at preview size"},
    )
    assert opened.status_code == 303
    original = client.get(opened.headers["location"])
    assert original.status_code == 200
    assert original.content == synthetic_png(0)
    assert "no-store" in original.headers["cache-control"]
    rows = _audit(settings, action=AuditAction.REVEAL)
    assert rows[-1].reason == "classification unclear at preview size"
    assert '"full_resolution":true' in rows[-1].detail
    downloaded = client.post(
        f"/console/items/{item_id}/download", data={"csrf_token": csrf, "reason": "for the report"}
    )
    assert downloaded.status_code == 200
    assert downloaded.headers["content-disposition"] == f'attachment; filename="item-{item_id}"'
    assert _audit(settings, action=AuditAction.DOWNLOAD)[-1].reason == "for the report"


# --- the review flow --------------------------------------------------------------------------


def test_claim_reveal_decide_and_find_it_in_the_audit_log(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    queues = client.get("/console/queues")
    claimed = client.post("/console/queues/default/claim", data={"csrf_token": _csrf(queues.text)})
    assert claimed.status_code == 303
    job_id = int(claimed.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/console/jobs/{job_id}").text
    item_id = int(re.search(r'id="item-(\d+)"', page).group(1))  # type: ignore[union-attr]

    preview = client.get(f"/console/items/{item_id}/preview")
    assert preview.headers["content-type"] == "image/png"
    shown = Image.open(io.BytesIO(preview.content))
    assert max(shown.size) <= 160
    assert shown.mode == "L"
    sharp = synthetic_png(seeded.item_ids.index(item_id))
    assert _high_frequency(preview.content) < _high_frequency(sharp) / 5

    assert client.get(f"/console/items/{item_id}/view?grant=1").status_code == 403
    revealed = client.post(
        f"/console/items/{item_id}/reveal",
        data={"csrf_token": _csrf(page)},
        headers={"Accept": "application/json"},
    )
    assert revealed.status_code == 200
    answer = revealed.json()
    assert answer["reveals_today"] == 1
    view = client.get(answer["view_url"])
    assert view.status_code == 200
    assert _high_frequency(view.content) > 3 * _high_frequency(preview.content)
    assert _count(settings, Item, Item.id == item_id, Item.viewed_by_person.is_(True)) == 1

    decided = _decide(
        client,
        job_id,
        page,
        kind="confirm",
        classification="A2",
        annotations=["viral", "potentialMeme"],
    )
    assert decided.status_code == 303
    done = client.get(decided.headers["location"])
    assert re.search(r"Decision \d+ applied: confirm \(A2\)", done.text)

    login(client, NAMES[AccountRole.AUDITOR])
    audit_page = client.get(f"/console/audit?actor={REVIEWER}&action=decide")
    assert f"job {job_id}" in audit_page.text
    exported = client.get(f"/console/audit.csv?actor={REVIEWER}")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["action"] for row in rows} >= {"claim", "reveal", "decide"}
    assert _audit(settings, action=AuditAction.DOWNLOAD, object_type="audit_log")


def test_a_double_submitted_decision_is_applied_once(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    page = _claim(client, job_id)
    first = _decide(client, job_id, page, kind="false_positive")
    assert first.status_code == 303
    second = _decide(client, job_id, page, kind="false_positive")
    assert second.status_code == 409
    assert "already submitted" in second.text
    assert "not applied again" in second.text
    assert _count(settings, Decision, Decision.job_id == job_id) == 1
    assert len(_audit(settings, action=AuditAction.DECIDE)) == 1


def test_a_stale_claim_is_refused_with_a_clear_message(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    old_tab = _claim(client, job_id)
    release_form = form_fields(old_tab, f"/console/jobs/{job_id}/release")
    released = client.post(f"/console/jobs/{job_id}/release", data=release_form)
    assert released.status_code == 303
    _claim(client, job_id)  # a new claim, with a new token, from another tab
    stale = _decide(client, job_id, old_tab, kind="confirm", classification="A1")
    assert stale.status_code == 409
    assert "claimed by someone else (or by another of your tabs)" in stale.text
    assert _count(settings, Decision) == 0


def test_a_job_held_by_someone_else_cannot_be_claimed_or_decided(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    page = _claim(client, job_id)
    lead = login(_other(client), NAMES[AccountRole.LEAD])
    lead_page = lead.get(f"/console/jobs/{job_id}")
    assert "Someone else holds this job" in lead_page.text
    csrf = _csrf(lead_page.text)
    taken = lead.post(f"/console/jobs/{job_id}/claim", data={"csrf_token": csrf})
    assert taken.status_code == 409
    assert "claimed by someone else" in taken.text
    fields = form_fields(page, f"/console/jobs/{job_id}/decide")
    forged = lead.post(
        f"/console/jobs/{job_id}/decide",
        data={**fields, "csrf_token": csrf, "kind": "confirm", "classification": "A1"},
    )
    assert forged.status_code == 409
    assert _count(settings, Decision) == 0
    assert _decide(client, job_id, page, kind="confirm", classification="B1").status_code == 303
    late = lead.post(f"/console/jobs/{job_id}/claim", data={"csrf_token": csrf})
    assert late.status_code == 409
    assert "already decided" in late.text


def test_escalating_needs_a_reason_and_nothing_is_applied_without_it(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    page = _claim(client, job_id)
    bare = _decide(client, job_id, page, kind="escalate", classification="A1")
    assert bare.status_code == 400
    assert "reason" in bare.text
    assert _count(settings, Decision) == 0
    page = client.get(f"/console/jobs/{job_id}").text  # a fresh form key, same claim
    done = _decide(
        client, job_id, page, kind="escalate", classification="A1", reason="ongoing risk"
    )
    assert done.status_code == 303


def test_the_daily_cap_stops_reveals_with_a_wellbeing_message(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, NAMES[AccountRole.ADMIN])
    settings_page = client.get("/console/settings").text
    saved = client.post(
        "/console/settings",
        data={
            **form_fields(settings_page, "/console/settings"),
            "blur_radius": "12",
            "auto_reblur_seconds": "5",
            "preview_size": "160",
            "daily_cap": "1",
            "break_every": "25",
            "greyscale": "on",
        },
    )
    assert saved.status_code == 303
    changes = _audit(settings, action=AuditAction.SETTING_CHANGE, object_type="org_setting")
    assert [row.object_id for row in changes] == ["wellness.daily_cap"]
    login(client, REVIEWER)
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}").text
    json = {"Accept": "application/json"}
    first = client.post(
        f"/console/items/{seeded.item_ids[0]}/reveal",
        data={"csrf_token": _csrf(page)},
        headers=json,
    )
    assert first.status_code == 200
    second = client.post(
        f"/console/items/{seeded.item_ids[1]}/reveal",
        data={"csrf_token": _csrf(page)},
        headers=json,
    )
    assert second.status_code == 409
    assert "take a break" in second.json()["detail"]
    assert _count(settings, Item, Item.viewed_by_person.is_(True)) == 1


def test_a_reveal_grant_expires_and_belongs_to_its_reviewer(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    item_id = seeded.item_ids[0]
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}").text
    answer = client.post(
        f"/console/items/{item_id}/reveal",
        data={"csrf_token": _csrf(page)},
        headers={"Accept": "application/json"},
    ).json()
    lead = login(_other(client), NAMES[AccountRole.LEAD])
    assert lead.get(answer["view_url"]).status_code == 403
    other_item = answer["view_url"].replace(f"/items/{item_id}/", f"/items/{seeded.item_ids[1]}/")
    assert client.get(other_item).status_code == 403


def test_preferences_are_saved_and_audited(client: TestClient, settings: Settings) -> None:
    login(client, REVIEWER)
    page = client.get("/console/preferences").text
    answer = client.post(
        "/console/preferences",
        data={
            **form_fields(page, "/console/preferences"),
            "blur_radius": "20",
            "auto_reblur_seconds": "3",
        },
    )
    assert answer.status_code == 303
    page = client.get("/console/preferences").text
    assert 'name="blur_radius" min="4" max="40" value="20"' in page
    assert 'data-greyscale="off"' in page
    settings_rows = _audit(settings, action=AuditAction.SETTING_CHANGE, actor=REVIEWER)
    assert {row.detail for row in settings_rows} >= {
        '{"setting":"preference.blur_radius","value":20}'
    }
    too_weak = client.post(
        "/console/preferences",
        data={
            **form_fields(page, "/console/preferences"),
            "blur_radius": "1",
            "auto_reblur_seconds": "3",
        },
    )
    assert too_weak.status_code == 400


def test_leads_see_everyone_s_exposure_and_bank_health(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    page = _claim(client, job_id)
    client.post(
        f"/console/items/{seeded.item_ids[0]}/reveal",
        data={"csrf_token": _csrf(page)},
        headers={"Accept": "application/json"},
    )
    _decide(client, job_id, page, kind="false_positive")
    assert 'id="team-exposure"' not in client.get("/console/queues").text
    lead = login(_other(client), NAMES[AccountRole.LEAD])
    queues = lead.get("/console/queues").text
    assert re.search(rf"<td>{REVIEWER}</td><td>1", queues)
    banks = lead.get("/console/banks").text
    assert "test-bank" in banks
    assert "0.0%" in banks
    subject = lead.get(f"/console/subjects/{seeded.subject_id}").text
    assert "decision: false positive" in subject
    assert "user-0001" in subject


def test_a_decision_is_announced_only_once_applied(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    login(client, REVIEWER)
    assert "applied" not in client.get("/console/queues?decision=999").text


def test_sessions_expire_when_idle(client: TestClient, settings: Settings) -> None:
    from brightline.accounts import resolve_session

    login(client, REVIEWER)
    token = client.cookies["bl_session"]
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        later = utcnow() + timedelta(hours=1)
        assert resolve_session(session=session, token=token, now=later) is None
    engine.dispose()
    assert client.get("/console/queues").status_code == 303


def test_an_idle_session_is_removed_when_it_is_next_used(
    client: TestClient, settings: Settings
) -> None:
    from brightline.accounts import AccountSession

    login(client, REVIEWER)
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        row = session.scalars(select(AccountSession)).one()
        row.last_seen_at = utcnow() - timedelta(hours=1)
    engine.dispose()
    assert client.get("/console/queues").status_code == 303
    assert _count(settings, AccountSession) == 0


def test_videos_are_a_blurred_still_until_revealed_then_the_muted_file(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    video = seed_video(settings, tmp_path)
    login(client, REVIEWER)
    item_id = video.item_ids[0]
    page = client.get(f"/console/jobs/{video.job_ids[0]}").text
    assert 'data-video="yes"' in page
    still = client.get(f"/console/items/{item_id}/preview")
    assert still.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(still.content)).mode == "L"
    answer = client.post(
        f"/console/items/{item_id}/reveal",
        data={"csrf_token": _csrf(page)},
        headers={"Accept": "application/json"},
    ).json()
    assert answer["video"] is True
    played = client.get(answer["view_url"])
    assert played.headers["content-type"] == "video/webm"
    assert played.content[:4] == b"\x1aE\xdf\xa3"  # the WebM (EBML) signature


def test_a_reveal_without_script_shows_the_revealed_view_on_the_job_page(
    client: TestClient, seeded: Seeded
) -> None:
    login(client, REVIEWER)
    item_id, job_id = seeded.item_ids[0], seeded.job_ids[0]
    page = client.get(f"/console/jobs/{job_id}").text
    assert f"/console/items/{item_id}/view?grant=" not in page
    revealed = client.post(f"/console/items/{item_id}/reveal", data={"csrf_token": _csrf(page)})
    assert revealed.status_code == 303
    shown = client.get(revealed.headers["location"]).text
    found = re.search(rf'src="(/console/items/{item_id}/view\?grant=\d+)"', shown)
    assert found is not None
    assert client.get(found.group(1)).status_code == 200
    # Another item's reveal does not show this one.
    other = client.get(f"/console/jobs/{seeded.job_ids[1]}?show={item_id}").text
    assert "/view?grant=" not in other


def test_opening_the_job_or_revealing_its_items_renews_the_holder_s_claim(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    from brightline.review import Job

    login(client, REVIEWER)
    job_id = seeded.job_ids[0]
    _claim(client, job_id)
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.locked_until = utcnow() + timedelta(seconds=30)
    client.get(f"/console/jobs/{job_id}")
    with session_factory(engine)() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.locked_by == REVIEWER
        assert job.locked_until is not None
        assert job.locked_until > utcnow() + timedelta(minutes=5)
    with session_factory(engine).begin() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.locked_until = utcnow() + timedelta(seconds=30)
    item_id = seeded.item_ids[seeded.job_ids.index(job_id)]
    revealed = client.post(
        f"/console/items/{item_id}/reveal",
        data={"csrf_token": _csrf(client.get("/console/queues").text)},
        headers={"Accept": "application/json"},
    )
    assert revealed.status_code == 200
    with session_factory(engine)() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.locked_until is not None
        assert job.locked_until > utcnow() + timedelta(minutes=5)
    engine.dispose()
    # Someone else opening the page renews nothing and takes nothing.
    lead = login(_other(client), NAMES[AccountRole.LEAD])
    assert "Someone else holds this job" in lead.get(f"/console/jobs/{job_id}").text


def test_sign_ins_and_lockouts_are_audited_without_what_was_typed(
    client: TestClient, settings: Settings
) -> None:
    login(client, REVIEWER)
    signed_in = _audit(settings, action=AuditAction.SIGN_IN)
    assert [row.actor for row in signed_in] == [REVIEWER]
    lead = NAMES[AccountRole.LEAD]
    for _ in range(6):
        token = hidden_fields(client.get("/console/login").text)["login_token"]
        client.post(
            "/console/login",
            data={"username": lead, "password": "typed secret!", "login_token": token},
        )
    locked = _audit(settings, action=AuditAction.LOCKOUT)
    assert len(locked) == 1
    assert locked[0].object_type == "account"
    assert len(_audit(settings, action=AuditAction.SIGN_IN)) == 1
    everything = _audit(settings)
    assert not any("typed secret" in f"{row.reason} {row.detail}" for row in everything)


def test_tampered_evidence_is_a_grey_preview_and_a_refused_original(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    item_id = seeded.item_ids[0]
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        item = session.get(Item, item_id)
        assert item is not None
        digest = item.media_ref.removeprefix("sha256:")  # type: ignore[union-attr]
    engine.dispose()
    path = settings.home / "evidence" / "objects" / digest[:2] / digest[2:4] / digest
    sealed = bytearray(path.read_bytes())
    sealed[-1] ^= 1
    path.write_bytes(bytes(sealed))

    login(client, NAMES[AccountRole.LEAD])
    preview = client.get(f"/console/items/{item_id}/preview")
    assert preview.status_code == 200
    assert _high_frequency(preview.content) == 0  # the plain grey tile
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}").text
    opened = client.post(
        f"/console/items/{item_id}/original",
        data={"csrf_token": _csrf(page), "reason": "check the file"},
    )
    original = client.get(opened.headers["location"])
    assert original.status_code == 503
    assert "failed verification" in original.text


def test_an_audit_export_too_big_for_one_file_is_refused_not_cut(
    client: TestClient, seeded: Seeded, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brightline.web import pages

    login(client, NAMES[AccountRole.AUDITOR])
    monkeypatch.setattr(pages, "AUDIT_EXPORT_ROWS", 1)
    refused = client.get("/console/audit.csv")
    assert refused.status_code == 400
    assert "narrow the filters" in refused.text
    assert not _audit(settings, action=AuditAction.DOWNLOAD, object_type="audit_log")
    exported = client.get(f"/console/audit.csv?action=sign_in&actor={NAMES[AccountRole.AUDITOR]}")
    assert exported.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 1


def test_a_long_audit_page_shows_the_newest_rows(
    client: TestClient, seeded: Seeded, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brightline.web import pages

    login(client, NAMES[AccountRole.AUDITOR])
    every = _audit(settings)
    assert len(every) > 3
    monkeypatch.setattr(pages, "AUDIT_PAGE_ROWS", 2)
    page = client.get("/console/audit").text
    shown = [int(n) for n in re.findall(r'<tr class="audit-[a-z_]+"><td>(\d+)</td>', page)]
    assert shown == [every[-1].id, every[-2].id]
    assert "Showing the newest 2 rows" in page


@pytest.mark.parametrize(
    "path",
    [
        "/console/jobs/{huge}",
        "/console/items/{huge}/preview",
        "/console/items/1/view?grant={huge}",
        "/console/items/1/original?grant={huge}",
        "/console/subjects/{huge}",
        "/console/jobs/1?show={huge}",
        "/console/queues?decision={huge}",
    ],
)
def test_an_id_too_large_for_the_database_is_refused_as_malformed(
    client: TestClient, path: str
) -> None:
    login(client, NAMES[AccountRole.ADMIN])
    answer = client.get(path.format(huge=2**64))
    assert answer.status_code == 400
    assert client.get(path.format(huge=2**63 - 1)).status_code in {200, 403, 404}


def test_an_item_without_its_file_cannot_be_revealed_or_marked_viewed(
    client: TestClient, seeded: Seeded, settings: Settings
) -> None:
    item_id = seeded.item_ids[0]
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        item = session.get(Item, item_id)
        assert item is not None
        digest = item.media_ref.removeprefix("sha256:")  # type: ignore[union-attr]
    engine.dispose()
    (settings.home / "evidence" / "objects" / digest[:2] / digest[2:4] / digest).unlink()

    login(client, NAMES[AccountRole.LEAD])
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}").text
    for path, data in (("reveal", {}), ("original", {"reason": "check the file"})):
        refused = client.post(
            f"/console/items/{item_id}/{path}",
            data={"csrf_token": _csrf(page), **data},
            headers={"Accept": "application/json"},
        )
        assert refused.status_code == 409
        assert "nothing to reveal" in refused.json()["detail"]
    assert _count(settings, Item, Item.id == item_id, Item.viewed_by_person.is_(True)) == 0
    assert not _audit(settings, action=AuditAction.REVEAL)
