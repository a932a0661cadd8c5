"""The portal's core: one-time codes (short-lived, single use, limited tries, hashed), answers
that never tell which addresses are officers', sessions that die with the officer, and an
officer's view limited to their own agency."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.store import EvidenceStore
from brightline.legal import add_note, revoke_officer
from brightline.legal.documents import AttachmentUpload
from brightline.legal.models import AgencyDomain, Channel, Officer, RequestFlag
from brightline.legal.portal import (
    ACCESS_ACTOR,
    CodeRefused,
    PortalSettings,
    PortalSubmission,
    end_officer_sessions,
    list_portal_sessions,
    load_portal_settings,
    parse_named,
    portal_code_key,
    portal_request_view,
    request_access,
    request_sign_in_code,
    resolve_portal_session,
    sign_in_with_code,
    submit_portal_request,
    use_portal_form_key,
)
from brightline.legal.portal_mail import RecordingMailer, SmtpTls
from brightline.legal.portal_models import SignInCode
from tests.legal.helpers import (
    KEY,
    PDF,
    T0,
    RecordingPager,
    Sender,
    context,
    make_sender,
    new_request,
    submit,
)

SETTINGS = PortalSettings()
CODE_KEY = portal_code_key(KEY)


def _ask(session: Session, mailer: RecordingMailer, email: str, *, minutes: float = 0) -> None:
    request_sign_in_code(
        session=session,
        settings=SETTINGS,
        key=CODE_KEY,
        mailer=mailer,
        email=email,
        now=T0 + timedelta(minutes=minutes),
    )


def _sign_in(session: Session, email: str, code: str, *, minutes: float = 1) -> str:
    return sign_in_with_code(
        session=session,
        settings=SETTINGS,
        key=CODE_KEY,
        email=email,
        code=code,
        now=T0 + timedelta(minutes=minutes),
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def test_a_code_signs_in_once_and_is_stored_only_as_a_keyed_hash(session: Session) -> None:
    sender = make_sender(session)
    mailer = RecordingMailer()
    _ask(session, mailer, sender.officer.email.upper())  # the address in any case
    [(address, code)] = mailer.sent
    assert address == sender.officer.email
    assert len(code) == 8
    assert code.isdigit()
    row = session.scalars(select(SignInCode)).one()
    assert code not in (row.digest, row.salt)
    token = _sign_in(session, sender.officer.email, f" {code[:4]}-{code[4:]} ")
    officer = resolve_portal_session(
        session=session, settings=SETTINGS, token=token, now=T0 + timedelta(minutes=2)
    )
    assert officer is not None
    assert (officer.officer_id, officer.agency_id) == (sender.officer.id, sender.agency.id)
    assert officer.actor == f"officer:{sender.officer.handle}"
    with pytest.raises(CodeRefused):
        _sign_in(session, sender.officer.email, code, minutes=2)


def test_a_code_expires(session: Session) -> None:
    sender = make_sender(session)
    mailer = RecordingMailer()
    _ask(session, mailer, sender.officer.email)
    code = mailer.last_code(sender.officer.email)
    with pytest.raises(CodeRefused):
        _sign_in(session, sender.officer.email, code, minutes=10)
    short = PortalSettings(code_lifetime=timedelta(minutes=2))
    request_sign_in_code(
        session=session,
        settings=short,
        key=CODE_KEY,
        mailer=mailer,
        email=sender.officer.email,
        now=T0 + timedelta(minutes=20),
    )
    with pytest.raises(CodeRefused):
        _sign_in(session, sender.officer.email, mailer.last_code(sender.officer.email), minutes=23)


def test_wrong_tries_kill_the_code_and_a_new_code_replaces_the_old(session: Session) -> None:
    sender = make_sender(session)
    email = sender.officer.email
    mailer = RecordingMailer()
    _ask(session, mailer, email)
    code = mailer.last_code(email)
    for _ in range(SETTINGS.code_attempts):
        with pytest.raises(CodeRefused):
            _sign_in(session, email, _wrong(code))
    with pytest.raises(CodeRefused):
        _sign_in(session, email, code)  # the right code, but it died
    _ask(session, mailer, email, minutes=2)
    first = mailer.last_code(email)
    _ask(session, mailer, email, minutes=3)
    second = mailer.last_code(email)
    with pytest.raises(CodeRefused):
        _sign_in(session, email, first, minutes=4)
    assert _sign_in(session, email, second, minutes=4)


def test_codes_per_hour_are_limited(session: Session) -> None:
    sender = make_sender(session)
    mailer = RecordingMailer()
    for minute in range(SETTINGS.codes_per_hour + 2):
        _ask(session, mailer, sender.officer.email, minutes=minute)
    assert len(mailer.sent) == SETTINGS.codes_per_hour
    _ask(session, mailer, sender.officer.email, minutes=61)
    assert len(mailer.sent) == SETTINGS.codes_per_hour + 1


def test_who_may_not_sign_in_gets_the_same_silent_answer(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    verified = make_sender(session)
    unverified = make_sender(session, verified=False)
    revoked = make_sender(session)
    revoke_officer(session=session, officer_id=revoked.officer.id, actor="staff-0001", reason="x")
    moved = make_sender(session, domain="old-domain.example")
    session.execute(delete(AgencyDomain).where(AgencyDomain.agency_id == moved.agency.id))
    session.add(AgencyDomain(agency_id=moved.agency.id, domain="new-domain.example"))
    session.flush()
    mailer = RecordingMailer()
    refused = [
        "nobody-0001@county-sheriff.example",
        unverified.officer.email,
        revoked.officer.email,
        moved.officer.email,
        "not an address",
        "x\x00@county-sheriff.example",
        "a" * 400 + "@county-sheriff.example",
    ]
    with caplog.at_level(logging.DEBUG):
        for email in refused:
            assert _ask(session, mailer, email) is None  # type: ignore[func-returns-value]
            with pytest.raises(CodeRefused) as refusal:
                _sign_in(session, email, "12345678")
            assert str(refusal.value) == str(CodeRefused())
    assert mailer.sent == []
    assert session.scalars(select(SignInCode)).all() == []
    _ask(session, RecordingMailer(fail=True), verified.officer.email)  # a relay outage: no error
    _ask(session, mailer, verified.officer.email, minutes=1)
    assert len(mailer.sent) == 1
    text = caplog.text
    assert "county-sheriff.example" not in text
    assert mailer.sent[0][1] not in text


def test_sessions_end_when_idle_expired_revoked_or_signed_out_by_staff(session: Session) -> None:
    sender = make_sender(session)
    mailer = RecordingMailer()

    def signed_in(minutes: float) -> str:
        _ask(session, mailer, sender.officer.email, minutes=minutes)
        return _sign_in(
            session, sender.officer.email, mailer.last_code(sender.officer.email), minutes=minutes
        )

    def resolve(token: str, minutes: float) -> object:
        return resolve_portal_session(
            session=session, settings=SETTINGS, token=token, now=T0 + timedelta(minutes=minutes)
        )

    idle = signed_in(0)
    assert resolve(idle, 29) is not None
    assert resolve(idle, 58) is not None
    assert resolve(idle, 89) is None  # 31 minutes without a request
    absolute = signed_in(100)
    for minute in range(120, 100 + 12 * 60, 25):
        assert resolve(absolute, minute) is not None
    assert resolve(absolute, 100 + 12 * 60) is None
    assert resolve("", 0) is None
    assert resolve("x" * 200, 0) is None

    by_staff = signed_in(900)
    assert len(list_portal_sessions(session=session, officer_id=sender.officer.id)) == 1
    assert end_officer_sessions(session=session, officer_id=sender.officer.id) == 1
    assert resolve(by_staff, 901) is None

    revoked = signed_in(1000)
    assert resolve(revoked, 1001) is not None
    revoke_officer(session=session, officer_id=sender.officer.id, actor="staff-0001", reason="x")
    assert resolve(revoked, 1001) is None
    assert list_portal_sessions(session=session, officer_id=sender.officer.id) == []


def test_revoking_an_officer_ends_their_sessions_and_codes_in_the_same_transaction(
    session: Session,
) -> None:
    revoked, other = make_sender(session), make_sender(session)
    mailer = RecordingMailer()
    for sender in (revoked, other):
        _ask(session, mailer, sender.officer.email)
        _sign_in(session, sender.officer.email, mailer.last_code(sender.officer.email))
        _ask(session, mailer, sender.officer.email, minutes=2)  # a code not used yet

    def left(sender: Sender) -> tuple[int, int]:
        """The officer's sessions and unused codes."""
        officer_id = sender.officer.id
        codes = session.scalars(
            select(SignInCode.id).where(
                SignInCode.officer_id == officer_id, SignInCode.spent_at.is_(None)
            )
        ).all()
        return len(list_portal_sessions(session=session, officer_id=officer_id)), len(codes)

    assert left(revoked) == left(other) == (1, 1)
    at = T0 + timedelta(minutes=5)
    savepoint = session.begin_nested()
    revoke_officer(
        session=session, officer_id=revoked.officer.id, actor="staff-0001", reason="x", now=at
    )
    assert left(revoked) == (0, 0)  # at once, before any request would have found the session
    savepoint.rollback()
    assert left(revoked) == (1, 1)  # undone with the revocation: one transaction

    revoke_officer(
        session=session, officer_id=revoked.officer.id, actor="staff-0001", reason="x", now=at
    )
    assert left(revoked) == (0, 0)
    assert left(other) == (1, 1)
    spent = session.scalars(
        select(SignInCode.spent_at).where(SignInCode.officer_id == revoked.officer.id)
    ).all()
    assert at in spent


