"""Text signals: robust matching of coded terms and off-platform migration extractors.

A pure core (no database): :class:`Normaliser` folds obfuscated text into views that keep a map
back to the original offsets; :class:`TermMatcher` finds the terms of :class:`TermList` s in them;
:class:`MigrationExtractor` finds links, handles, addresses, phone numbers, price menus and
solicitation phrasing. See ``docs/text.md``.
"""

from __future__ import annotations

from brightline.text.crypto_addresses import CryptoAddress, find_crypto_addresses
from brightline.text.matching import MatchType, TermHit, TermMatcher
from brightline.text.migration import Extraction, ExtractionKind, MigrationExtractor
from brightline.text.migration_tables import MigrationTables, Service, ServiceCategory
from brightline.text.normalise import NormalisedText, Normaliser, default_normaliser
from brightline.text.terms import MatchMode, Term, TermList

__all__ = [
    "CryptoAddress",
    "Extraction",
    "ExtractionKind",
    "MatchMode",
    "MatchType",
    "MigrationExtractor",
    "MigrationTables",
    "NormalisedText",
    "Normaliser",
    "Service",
    "ServiceCategory",
    "Term",
    "TermHit",
    "TermList",
    "TermMatcher",
    "default_normaliser",
    "find_crypto_addresses",
]
