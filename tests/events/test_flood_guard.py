"""The flood guard: a spike quarantines an entry, a steady high baseline does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.banks.models import BankEntry, EntryChange
from brightline.banks.service import entries_by_ids
from brightline.cli.main import cli
from brightline.errors import NotFound
from brightline.events import (
    EntryMatchCount,
    EntryQuarantine,
    WebhookDelivery,
    count_matches,
    create_webhook,
    list_quarantined,
    release_entry,
)
from brightline.events.flood_guard import baseline_per_hour, hour_of
from brightline.matchlog import MatchSource, record_matches
from brightline.settings import FloodGuardSettings, load_settings
from tests.events.helpers import make_entries, match_of

GUARD = FloodGuardSettings(floor=50, factor=10.0, baseline_days=7)


def record(session: Session, entry: BankEntry, times: int) -> None:
    record_matches(
        session=session,
        matches=[match_of(entry, "known")] * times,
        source=MatchSource.HASH,
        flood_guard=GUARD,
    )


def quarantines(session: Session) -> list[EntryQuarantine]:
    return list(session.scalars(select(EntryQuarantine)))


def test_a_spike_quarantines_the_entry_and_tells_the_curators(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        create_webhook(
            session=session,
            name="curators",
            url="https://curators.example/hook",
            event_types=["entry.quarantined"],
        )
        entry, other = make_entries(session, "known", 2)
    with sessions.begin() as session:
        record(session, entry, 50)  # at the floor: nothing happens
        record(session, other, 3)
        assert quarantines(session) == []
    with sessions.begin() as session:
        record(session, entry, 1)  # 51 this hour, no history: over the floor

    with sessions() as session:
        [held] = quarantines(session)
        assert (held.entry_id, held.hour_count, held.baseline, held.threshold) == (
            entry.id,
            51,
            0.0,
            50.0,
        )
        assert held.released_at is None
        assert "51 matches" in held.reason
        assert session.get(BankEntry, entry.id).enabled is False  # type: ignore[union-attr]
        assert session.get(BankEntry, other.id).enabled is True  # type: ignore[union-attr]
        # The change log tells every index to drop it; matching checks the row at once.
        change = session.scalars(select(EntryChange).order_by(EntryChange.id.desc())).first()
        assert change is not None
        assert (change.entry_id, change.enabled) == (entry.id, False)
        assert set(entries_by_ids(session=session, ids=[entry.id, other.id])) == {other.id}
        [delivery] = session.scalars(select(WebhookDelivery))
        assert delivery.event_type == "entry.quarantined"
        assert delivery.idempotency_key == f"quarantine-{held.id}"
        payload = json.loads(delivery.payload)
        assert payload["entry_id"] == entry.id
        assert payload["bank"] == "known"
        assert payload["hour_count"] == 51
        [listed] = list_quarantined(session=session)
        assert (listed.entry.id, listed.bank.name) == (entry.id, "known")


def seed_history(session: Session, entry_id: int, hour: datetime, per_hour: int) -> None:
    session.execute(
        insert(EntryMatchCount),
        [
            {"entry_id": entry_id, "hour": hour - timedelta(hours=back), "count": per_hour}
            for back in range(1, 7 * 24 + 1)
        ],
    )


def test_steady_high_traffic_is_not_a_spike(sessions: sessionmaker[Session]) -> None:
    now = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    hour = hour_of(now)
    with sessions.begin() as session:
        [entry] = make_entries(session, "known", 1)
        seed_history(session, entry.id, hour, per_hour=100)
        # Counts older than the window do not count.
        session.add(EntryMatchCount(entry_id=entry.id, hour=hour - timedelta(days=8), count=10**6))
        assert baseline_per_hour(
            session=session, entry_id=entry.id, hour=hour, settings=GUARD
        ) == pytest.approx(100.0)
        assert (
            count_matches(
                session=session, matches_by_entry={entry.id: 120}, now=now, settings=GUARD
            )
            == []
        )
        assert (
            count_matches(
                session=session, matches_by_entry={entry.id: 880}, now=now, settings=GUARD
            )
            == []
        )  # 1000: at ten times the baseline, not above it
        [held] = count_matches(
            session=session, matches_by_entry={entry.id: 1}, now=now, settings=GUARD
        )
        assert held.hour_count == 1001
        assert held.threshold == pytest.approx(1000.0)


def test_counts_are_kept_per_hour(sessions: sessionmaker[Session]) -> None:
    before = datetime(2026, 12, 1, 7, 59, 59, tzinfo=UTC)
    after = before + timedelta(seconds=2)
    with sessions.begin() as session:
        [entry] = make_entries(session, "known", 1)
        for when in (before, after):
            count_matches(
                session=session, matches_by_entry={entry.id: 40}, now=when, settings=GUARD
            )
        counts = session.execute(
            select(EntryMatchCount.hour, EntryMatchCount.count).order_by(EntryMatchCount.hour)
        ).all()
        assert [(h, c) for h, c in counts] == [(hour_of(before), 40), (hour_of(after), 40)]
        assert quarantines(session) == []


def test_disabled_guard_counts_nothing(sessions: sessionmaker[Session]) -> None:
    off = FloodGuardSettings(enabled=False)
    with sessions.begin() as session:
        [entry] = make_entries(session, "known", 1)
        now = datetime.now(UTC)
        assert (
            count_matches(
                session=session, matches_by_entry={entry.id: 10_000}, now=now, settings=off
            )
            == []
        )
        assert session.scalar(select(EntryMatchCount.count)) is None


def test_release_enables_the_entry_and_the_guard_lets_it_be(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        [entry] = make_entries(session, "known", 1)
        record(session, entry, 60)
    with sessions.begin() as session:
        release_entry(session=session, entry_id=entry.id)
        with pytest.raises(NotFound):
            release_entry(session=session, entry_id=entry.id)
    with sessions.begin() as session:
        assert session.get(BankEntry, entry.id).enabled is True  # type: ignore[union-attr]
        last = session.scalars(select(EntryChange).order_by(EntryChange.id.desc())).first()
        assert last is not None
        assert (last.entry_id, last.enabled) == (entry.id, True)
        assert list_quarantined(session=session) == []
        [released] = list_quarantined(session=session, include_released=True)
        assert released.quarantine.released_at is not None
        record(session, entry, 500)  # a curator vouched for it: not quarantined again
        assert len(quarantines(session)) == 1
        assert session.get(BankEntry, entry.id).enabled is True  # type: ignore[union-attr]


def test_flood_guard_settings_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "BRIGHTLINE_HOME": str(tmp_path),
            "BRIGHTLINE_FLOOD_GUARD": "no",
            "BRIGHTLINE_FLOOD_GUARD_FLOOR": "200",
            "BRIGHTLINE_FLOOD_GUARD_FACTOR": "4.5",
            "BRIGHTLINE_FLOOD_GUARD_BASELINE_DAYS": "14",
            "BRIGHTLINE_WEBHOOK_MAX_ATTEMPTS": "3",
        }
    )
    assert settings.flood_guard == FloodGuardSettings(
        enabled=False, floor=200, factor=4.5, baseline_days=14
    )
    assert settings.webhooks.max_attempts == 3
    assert load_settings({"BRIGHTLINE_HOME": str(tmp_path)}).flood_guard == FloodGuardSettings()


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_cli_lists_and_releases_quarantined_entries(  # type: ignore[no-untyped-def]
    run, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        [entry] = make_entries(session, "known", 1)
        record(session, entry, 51)
    listed = run("bank", "quarantined")
    assert listed.exit_code == 0
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{entry.id}\tknown\tpdq\t{entry.value}\t")
    assert "\tquarantined\t51 matches" in line
    released = run("bank", "release", str(entry.id))
    assert released.exit_code == 0
    assert f"released entry {entry.id}" in released.stdout
    assert run("bank", "quarantined").stdout == ""
    assert "released" in run("bank", "quarantined", "--all").stdout
    assert run("bank", "release", str(entry.id)).exit_code == 2
