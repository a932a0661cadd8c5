"""Linking reports about the same person: every identifier kind, its evidence, and the guards."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.clearinghouse import (
    DeviceId,
    IdentifierKind,
    IncomingReport,
    IpEvent,
    LinkingConfig,
    PaymentHandle,
    ScreenName,
    demo_proxy_ranges,
    link_reports,
)
from brightline.clearinghouse.identifiers import (
    normalise_email,
    normalise_handle,
    normalise_phone,
    normalise_wallet,
)
from brightline.errors import InvalidInput
from tests.clearinghouse.helpers import NOW, person, report


@pytest.mark.parametrize(
    ("normalise", "a", "b"),
    [
        (normalise_email, " User.One@Example.ORG", "user.one@example.org"),
        (normalise_phone, "+1 (202) 555-0143", "+12025550143"),
        (normalise_phone, "+44 7700 900123 ext. 12", "+447700900123"),
        (normalise_handle, "@Placeholder", "placeholder"),
        (normalise_handle, "$Placeholder", "placeholder"),
        (
            normalise_wallet,
            "0xABCDEF0123456789ABCDEF0123456789ABCDEF01",
            "0xabcdef0123456789abcdef0123456789abcdef01",
        ),
        (normalise_wallet, "BC1QPLACEHOLDER", "bc1qplaceholder"),
        (normalise_wallet, "1PlaceholderBase58", "1PlaceholderBase58"),  # case matters
    ],
)
def test_identifiers_are_normalised(normalise, a: str, b: str) -> None:  # type: ignore[no-untyped-def]
    assert normalise(a) == b


@pytest.mark.parametrize(
    ("normalise", "value"),
    [
        (normalise_email, "not-an-email"),
        (normalise_email, "unknown@example.org"),
        (normalise_phone, "555 0143"),  # no country code, no default region
        (normalise_phone, "+1 2"),
        (normalise_handle, "n/a"),
        (normalise_handle, "0000-0000"),
    ],
)
def test_placeholders_and_garbage_are_dropped(normalise, value: str) -> None:  # type: ignore[no-untyped-def]
    assert normalise(value) is None


def test_a_default_region_reads_national_numbers() -> None:
    assert normalise_phone("07700 900123", "GB") == "+447700900123"


def two(a: dict[str, object], b: dict[str, object], **kw: object) -> list[IncomingReport]:
    return [
        report(1, provider="provider-01", persons=(person(**a),), **kw),  # type: ignore[arg-type]
        report(2, provider="provider-02", persons=(person(**b),), **kw),  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ({"emails": ("Someone@Example.org",)}, {"emails": ("someone@example.org",)}, "email"),
        ({"phones": ("+1 202 555 0143",)}, {"phones": ("+12025550143",)}, "phone"),
        (
            {"screen_names": (ScreenName("Example-Chat", "@Someone"),)},
            {"screen_names": (ScreenName("example-chat", "someone"),)},
            "screen_name",
        ),
        (
            {"device_ids": (DeviceId("IDFA", "AAAA-1111"),)},
            {"device_ids": (DeviceId("idfa", "aaaa-1111"),)},
            "device_id",
        ),
        (
            {"payment_handles": (PaymentHandle("ExamplePay", "$someone"),)},
            {"payment_handles": (PaymentHandle("examplepay", "someone"),)},
            "payment_handle",
        ),
        (
            {"wallet_addresses": ("0x" + "AB" * 20,)},
            {"wallet_addresses": ("0x" + "ab" * 20,)},
            "wallet_address",
        ),
        (
            {"ip_events": (IpEvent("2001:db8::1", at=NOW),)},
            {"ip_events": (IpEvent("2001:DB8:0::1", at=NOW + timedelta(minutes=59)),)},
            "ip_address",
        ),
        ({}, {"prior_report_ids": ("1",)}, "prior_report"),
    ],
)
def test_each_identifier_kind_links_across_providers_with_its_evidence(
    a: dict[str, object], b: dict[str, object], kind: str
) -> None:
    linking = link_reports(two(a, b))
    (group,) = linking.groups
    assert group.reports == ("1", "2")
    assert group.providers == ("provider-01", "provider-02")
    (evidence,) = group.evidence
    assert evidence.identifier.kind == kind
    assert evidence.reports == ("1", "2")
    assert evidence.persons == (("1", 0), ("2", 0))
    assert linking.linked_reports(two(a, b)[0]) == {"2"}


def test_identifiers_are_scoped_where_they_only_identify_within_a_scope() -> None:
    # The same screen name on two services and the same ESP id at two providers: two people.
    reports = two(
        {"esp_identifier": "user-1", "screen_names": (ScreenName("service-a", "same"),)},
        {"esp_identifier": "user-1", "screen_names": (ScreenName("service-b", "same"),)},
    )
    assert link_reports(reports).groups == ()
    same_provider = [
        report(1, persons=(person(esp_identifier="u1"),)),
        report(2, persons=(person(esp_identifier="u1"),)),
    ]
    (group,) = link_reports(same_provider).groups
    assert group.evidence[0].identifier.kind is IdentifierKind.ESP_IDENTIFIER


def test_ip_addresses_link_only_within_the_window_and_only_with_times() -> None:
    far = two(
        {"ip_events": (IpEvent("2001:db8::1", at=NOW),)},
        {"ip_events": (IpEvent("2001:db8::1", at=NOW + timedelta(minutes=61)),)},
    )
    assert link_reports(far).groups == ()
    assert link_reports(far, LinkingConfig(ip_window=timedelta(hours=2))).groups != ()
    untimed = two(
        {"ip_events": (IpEvent("2001:db8::1"),)}, {"ip_events": (IpEvent("2001:db8::1"),)}
    )
    linking = link_reports(untimed)
    assert linking.groups == ()
    assert linking.unusable["ip_without_time"] == 2
    # A chain of sightings each within the window is one piece of evidence.
    chain = [
        report(
            i,
            provider=f"provider-{i}",
            persons=(
                person(ip_events=(IpEvent("192.0.2.1", at=NOW + timedelta(minutes=50 * i)),)),
            ),
        )
        for i in range(1, 4)
    ]
    (group,) = link_reports(chain).groups
    (evidence,) = group.evidence
    assert evidence.reports == ("1", "2", "3")
    assert (evidence.first_at, evidence.last_at) == (
        NOW + timedelta(minutes=50),
        NOW + timedelta(minutes=150),
    )


def test_proxy_addresses_are_withheld_by_default_and_flagged_when_linked() -> None:
    listed = two(
        {"ip_events": (IpEvent("203.0.113.230", at=NOW),)},
        {"ip_events": (IpEvent("203.0.113.230", at=NOW),)},
    )
    flagged = two(
        {"ip_events": (IpEvent("2001:db8::7", at=NOW, possible_proxy=True),)},
        {"ip_events": (IpEvent("2001:db8::7", at=NOW),)},
    )
    for reports in (listed, flagged):
        linking = link_reports(reports, proxies=demo_proxy_ranges())
        assert linking.groups == ()
        (held,) = linking.withheld
        assert (held.caution, held.reports) == ("proxy", ("1", "2"))
        linked = link_reports(
            reports, LinkingConfig(proxy_policy="link"), proxies=demo_proxy_ranges()
        )
        assert linked.groups[0].evidence[0].caution == "proxy"
        assert linked.withheld == ()
    # Without the operator's list, a listed address is an ordinary one.
    assert link_reports(listed).groups != ()


def test_an_identifier_shared_by_too_many_reports_is_a_hub_and_links_nothing() -> None:
    shared = DeviceId("IDFA", "SHARED-DEVICE-1")
    reports = [
        report(i, persons=(person(esp_identifier=f"u{i}", device_ids=(shared,)),))
        for i in range(1, 5)
    ]
    linking = link_reports(reports, LinkingConfig(max_reports_per_identifier=3))
    assert linking.groups == ()
    (hub,) = linking.hubs
    assert (hub.identifier.kind, hub.identifier.value, hub.report_count) == (
        "device_id",
        "shared-device-1",
        4,
    )
    assert len(link_reports(reports, LinkingConfig(max_reports_per_identifier=4)).groups) == 1


def test_prior_reports_link_only_to_an_unambiguous_earlier_report() -> None:
    earlier_pair = report(1, persons=(person(esp_identifier="a"), person(esp_identifier="b")))
    later = report(2, provider="provider-02", persons=(person(prior_report_ids=("1",)),))
    also_later = report(3, provider="provider-03", persons=(person(prior_report_ids=("1",)),))
    assert link_reports([earlier_pair, later, also_later]).groups == ()
    missing = report(4, persons=(person(prior_report_ids=("999",)),))
    other = report(5, persons=(person(prior_report_ids=("999",)),))
    assert link_reports([missing, other]).groups == ()


def test_persons_not_reports_are_linked() -> None:
    # Report 1 names two people; only the second is the person of report 2.
    reports = [
        report(1, persons=(person(emails=("a@example.org",)), person(emails=("b@example.org",)))),
        report(2, provider="provider-02", persons=(person(emails=("b@example.org",)),)),
    ]
    linking = link_reports(reports)
    (group,) = linking.groups
    assert group.persons == (("1", 1), ("2", 0))
    assert linking.group_of(("1", 0)) is None
    assert linking.identity(reports[0], 0) != linking.identity(reports[0], 1)
    assert linking.identity(reports[0], 1) == linking.identity(reports[1], 0)


def test_kinds_can_be_switched_off_and_ids_must_be_unique() -> None:
    reports = two({"emails": ("x@example.org",)}, {"emails": ("x@example.org",)})
    config = LinkingConfig(kinds=frozenset(IdentifierKind) - {IdentifierKind.EMAIL})
    assert link_reports(reports, config).groups == ()
    with pytest.raises(InvalidInput, match="unique"):
        link_reports([reports[0], reports[0]])
    with pytest.raises(InvalidInput, match="at least 2"):
        LinkingConfig(max_reports_per_identifier=1)


# -- order independence ----------------------------------------------------------------------

POOL_EMAILS = [f"p{i}@example.org" for i in range(6)]
POOL_IPS = ["2001:db8::1", "2001:db8::2", "203.0.113.230"]


@st.composite
def populations(draw: st.DrawFn) -> list[IncomingReport]:
    reports = []
    for r in range(draw(st.integers(1, 14))):
        persons = []
        for _ in range(draw(st.integers(0, 2))):
            persons.append(
                person(
                    esp_identifier=draw(st.none() | st.sampled_from(["u1", "u2", "u3"])),
                    emails=tuple(
                        draw(st.lists(st.sampled_from(POOL_EMAILS), max_size=2, unique=True))
                    ),
                    ip_events=tuple(
                        IpEvent(
                            draw(st.sampled_from(POOL_IPS)),
                            at=NOW + timedelta(minutes=draw(st.integers(0, 300))),
                        )
                        for _ in range(draw(st.integers(0, 2)))
                    ),
                    prior_report_ids=tuple(draw(st.lists(st.integers(1, 14).map(str), max_size=1))),
                )
            )
        reports.append(
            report(r + 1, provider=draw(st.sampled_from(["p1", "p2"])), persons=tuple(persons))
        )
    return reports


@settings(max_examples=80, deadline=None)
@given(populations(), st.randoms(use_true_random=False), st.integers(2, 6))
def test_linking_does_not_depend_on_input_order(
    reports: list[IncomingReport], shuffler: random.Random, cap: int
) -> None:
    config = LinkingConfig(max_reports_per_identifier=cap)
    expected = link_reports(reports, config, proxies=demo_proxy_ranges())
    shuffled = list(reports)
    shuffler.shuffle(shuffled)
    assert link_reports(shuffled, config, proxies=demo_proxy_ranges()) == expected
    # Every group is connected by its own evidence, and no evidence crosses groups.
    for group in expected.groups:
        members = set(group.persons)
        for item in group.evidence:
            assert set(item.persons) <= members
        reached = {group.persons[0]}
        changed = True
        while changed:
            changed = False
            for item in group.evidence:
                if reached & set(item.persons) and not set(item.persons) <= reached:
                    reached |= set(item.persons)
                    changed = True
        assert reached == members
