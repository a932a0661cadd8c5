"""The synthetic generator: deterministic, benign, consistent with its ground truth."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re

import pytest
from click.testing import CliRunner

from brightline import reports as builder
from brightline.clearinghouse import IncidentType, parse_report_xml, read_jsonl
from brightline.clearinghouse.synth import GroundTruth, SynthConfig, generate, write_dataset
from brightline.cli.main import cli
from brightline.errors import InvalidInput
from tests.reports.helpers import schema_path

DOCUMENTATION = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
PHONE = re.compile(r"\+1 \d{3} 555 01\d\d|\+44 7700 900\d{3}|\+1\d{3}55501\d\d|\+447700900\d{3}")


def test_the_same_seed_gives_the_same_data() -> None:
    a = generate(SynthConfig(reports=300, seed=5))
    assert a == generate(SynthConfig(reports=300, seed=5))
    assert a.reports != generate(SynthConfig(reports=300, seed=6)).reports
    assert len(a.reports) == 300
    assert len({r.report_id for r in a.reports}) == 300


def test_every_value_is_a_benign_placeholder() -> None:
    dataset = generate(SynthConfig(reports=500, seed=1, hub_share=0.1))
    for report in dataset.reports:
        assert report.provider.startswith("provider-")
        assert report.escalation is None or report.escalation.startswith("Synthetic placeholder")
        for p in report.persons:
            assert all(e.lower().endswith(("@example.org", "@example.net")) for e in p.emails)
            assert all(PHONE.fullmatch(n) for n in p.phones)
            for event in p.ip_events:
                address = ipaddress.ip_address(event.ip)
                assert any(address in network for network in DOCUMENTATION)


def test_the_mix_matches_the_ground_truth() -> None:
    config = SynthConfig(reports=1200, seed=2, hub_share=0.05, proxy_share=0.04)
    dataset = generate(config)
    truth = dataset.truth
    by_id = {r.report_id: r for r in dataset.reports}
    assert set(truth.person_of) == {(r.report_id, 0) for r in dataset.reports}
    assert len(truth.urgent) == 12
    assert all(by_id[r].escalation for r in truth.urgent)
    assert all(
        by_id[r].incident_type is IncidentType.ONLINE_ENTICEMENT and not by_id[r].files
        for r in truth.enticement
    )
    assert sum(len(v) for v in truth.viral.values()) == 240
    assert all(len(by_id[r].files) == 1 for v in truth.viral.values() for r in v)
    assert sum(len(v) for v in truth.offenders.values()) >= 120
    for reports in truth.offenders.values():
        assert len({by_id[r].provider for r in reports}) >= 2
        assert len({truth.person_of[(r, 0)] for r in reports}) == 1
    assert len(truth.hub_reports) == 60
    assert len(truth.proxy_reports) == 48
    assert len(truth.known_md5) == len(truth.known_pdq) == 48
    assert GroundTruth.from_json(json.loads(json.dumps(truth.to_json()))) == truth


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(InvalidInput, match="shares"):
        SynthConfig(viral_share=0.9, offender_share=0.5)
    with pytest.raises(InvalidInput, match="2 providers"):
        SynthConfig(providers=1)
    with pytest.raises(InvalidInput, match="ground-truth"):
        GroundTruth.from_json({})


def test_written_datasets_read_back_and_validate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dataset = generate(SynthConfig(reports=120, seed=3))
    counts = write_dataset(dataset, tmp_path, xml=True, files=True)
    assert counts["reports"] == counts["xml"] == 120
    assert read_jsonl(tmp_path / "reports.jsonl") == list(dataset.reports)
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert GroundTruth.from_json(truth) == dataset.truth
    schema = schema_path()
    for report in dataset.reports[:40]:
        document = (tmp_path / "xml" / f"{report.report_id}.xml").read_bytes()
        details = [
            (tmp_path / "xml" / f"{report.report_id}-{f.file_id}.xml").read_bytes()
            for f in report.files
        ]
        builder.validate_report_xml(document, schema)
        for d in details:
            builder.validate_file_details_xml(d, schema)
        parsed = parse_report_xml(
            document,
            report_id=report.report_id,
            provider=report.provider,
            received_at=report.received_at,
            file_details=details,
        )
        assert parsed == report
    files = sorted((tmp_path / "files").iterdir())
    assert len(files) == counts["files"] == len({f.md5 for r in dataset.reports for f in r.files})
    for path in files[:50]:
        assert hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest() == path.stem


def test_image_stand_ins_carry_their_real_hashes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dataset = generate(
        SynthConfig(reports=12, seed=4, stand_ins="images", viral_share=0.5, offender_share=0.0)
    )
    write_dataset(dataset, tmp_path, files=True)
    files = {f.md5: f for r in dataset.reports for f in r.files}
    for path in (tmp_path / "files").iterdir():
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG")
        assert hashlib.md5(data, usedforsecurity=False).hexdigest() == path.stem
        assert files[path.stem].pdq is not None
        assert files[path.stem].pdq_quality is not None


def test_the_synth_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "data"
    result = CliRunner().invoke(
        cli, ["synth", str(out), "--reports", "60", "--seed", "9", "--xml", "--files"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 60 reports" in result.output
    reports = read_jsonl(out / "reports.jsonl")
    assert reports == list(generate(SynthConfig(reports=60, seed=9)).reports)
    assert (out / "xml" / f"{reports[0].report_id}.xml").is_file()
    bad = CliRunner().invoke(
        cli, ["synth", str(out), "--viral-share", "0.9", "--offender-share", "0.9"]
    )
    assert bad.exit_code == 2
    assert "shares" in bad.output