def test_a_form_key_is_accepted_once(session: Session) -> None:
    sender = make_sender(session)
    key = "k" * 24
    use_portal_form_key(session=session, officer_id=sender.officer.id, form_key=key)
    with pytest.raises(Conflict, match="already submitted"):
        use_portal_form_key(session=session, officer_id=sender.officer.id, form_key=key)
    with pytest.raises(InvalidInput):
        use_portal_form_key(session=session, officer_id=sender.officer.id, form_key="short")


def _officer(session: Session, sender: Sender) -> object:
    mailer = RecordingMailer()
    _ask(session, mailer, sender.officer.email)
    token = _sign_in(session, sender.officer.email, mailer.last_code(sender.officer.email))
    return resolve_portal_session(
        session=session, settings=SETTINGS, token=token, now=T0 + timedelta(minutes=1)
    )


def test_an_officer_submits_for_their_agency_and_sees_only_its_requests(
    session: Session, store: EvidenceStore
) -> None:
    ours, theirs = make_sender(session), make_sender(session)
    officer = _officer(session, ours)
    ctx = context()
    received = submit_portal_request(
        session=session,
        context=ctx,
        store=store,
        officer=officer,  # type: ignore[arg-type]
        submission=PortalSubmission(
            type="subpoena",
            external_reference="EX-PORTAL-0001",
            legal_basis="Synthetic subpoena for tests",
            accounts="example:user-unknown-0001\n\n",
            identifiers="email:someone@example.org",
            stated_due="2027-01-15",
            attachments=[AttachmentUpload(PDF, "letter.pdf")],
        ),
        now=T0,
    )
    assert received.channel == Channel.PORTAL
    assert received.agency_id == ours.agency.id
    assert received.received_by == f"officer:{ours.officer.handle}"
    assert received.stated_due_at is not None
    flags = session.scalars(select(RequestFlag).where(RequestFlag.request_id == received.id))
    assert {flag.code for flag in flags} == {"unknown_account", "identifier_to_resolve"}
    add_note(session=session, request_id=received.id, body="staff only", author="staff-0001")

    view = portal_request_view(session=session, request_id=received.id, agency_id=ours.agency.id)
    assert [line.kind for line in view.history] == ["received"]
    assert [a.filename for a in view.attachments] == ["letter.pdf"]
    assert view.deadlines
    assert ("account", "example", "user-unknown-0001") in view.named

    pager = RecordingPager()
    emergency = submit_portal_request(
        session=session,
        context=context(pager=pager),
        store=store,
        officer=officer,  # type: ignore[arg-type]
        submission=PortalSubmission(
            type="emergency",
            external_reference="EX-PORTAL-0002",
            legal_basis="Synthetic emergency disclosure request",
            identifiers="username:placeholder_user",
        ),
        now=T0,
    )
    assert [page[1] for page in pager.pages] == [emergency.id]  # on-call paged, as for staff

    other = submit(session, ctx, store, new_request(theirs))
    with pytest.raises(NotFound):
        portal_request_view(session=session, request_id=other.id, agency_id=ours.agency.id)

    with pytest.raises(Conflict, match="duplicate submission"):
        submit_portal_request(
            session=session,
            context=ctx,
            store=store,
            officer=officer,  # type: ignore[arg-type]
            submission=PortalSubmission(
                type="subpoena",
                external_reference="ex-portal-0001 ",
                legal_basis="again",
                accounts="example:user-0002",
            ),
            now=T0,
        )


