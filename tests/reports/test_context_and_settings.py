"""The report context refuses what a report could not carry; reporter settings from the env."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from brightline.errors import InvalidInput
from brightline.reports import (
    AccountDisabled,
    CaptureEvent,
    CellPhoneIncident,
    DeviceId,
    FileContext,
    IpCaptureEvent,
    Party,
    PersonDetails,
    ReportContext,
    WebPageIncident,
)
from brightline.reports.report_xml import company_template
from brightline.settings import ReporterSettings, load_reporter_settings, load_settings

NAIVE = datetime(2026, 12, 1, 8, 0)  # deliberately naive


def test_ip_addresses_are_parsed_and_canonical() -> None:
    assert IpCaptureEvent(" 2001:DB8:0::1 ").ip_address == "2001:db8::1"
    with pytest.raises(InvalidInput, match="not an IPv4 or IPv6"):
        IpCaptureEvent("192.0.2.300")
    with pytest.raises(InvalidInput, match="port"):
        IpCaptureEvent("192.0.2.1", port=70000)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        IpCaptureEvent("192.0.2.1", CaptureEvent.LOGIN, NAIVE)
    with pytest.raises(InvalidInput, match="CaptureEvent"):
        IpCaptureEvent("192.0.2.1", "Login")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        lambda: PersonDetails(first_name=""),
        lambda: PersonDetails(first_name="   "),
        lambda: PersonDetails(last_name="a\x00b"),
        lambda: PersonDetails(emails=("ok@example.org", "\ufffe")),
        lambda: PersonDetails(age=-1),
        lambda: PersonDetails(age=True),  # type: ignore[arg-type]
        lambda: PersonDetails(date_of_birth=datetime(2010, 1, 1, tzinfo=UTC)),
        lambda: Party(),
        lambda: DeviceId("IMEI", ""),
        lambda: AccountDisabled(user_notified=False, user_notified_at=datetime.now(UTC)),
        lambda: CellPhoneIncident(latitude=91.0),
        lambda: CellPhoneIncident(longitude=float("nan")),
        lambda: WebPageIncident(urls=["https://example.org"]),  # type: ignore[arg-type]
        lambda: FileContext(publicly_available=1),  # type: ignore[arg-type]
        lambda: FileContext(original_file_name="\ud800"),
        lambda: ReportContext(internet_details=("web",)),  # type: ignore[arg-type]
        lambda: ReportContext(files={"1": FileContext()}),  # type: ignore[dict-item]
        lambda: ReportContext(incident_at=NAIVE),
        lambda: ReportContext(
            account_permanently_disabled=AccountDisabled(reenabled_at=datetime.now(UTC))
        ),
        lambda: ReportContext(report_annotations=frozenset({"spam"})),  # type: ignore[arg-type]
    ],
)
def test_unusable_context_is_refused(make: object) -> None:
    with pytest.raises(InvalidInput):
        make()  # type: ignore[operator]


def test_refusals_do_not_quote_the_value() -> None:
    with pytest.raises(InvalidInput) as refused:
        PersonDetails(first_name="Placeholder\x01Name")
    assert "Placeholder" not in str(refused.value)


def test_a_context_keeps_its_own_copy_of_files() -> None:
    files = {1: FileContext(exif_viewed=True)}
    context = ReportContext(files=files, victims=(Party(person=PersonDetails(age=9)),))
    files[2] = FileContext()
    assert list(context.files) == [1]
    with pytest.raises(TypeError):
        context.files[3] = FileContext()  # type: ignore[index]
    assert PersonDetails(date_of_birth=date(2010, 1, 1)).date_of_birth == date(2010, 1, 1)
    assert AccountDisabled(disabled_at=datetime.now(UTC) - timedelta(days=1)).user_notified is None


def test_reporter_settings_come_from_the_environment(tmp_path: Path) -> None:
    schema = tmp_path / "schema.xsd"
    schema.write_text("<schema/>")
    env = {
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_REPORTER_COMPANY_NAME": " Example Platform Inc. ",
        "BRIGHTLINE_REPORTER_CONTACT_FIRST_NAME": "Placeholder",
        "BRIGHTLINE_REPORTER_CONTACT_LAST_NAME": "Contact",
        "BRIGHTLINE_REPORTER_CONTACT_EMAIL": "reports@example.org",
        "BRIGHTLINE_REPORTER_CONTACT_PHONE": "",
        "BRIGHTLINE_REPORTER_COMPANY_TEMPLATE": "Line one.\nLine two.",
        "BRIGHTLINE_REPORTER_TERMS_OF_SERVICE_URL": "https://example.org/terms",
        "BRIGHTLINE_REPORTER_ESP_SERVICE_NAME": "Example Service",
        "BRIGHTLINE_REPORTER_SCHEMA_PATH": str(schema),
    }
    reporter = load_settings(env).reporter
    assert reporter == ReporterSettings(
        company_name="Example Platform Inc.",
        contact_first_name="Placeholder",
        contact_last_name="Contact",
        contact_email="reports@example.org",
        company_template="Line one.\nLine two.",
        terms_of_service_url="https://example.org/terms",
        esp_service_name="Example Service",
        schema_path=schema,
    )
    assert load_settings({"BRIGHTLINE_HOME": str(tmp_path)}).reporter == ReporterSettings()
    with pytest.raises(InvalidInput, match="BRIGHTLINE_REPORTER_LEGAL_URL"):
        load_reporter_settings({"BRIGHTLINE_REPORTER_LEGAL_URL": "example.org/legal"})
    with pytest.raises(InvalidInput, match="BRIGHTLINE_REPORTER_SCHEMA_PATH"):
        load_reporter_settings({"BRIGHTLINE_REPORTER_SCHEMA_PATH": str(tmp_path / "none.xsd")})


def test_the_company_name_opens_the_company_template_once() -> None:
    named = ReporterSettings(company_name="Example Inc.")
    assert company_template(named) == "Example Inc."
    assert company_template(ReporterSettings(company_template="Text.")) == "Text."
    assert (
        company_template(ReporterSettings(company_name="Example Inc.", company_template="Text."))
        == "Example Inc.\n\nText."
    )
    assert (
        company_template(
            ReporterSettings(company_name="Example Inc.", company_template="Example Inc. serves.")
        )
        == "Example Inc. serves."
    )
