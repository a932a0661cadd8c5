"""Routing: jurisdictions from locations and the IP table, agencies, the national queue."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from brightline.clearinghouse import (
    EstimatedLocation,
    IpEvent,
    NetworkTable,
    Router,
    Victim,
    demo_ip_regions,
    demo_proxy_ranges,
    demo_router,
    load_ip_regions,
    load_routing_config,
)
from brightline.clearinghouse.networks import parse_ip_regions, parse_proxy_ranges
from brightline.clearinghouse.routing import SourceKind, parse_routing_config
from brightline.errors import InvalidInput
from tests.clearinghouse.helpers import NOW, person, report

HEAD = 'version = "t"\nnational_queue = "nq"\n'
DATA = Path(__file__).resolve().parents[2] / "src/brightline/clearinghouse/data"
DOCUMENTATION = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]


def test_the_shipped_demo_tables_use_documentation_ranges_only() -> None:
    for path in (DATA / "demo_ip_regions.csv", DATA / "demo_proxy_ranges.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            token = line.split("#")[0].replace(",", " ").split()
            if token and token[0] != "network":
                network = ipaddress.ip_network(token[0])
                assert any(
                    network.subnet_of(d) for d in DOCUMENTATION if d.version == network.version
                )  # type: ignore[arg-type]
    assert len(demo_ip_regions()) == 21
    assert load_ip_regions(DATA / "demo_ip_regions.csv").lookup("192.0.2.1") == "US-CA"
    config = load_routing_config(DATA / "demo_agencies.toml")
    assert config.national_queue == "national-queue"


def test_the_most_specific_network_wins() -> None:
    table = parse_ip_regions(
        "network,region\n# comment\n2001:db8::/32,gb\n"
        "2001:db8:1::/48,US-CA  # inline\n192.0.2.0/24,DE\n"
    )
    assert table.lookup("2001:db8:1::5") == "US-CA"
    assert table.lookup("2001:db8:2::5") == "GB"
    assert table.lookup(ipaddress.ip_address("192.0.2.200")) == "DE"
    assert table.lookup("198.51.100.1") is None
    assert table.lookup("not an address") is None
    assert "192.0.2.1" in table
    assert 5 not in table
    assert len(NetworkTable()) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("net,region\n192.0.2.0/24,US\n", "ip-regions:1: the header must be 'network,region'"),
        ("network,region\n192.0.2.1/24,US\n", "ip-regions:2: not a CIDR network"),
        ("network,region\n192.0.2.0/24,USA\n", "ip-regions:2: a region code"),
        ("network,region\n192.0.2.0/24\n", "ip-regions:2: expected two columns"),
        ("network,region\n192.0.2.0/24,US\n192.0.2.0/24,GB\n", "listed twice"),
    ],
)
def test_bad_ip_tables_are_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_ip_regions(text)


def test_proxy_lists() -> None:
    proxies = parse_proxy_ranges("203.0.113.224/27 example-vpn\n2001:db8:ff00::/40\n")
    assert proxies.lookup("203.0.113.230") == "example-vpn"
    assert proxies.lookup("2001:db8:ff00::1") == "proxy"
    with pytest.raises(InvalidInput, match="proxy-ranges:1"):
        parse_proxy_ranges("nonsense\n")


def test_reports_go_to_the_agencies_with_jurisdiction() -> None:
    router = demo_router()
    r = report(
        1,
        persons=(
            person(
                estimated_location=EstimatedLocation("US", "California"),  # an alias
                ip_events=(
                    IpEvent("2001:db8:1::9", at=NOW),  # US-CA
                    IpEvent("198.51.100.9", at=NOW),  # GB
                    IpEvent("203.0.113.230", at=NOW),  # a listed proxy: ignored
                    IpEvent("2001:db8:2::9", possible_proxy=True),  # flagged: ignored
                    IpEvent("2001:db8:14::9"),  # IN: no agency
                ),
            ),
        ),
        victims=(Victim(estimated_location=EstimatedLocation("us", "wa")),),
    )
    decision = router.route(r)
    assert [(j.region, j.sources) for j in decision.jurisdictions] == [
        ("GB", (SourceKind.IP_ADDRESS,)),
        ("IN", (SourceKind.IP_ADDRESS,)),
        ("US-CA", (SourceKind.IP_ADDRESS, SourceKind.PERSON_LOCATION)),
        ("US-WA", (SourceKind.VICTIM_LOCATION,)),
    ]
    assert [(f.agency_id, f.regions, f.reason) for f in decision.referrals] == [
        ("example-agency-gb", ("GB",), "jurisdiction"),
        ("example-icac-west", ("US-CA", "US-WA"), "jurisdiction"),
        ("national-queue", ("IN",), "no agency for region"),
    ]


def test_unknown_locations_go_to_the_national_queue_and_countries_fall_back() -> None:
    router = demo_router()
    nowhere = router.route(report(1, persons=(person(ip_events=(IpEvent("2001:db8:9::1"),)),)))
    assert nowhere.jurisdictions == ()
    assert [(f.agency_id, f.reason) for f in nowhere.referrals] == [
        ("national-queue", "location unknown")
    ]
    config = parse_routing_config(
        f'{HEAD}[[agencies]]\nid = "us-federal"\nname = "Example"\nregions = ["US"]\n'
    )
    country = Router(config).route(
        report(2, persons=(person(estimated_location=EstimatedLocation("US", "Somewhere Else!")),))
    )
    assert [(f.agency_id, f.regions) for f in country.referrals] == [("us-federal", ("US",))]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('national_queue = "nq"', "version must be a string"),
        ('version = "t"\nnational_queue = "NQ"', "national_queue: an id is lowercase"),
        ('version = "t"\nnational_queue = "nq"\nextra = 1', "unknown key 'extra'"),
        (
            f'{HEAD}[[agencies]]\nid = "a"\nname = "A"\nregions = ["US"]\n'
            '[[agencies]]\nid = "b"\nname = "B"\nregions = ["US"]',
            "region US is given to two agencies",
        ),
        (
            f'{HEAD}[[agencies]]\nid = "nq"\nname = "A"\nregions = []',
            "used twice",
        ),
        (
            'version = "t"\nnational_queue = "nq"\n[region_aliases]\n"US-X" = "nowhere"',
            "region code",
        ),
    ],
)
def test_bad_routing_configurations_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_routing_config(text)


def test_the_demo_router_uses_the_demo_proxies() -> None:
    assert demo_router().proxies.lookup("203.0.113.230") == demo_proxy_ranges().lookup(
        "203.0.113.230"
    )
