from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from brightline.banks import service
from brightline.banks.records import EntryRecord
from brightline.matching import MatchStatus, match_content
from brightline.matching.index_sync import SyncedPDQIndex
from brightline.signals import HashingLimits, default_registry, hash_content, hash_file
from tests.factories import flip_bits, random_pdq, write_standin

REGISTRY = default_registry()
LIMITS = HashingLimits()


def _bank_file(
    sessions: sessionmaker[Session], path: Path, bank: str = "B", threshold: int = 31
) -> None:
    content = hash_file(path, limits=LIMITS, dihedral=False)
    with sessions.begin() as session:
        service.create_bank(session=session, name=bank, pdq_threshold=threshold)
        service.add_signals(
            session=session,
            bank_name=bank,
            records=[
                EntryRecord(s.signal_type, s.value, classification="B2") for s in content.signals
            ],
            registry=REGISTRY,
        )


def _match(sessions: sessionmaker[Session], path: Path, *, dihedral: bool = True):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        synced, _ = SyncedPDQIndex.open(session=session, directory=None)
        return match_content(
            session=session,
            content=hash_file(path, limits=LIMITS, dihedral=dihedral),
            registry=REGISTRY,
            pdq_index=synced.index,
            quality_threshold=50,
            dihedral=dihedral,
        )


