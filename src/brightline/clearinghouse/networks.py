"""Operator-supplied address tables: IP range → region, and known proxy/VPN ranges.

Both are longest-prefix-match tables over ``ipaddress`` networks. Lookups cost one dictionary
probe per distinct prefix length in the table (a handful), whatever its size.

File formats (UTF-8; ``#`` starts a comment; blank lines are ignored):

* **IP ranges → regions** (CSV): a header ``network,region`` then one CIDR network and one region
  code a row, e.g. ``192.0.2.0/25,US-CA``. Region codes are ISO 3166 country codes, optionally
  followed by ``-`` and a subdivision code (``US-CA``, ``GB``); they are upper-cased.
* **Proxy/VPN ranges** (text): one CIDR network a line, optionally followed by a label
  (``203.0.113.224/27 example-vpn``).

A network given twice is refused (which row would win would otherwise be arbitrary); a more
specific network inside a wider one is fine and wins. Errors name the file and line, not the
content.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

from brightline.errors import InvalidInput

__all__ = [
    "NetworkTable",
    "demo_ip_regions",
    "demo_proxy_ranges",
    "load_ip_regions",
    "load_proxy_ranges",
    "parse_ip_regions",
    "parse_proxy_ranges",
    "region_code",
]

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,8})?")


class NetworkTable(Generic[T]):
    """Longest-prefix match from networks to values."""

    def __init__(self, entries: Iterable[tuple[Network, T]] = ()) -> None:
        # version → prefix length → network number (shifted) → value
        self._tables: dict[int, dict[int, dict[int, T]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}
        self._count = 0
        for network, value in entries:
            self._add(network, value)
        for version, table in self._tables.items():
            self._lengths[version] = sorted(table, reverse=True)

    def _add(self, network: Network, value: T) -> None:
        bits = network.max_prefixlen
        by_length = self._tables[network.version].setdefault(network.prefixlen, {})
        key = int(network.network_address) >> (bits - network.prefixlen)
        if key in by_length:
            raise InvalidInput(f"network {network} is listed twice")
        by_length[key] = value
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def lookup(self, address: str | Address) -> T | None:
        """The value of the most specific network holding ``address``, or None."""
        if isinstance(address, str):
            try:
                address = ipaddress.ip_address(address)
            except ValueError:
                return None
        version = address.version
        number = int(address)
        bits = address.max_prefixlen
        tables = self._tables[version]
        for length in self._lengths[version]:
            found = tables[length].get(number >> (bits - length))
            if found is not None:
                return found
        return None

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str | ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return self.lookup(address) is not None


def region_code(value: str) -> str:
    """A region code in canonical form (``us-ca`` → ``US-CA``); raises on anything else."""
    code = value.strip().upper()
    if not _REGION.fullmatch(code):
        raise InvalidInput("a region code is a country code, optionally '-' and a subdivision")
    return code


def _network(text: str, where: str) -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        raise InvalidInput(f"{where}: not a CIDR network (host bits must be zero)") from None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if content:
            yield number, content


def parse_ip_regions(text: str, source: str = "ip-regions") -> NetworkTable[str]:
    """Read the ``network,region`` CSV (see the module docstring)."""
    rows = list(_lines(text))
    if not rows:
        return NetworkTable()
    header_line, header = rows[0]
    if [c.strip().lower() for c in header.split(",")] != ["network", "region"]:
        raise InvalidInput(f"{source}:{header_line}: the header must be 'network,region'")
    entries: list[tuple[Network, str]] = []
    for number, row in rows[1:]:
        where = f"{source}:{number}"
        fields = next(csv.reader(io.StringIO(row)))
        if len(fields) != 2:
            raise InvalidInput(f"{where}: expected two columns (network, region)")
        try:
            region = region_code(fields[1])
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        entries.append((_network(fields[0], where), region))
    try:
        return NetworkTable(entries)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}") from None


def parse_proxy_ranges(text: str, source: str = "proxy-ranges") -> NetworkTable[str]:
    """Read the proxy/VPN list (see the module docstring); the value is the label or 'proxy'."""
    entries: list[tuple[Network, str]] = []
    for number, row in _lines(text):
        parts = row.split(None, 1)
        label = parts[1].strip() if len(parts) > 1 else "proxy"
        entries.append((_network(parts[0], f"{source}:{number}"), label))
    try:
        return NetworkTable(entries)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}") from None


def load_ip_regions(path: Path) -> NetworkTable[str]:
    return parse_ip_regions(path.read_text(encoding="utf-8"), path.name)


def load_proxy_ranges(path: Path) -> NetworkTable[str]:
    return parse_proxy_ranges(path.read_text(encoding="utf-8"), path.name)


def _data(name: str) -> str:
    return resources.files("brightline.clearinghouse").joinpath("data", name).read_text("utf-8")


def demo_ip_regions() -> NetworkTable[str]:
    """The shipped synthetic table (documentation address ranges only)."""
    return parse_ip_regions(_data("demo_ip_regions.csv"), "demo_ip_regions.csv")


def demo_proxy_ranges() -> NetworkTable[str]:
    """The shipped synthetic proxy list (documentation address ranges only)."""
    return parse_proxy_ranges(_data("demo_proxy_ranges.txt"), "demo_proxy_ranges.txt")
