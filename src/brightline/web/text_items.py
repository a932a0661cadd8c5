"""Text items on the job page: the post as written, with hits marked and hidden things shown.

A text item's document (post text, term hits, migration signals) is read from the evidence vault
only after the reviewer's reveal was recorded, like any other item. It is rendered here, in
Python, from the flat runs of :func:`brightline.text.highlight.segment_text`, with every piece
of text escaped by :func:`markupsafe.escape`:

* each hit or signal span is a ``<mark>`` whose title names the list, term, match type and
  weight (or the signal's kind and confidence); overlapping spans simply share runs;
* every hidden character (zero-width, bidi controls, tags, the braille blank, controls, lone
  surrogates) is replaced by a visible badge ``⟨U+202E⟩``: the character itself is never sent,
  so an override cannot reorder the page, and a surrogate cannot break the response's UTF-8;
* each letter of a mixed-script word carries its script (class and title);
* the whole text sits in a ``dir="ltr"`` block with ``unicode-bidi: isolate`` (console.css), so
  right-to-left text inside it cannot reorder anything around it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from brightline.errors import InvalidInput, NotFound, StorageError
from brightline.evidence.store import EvidenceStore
from brightline.review.models import Item
from brightline.review.text_cases import TextDocument, TextHitRecord, TextSignalRecord
from brightline.text.highlight import (
    Highlighted,
    MixedWord,
    Span,
    script_of,
    segment_text,
    visible,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MixedWordView:
    start: int
    end: int
    scripts: tuple[str, ...]
    letters: tuple[tuple[str, str], ...]
    """Each letter of the word with its script (letters are never hidden characters)."""


@dataclass(frozen=True, slots=True)
class TextItemView:
    """What the job page shows for a revealed text item."""

    html: Markup
    post_id: str
    hits: tuple[TextHitRecord, ...]
    signals: tuple[tuple[TextSignalRecord, str], ...]
    """Each signal with its value made visible (hidden characters as badges)."""
    mixed_words: tuple[MixedWordView, ...]
    hidden_count: int
    account_score: dict[str, Any] | None


def hit_label(number: int, hit: TextHitRecord) -> str:
    hashtag = ", in a hashtag" if hit.in_hashtag else ""
    return (
        f"hit {number}: list {hit.list_name}, term {hit.term}, {hit.match_type} "
        f"({hit.mode} mode{hashtag}), weight {hit.weight:g}"
    )


def signal_label(number: int, signal: TextSignalRecord) -> str:
    service = f" ({signal.service})" if signal.service else ""
    return f"signal {number}: {signal.kind}{service}, confidence {signal.confidence:.2f}"


def _script_class(script: str) -> str:
    return "script-" + "".join(c for c in script.lower() if c.isalnum())


def render_segments(document: TextDocument, highlighted: Highlighted) -> Markup:
    """The text as HTML runs; hits are numbered from 1, signals after them."""
    labels = [hit_label(n, hit) for n, hit in enumerate(document.hits, start=1)]
    labels += [signal_label(n, s) for n, s in enumerate(document.signals, start=1)]
    hit_count = len(document.hits)
    parts: list[str] = []
    for segment in highlighted.segments:
        if segment.hidden is not None:
            inner = (
                f'<span class="hidden-char" title="{escape(segment.hidden_name or "")}">'
                f"\u27e8{escape(segment.hidden)}\u27e9</span>"
            )
        elif segment.script is not None:
            inner = (
                f'<span class="mixed-letter {_script_class(segment.script)}" '
                f'title="{escape(segment.script)} letter in a mixed-script word">'
                f"{escape(segment.text)}</span>"
            )
        elif segment.mixed is not None:
            inner = f'<span class="in-mixed">{escape(segment.text)}</span>'
        else:
            inner = str(escape(segment.text))
        if segment.hits:
            kinds = {"hit" if n < hit_count else "signal" for n in segment.hits}
            css = " ".join(sorted(kinds)) + (" overlap" if len(segment.hits) > 1 else "")
            title = "; ".join(labels[n] for n in segment.hits)
            numbers = " ".join(str(n + 1) for n in segment.hits)
            inner = (
                f'<mark class="{css}" title="{escape(title)}" data-spans="{numbers}">{inner}</mark>'
            )
        parts.append(inner)
    return Markup("".join(parts))  # noqa: S704  (every piece above is escaped)


def _mixed_view(text: str, word: MixedWord) -> MixedWordView:
    letters = tuple(
        (char, script)
        for char in text[word.start : word.end]
        if (script := script_of(char)) is not None
    )
    return MixedWordView(word.start, word.end, word.scripts, letters)


def text_item_view(document: TextDocument) -> TextItemView:
    spans = [Span(hit.start, hit.end) for hit in document.hits]
    spans += [Span(signal.start, signal.end) for signal in document.signals]
    highlighted = segment_text(document.text, spans)
    return TextItemView(
        html=render_segments(document, highlighted),
        post_id=visible(document.post_id),
        hits=document.hits,
        signals=tuple((signal, visible(signal.value)) for signal in document.signals),
        mixed_words=tuple(_mixed_view(document.text, w) for w in highlighted.mixed_words),
        hidden_count=sum(1 for s in highlighted.segments if s.hidden is not None),
        account_score=dict(document.account_score) if document.account_score else None,
    )


def load_text_view(store: EvidenceStore, item: Item) -> TextItemView | None:
    """The revealed view of a text item, or None when its document cannot be read (the page
    says so; the reviewer can still decide from the matches)."""
    if not item.media_ref:
        return None
    try:
        document = TextDocument.from_bytes(store.read(item.media_ref))
    except (NotFound, InvalidInput, StorageError, OSError) as exc:
        log.warning("text of item %s unavailable: %s", item.id, type(exc).__name__)
        return None
    return text_item_view(document)
