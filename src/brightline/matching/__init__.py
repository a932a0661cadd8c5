"""Matching: content (or its signals) against every enabled bank."""

from brightline.matching.service import Match, MatchResult, MatchStatus, match_content

__all__ = ["Match", "MatchResult", "MatchStatus", "match_content"]