def test_identical_file_matches_exactly_and_perceptually(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    original = write_standin(tmp_path / "a.jpg", 1)
    _bank_file(sessions, original)
    result = _match(sessions, original)
    assert result.status is MatchStatus.MATCH
    by_type = {m.signal_type: m for m in result.matches}
    assert {"md5", "sha256", "pdq"} <= set(by_type)
    assert by_type["pdq"].distance == 0
    assert by_type["pdq"].transform == "identity"
    assert by_type["md5"].classification == "B2"


def test_altered_copies_match_by_pdq_only(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    original = write_standin(tmp_path / "a.jpg", 2)
    _bank_file(sessions, original)
    image = Image.open(original)
    image.resize((320, 240)).save(tmp_path / "small.jpg", quality=40)
    image.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "rot.jpg", quality=90)
    small = _match(sessions, tmp_path / "small.jpg")
    assert [m.signal_type for m in small.matches] == ["pdq"]
    assert small.matches[0].distance <= 31
    rotated = _match(sessions, tmp_path / "rot.jpg")
    assert rotated.status is MatchStatus.MATCH
    assert rotated.matches[0].transform != "identity"
    assert _match(sessions, tmp_path / "rot.jpg", dihedral=False).status is MatchStatus.NO_MATCH


def test_unrelated_image_does_not_match(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _bank_file(sessions, write_standin(tmp_path / "a.jpg", 3))
    assert _match(sessions, write_standin(tmp_path / "b.jpg", 4)).status is MatchStatus.NO_MATCH


def test_disabling_takes_effect_immediately(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    original = write_standin(tmp_path / "a.jpg", 5)
    _bank_file(sessions, original)
    content = hash_file(original, limits=LIMITS)
    with sessions.begin() as session:
        synced, _ = SyncedPDQIndex.open(session=session, directory=None)
        service.update_bank(session=session, name="B", enabled=False)
        result = match_content(
            session=session,
            content=content,
            registry=REGISTRY,
            pdq_index=synced.index,
            quality_threshold=50,
        )
        assert result.status is MatchStatus.NO_MATCH
        service.update_bank(session=session, name="B", enabled=True)
        pdq = content.signal("pdq")
        assert pdq is not None
        service.set_entries_enabled(
            session=session,
            bank_name="B",
            enabled=False,
            registry=REGISTRY,
            signal_type="pdq",
            value=pdq.value,
        )
        result = match_content(
            session=session,
            content=content,
            registry=REGISTRY,
            pdq_index=synced.index,
            quality_threshold=50,
        )
        assert {m.signal_type for m in result.matches} == {"md5", "sha1", "sha256"}


def test_each_bank_applies_its_own_threshold(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    original = write_standin(tmp_path / "a.jpg", 6)
    _bank_file(sessions, original, bank="strict", threshold=0)
    _bank_file(sessions, original, bank="loose", threshold=31)
    Image.open(original).resize((300, 225)).save(tmp_path / "small.jpg", quality=30)
    result = _match(sessions, tmp_path / "small.jpg")
    assert result.matches[0].distance > 0
    assert {m.bank for m in result.matches} == {"loose"}


def test_low_quality_is_not_reported_as_no_match(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _bank_file(sessions, write_standin(tmp_path / "a.jpg", 7))
    Image.new("RGB", (200, 200), (120, 120, 120)).save(tmp_path / "flat.png")
    result = _match(sessions, tmp_path / "flat.png")
    assert result.low_quality
    assert result.status is MatchStatus.LOW_QUALITY


def test_unhashable_content_still_matches_exact_hashes(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(random.Random(1).randbytes(5000))
    _bank_file(sessions, blob)
    result = _match(sessions, blob)
    assert result.content.unhashable is not None
    assert result.status is MatchStatus.MATCH
    other = tmp_path / "other.bin"
    other.write_bytes(b"not an image")
    assert _match(sessions, other).status is MatchStatus.UNHASHABLE


def test_index_sync_is_incremental_and_persisted(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rng = random.Random(9)
    values = [random_pdq(rng) for _ in range(50)]
    directory = tmp_path / "index"
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        service.add_signals(
            session=session,
            bank_name="B",
            registry=REGISTRY,
            records=[EntryRecord("pdq", v) for v in values[:30]],
        )
    with sessions.begin() as session:
        synced, counts = SyncedPDQIndex.open(session=session, directory=directory)
        assert (counts.added, counts.rebuilt) == (30, True)
        synced.save(directory)
    with sessions.begin() as session:
        service.add_signals(
            session=session,
            bank_name="B",
            registry=REGISTRY,
            records=[EntryRecord("pdq", v) for v in values[30:]],
        )
        service.set_entries_enabled(
            session=session,
            bank_name="B",
            enabled=False,
            registry=REGISTRY,
            signal_type="pdq",
            value=values[0],
        )
    with sessions.begin() as session:
        synced, counts = SyncedPDQIndex.open(session=session, directory=directory)
        assert (counts.added, counts.changes, counts.rebuilt) == (20, 1, False)
        assert len(synced.index) == 50
        assert synced.index.query(bytes.fromhex(values[0]), 0) == []
        near = flip_bits(values[40], 31, rng)
        assert [d for _, d in synced.index.query(bytes.fromhex(near), 31)] == [31]


def test_index_from_another_database_is_rebuilt(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    directory = tmp_path / "index"
    (directory).mkdir()
    (directory / "sync.json").write_text(
        '{"format": 1, "instance_id": "someone-else", "last_entry_id": 99, "last_change_id": 0}'
    )
    with sessions.begin() as session:
        _, counts = SyncedPDQIndex.open(session=session, directory=directory)
    assert counts.rebuilt


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff\xe0 truncated jpeg"])
def test_odd_bytes_hash_without_raising(data: bytes) -> None:
    content = hash_content(data, limits=LIMITS)
    assert content.unhashable is not None


def test_images_with_added_borders_match_through_the_cropped_hash(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    original = write_standin(tmp_path / "a.jpg", 8)
    _bank_file(sessions, original)
    image = Image.open(original)
    framed = Image.new("RGB", (image.width, image.height + 160), (0, 0, 0))
    framed.paste(image, (0, 80))
    framed.save(tmp_path / "letterboxed.png")
    content = hash_file(tmp_path / "letterboxed.png", limits=LIMITS)
    pdq = content.signal("pdq")
    assert pdq is not None
    banked = hash_file(original, limits=LIMITS).signal("pdq")
    assert banked is not None
    assert REGISTRY.get("pdq").distance(pdq.value, banked.value) > 31  # borders alone defeat PDQ
    result = _match(sessions, tmp_path / "letterboxed.png")
    assert result.status is MatchStatus.MATCH
    [match] = [m for m in result.matches if m.signal_type == "pdq"]
    assert match.transform == "border_cropped"
    assert match.distance <= 8
    assert hash_file(original, limits=LIMITS).pdq_border_cropped is None  # no borders, no extra
