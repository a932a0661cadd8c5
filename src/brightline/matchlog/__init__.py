"""The match log: every match the service reports, queryable by time, bank and signal type."""

from brightline.matchlog.models import MatchEvent
from brightline.matchlog.service import MatchSource, query_match_events, record_matches

__all__ = ["MatchEvent", "MatchSource", "query_match_events", "record_matches"]