@pytest.mark.parametrize(
    ("accounts", "identifiers", "message"),
    [
        ("no-colon", "", "account line 1"),
        ("example:", "", "account line 1"),
        ("", "fax:123", "identifier line 1"),
        ("", "email:", "identifier line 1"),
    ],
)
def test_named_lines_are_checked(accounts: str, identifiers: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_named(accounts, identifiers)


def test_settings_from_the_environment() -> None:
    defaults = load_portal_settings({})
    assert defaults.code_minutes == 10
    assert defaults.smtp is None
    custom = load_portal_settings(
        {
            "BRIGHTLINE_PORTAL_CODE_MINUTES": "5",
            "BRIGHTLINE_PORTAL_CODE_ATTEMPTS": "3",
            "BRIGHTLINE_PORTAL_SMTP_HOST": "mail.platform.example",
            "BRIGHTLINE_PORTAL_SMTP_SENDER": "portal@platform.example",
            "BRIGHTLINE_PORTAL_SMTP_TLS": "ssl",
        }
    )
    assert (custom.code_minutes, custom.code_attempts) == (5, 3)
    assert custom.smtp is not None
    assert (custom.smtp.tls, custom.smtp.effective_port) == (SmtpTls.SSL, 465)
    for env, name in [
        ({"BRIGHTLINE_PORTAL_CODE_MINUTES": "0"}, "BRIGHTLINE_PORTAL_CODE_MINUTES"),
        ({"BRIGHTLINE_PORTAL_IDLE_MINUTES": "soon"}, "BRIGHTLINE_PORTAL_IDLE_MINUTES"),
        ({"BRIGHTLINE_PORTAL_SMTP_HOST": "h", "BRIGHTLINE_PORTAL_SMTP_TLS": "x"}, "SMTP_TLS"),
        ({"BRIGHTLINE_PORTAL_SMTP_HOST": "h"}, "SMTP_"),  # no sender
        (
            {
                "BRIGHTLINE_PORTAL_SMTP_HOST": "h",
                "BRIGHTLINE_PORTAL_SMTP_SENDER": "p@x.example",
                "BRIGHTLINE_PORTAL_SMTP_USERNAME": "u",
            },
            "both or neither",
        ),
    ]:
        with pytest.raises(InvalidInput, match=name):
            load_portal_settings(env)


def test_every_portal_setting_and_route_is_documented() -> None:
    import brightline.http  # noqa: F401  (the web package is imported through the app)
    import brightline.legal.portal as portal_module
    from brightline.web.portal import router

    docs = (Path(__file__).parents[2] / "docs" / "legal-portal.md").read_text(encoding="utf-8")
    source = Path(portal_module.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r'"(BRIGHTLINE_PORTAL_[A-Z_]+)"', source))
    assert len(names) >= 10
    for name in names:
        assert name in docs, name
    paths = {route.path for route in router.routes}  # type: ignore[attr-defined]
    for path in ("/portal/login", "/portal/requests", "/portal/requests/new"):
        assert path in paths
        assert f"`{path}" in docs, path


