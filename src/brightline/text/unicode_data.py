"""Unicode data the normaliser needs: confusable prototypes, emoji and invisible characters.

The confusables and emoji tables are read from Unicode's own data files, shipped unmodified in
``brightline/text/data`` with their licence (``LICENSE-UNICODE.txt``), so that updating them is a
file copy rather than a code change. The default-ignorable ranges are short and stable enough to
live here as code (from ``DerivedCoreProperties.txt``, Unicode 15.0).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from brightline.errors import InvalidInput

CONFUSABLES_FILE = "confusables.txt"
EMOJI_DATA_FILE = "emoji-data.txt"

# Default_Ignorable_Code_Point, Unicode 15.0 (DerivedCoreProperties.txt), as inclusive ranges.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; direction marks
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, isolates
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors 1-16
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags, variation selectors 17-256, reserved
)

# Blank-looking characters that are not default-ignorable but render as nothing in most fonts.
EXTRA_INVISIBLE: frozenset[int] = frozenset({0x2800})  # braille pattern blank

ZWJ = "\u200d"
VARIATION_SELECTORS = frozenset({0xFE0E, 0xFE0F})
EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)  # skin tones
REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
TAG_CHARACTERS = range(0xE0020, 0xE0080)
KEYCAP = "\u20e3"
BLACK_FLAG = "\U0001f3f4"

_LINE = re.compile(r"^([0-9A-F]{4,6})(?:\.\.([0-9A-F]{4,6}))?\s*;\s*([^#]*?)\s*(?:#|$)")


def _data_text(name: str) -> str:
    return resources.files("brightline.text").joinpath("data").joinpath(name).read_text("utf-8-sig")


def is_default_ignorable(code: int) -> bool:
    return any(low <= code <= high for low, high in DEFAULT_IGNORABLE)


def parse_confusables(lines: Iterable[str]) -> dict[str, str]:
    """``{source character: prototype}`` from the lines of a ``confusables.txt``.

    Every line maps one code point to a prototype of one or more code points (e.g. ``m`` → ``rn``,
    Cyrillic small o → ``o``). Malformed lines are an error rather than skipped: a silently shorter
    table would weaken matching without anyone noticing.
    """
    table: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [field.strip() for field in line.split(";")]
        try:
            source = chr(int(fields[0], 16))
            target = "".join(chr(int(code, 16)) for code in fields[1].split())
        except (IndexError, ValueError):
            raise InvalidInput(f"{CONFUSABLES_FILE}:{number}: not a confusable mapping") from None
        if not target:
            raise InvalidInput(f"{CONFUSABLES_FILE}:{number}: empty prototype")
        table[source] = target
    return table


def parse_emoji_property(lines: Iterable[str], prop: str) -> list[tuple[int, int]]:
    """Inclusive code point ranges that have property ``prop`` in an ``emoji-data.txt``."""
    ranges = []
    for raw in lines:
        match = _LINE.match(raw)
        if match and match.group(3) == prop:
            low = int(match.group(1), 16)
            high = int(match.group(2), 16) if match.group(2) else low
            ranges.append((low, high))
    return ranges


@dataclass(frozen=True)
class UnicodeTables:
    """The loaded tables: built once per process (see :func:`default_unicode_tables`)."""

    confusables: dict[str, str]
    pictographic: frozenset[int]
    pictographic_ranges: tuple[tuple[int, int], ...]

    def is_pictographic(self, code: int) -> bool:
        return code in self.pictographic


@cache
def default_unicode_tables() -> UnicodeTables:
    """The shipped Unicode data, parsed once (about 10k confusables, 3.5k pictographs)."""
    confusables = parse_confusables(_data_text(CONFUSABLES_FILE).splitlines())
    ranges = parse_emoji_property(_data_text(EMOJI_DATA_FILE).splitlines(), "Extended_Pictographic")
    codes = frozenset(code for low, high in ranges for code in range(low, high + 1))
    return UnicodeTables(
        confusables=confusables, pictographic=codes, pictographic_ranges=tuple(ranges)
    )