def test_asking_for_access_registers_an_unverified_officer_or_nothing(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    sender = make_sender(session, domain="sheriff-0001.example")
    officers = lambda: session.scalars(select(Officer).order_by(Officer.id)).all()  # noqa: E731
    before = len(officers())
    with caplog.at_level(logging.DEBUG):
        request_access(session=session, email="new-0001@unit.sheriff-0001.example", name="New One")
        for email in (
            "someone@unregistered.example",  # no agency at that domain
            sender.officer.email,  # already registered
            "new-0001@unit.sheriff-0001.example",  # asked twice
        ):
            request_access(session=session, email=email, name="Placeholder")
    added = officers()[before:]
    assert len(added) == 1
    assert added[0].agency_id == sender.agency.id
    assert added[0].state == "unverified"
    assert added[0].created_by == ACCESS_ACTOR
    assert "sheriff-0001" not in caplog.text
    assert "unregistered" not in caplog.text
    mailer = RecordingMailer()
    _ask(session, mailer, "new-0001@unit.sheriff-0001.example")
    assert mailer.sent == []  # no sign-in before staff verify
    for email, name in [("not-an-address", "X"), ("x@y.example", " "), ("x@y.example", "a\x00")]:
        with pytest.raises(InvalidInput):
            request_access(session=session, email=email, name=name)
