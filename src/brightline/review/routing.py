"""Named queues and the ordered rules that choose a new job's queue.

Rules are evaluated in ``position`` order and the first whose conditions all hold wins; a job no
rule takes goes to the ``default`` queue, created on first use, so flagging never fails for
want of configuration. Routing happens once, when a job is created: changing the rules later
does not move jobs that are already queued (moving work under reviewers' feet would be
surprising, and the audit log records when the rules changed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from brightline.banks.models import IndustryClassification
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.models import Queue, RoutingRule
from brightline.review.upserts import insert_ignoring_conflict
from brightline.storage.base import utcnow

DEFAULT_QUEUE = "default"
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What the rules can look at: the matches and circumstances of a job's first item."""

    bank_names: frozenset[str]
    classifications: frozenset[str]
    signal_types: frozenset[str]
    source: str
    priority: int


def _check_queue_name(name: str) -> str:
    if not QUEUE_NAME.fullmatch(name):
        raise InvalidInput(
            "queue names are 1-100 characters: letters, digits, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return name


def create_queue(*, session: Session, name: str, actor: str, description: str = "") -> Queue:
    _check_queue_name(name)
    if session.scalar(select(Queue.id).where(Queue.name == name)) is not None:
        raise Conflict(f"a queue named {name!r} already exists")
    queue = Queue(name=name, description=description, created_at=utcnow())
    session.add(queue)
    session.flush()
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="queue",
        object_id=queue.id,
        detail={"setting": "queue_created"},
    )
    return queue


def get_queue(*, session: Session, name: str) -> Queue:
    queue = session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        raise NotFound(f"no queue named {name!r}")
    return queue


def list_queues(*, session: Session) -> list[Queue]:
    return list(session.scalars(select(Queue).order_by(Queue.name)))


def default_queue(*, session: Session) -> Queue:
    """The ``default`` queue, created here if missing (safe when two flaggers race)."""
    values = {
        "name": DEFAULT_QUEUE,
        "description": "Jobs no routing rule took.",
        "created_at": utcnow(),
    }
    insert_ignoring_conflict(session, Queue, values)
    return get_queue(session=session, name=DEFAULT_QUEUE)


def add_routing_rule(
    *,
    session: Session,
    queue_name: str,
    actor: str,
    position: int | None = None,
    bank_name: str | None = None,
    classification: str | None = None,
    signal_type: str | None = None,
    source: str | None = None,
    min_priority: int | None = None,
) -> RoutingRule:
    """Add a rule at ``position`` (default: after the last one)."""
    queue = get_queue(session=session, name=queue_name)
    if classification is not None:
        try:
            classification = IndustryClassification(classification).value
        except ValueError:
            raise InvalidInput(f"unknown industry classification {classification!r}") from None
    if position is None:
        position = (session.scalar(select(func.max(RoutingRule.position))) or 0) + 1
    elif session.scalar(select(RoutingRule.id).where(RoutingRule.position == position)):
        raise Conflict(f"a routing rule already has position {position}")
    rule = RoutingRule(
        position=position,
        queue_id=queue.id,
        bank_name=bank_name,
        classification=classification,
        signal_type=signal_type,
        source=source,
        min_priority=min_priority,
        created_at=utcnow(),
    )
    session.add(rule)
    session.flush()
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="routing_rule",
        object_id=rule.id,
        detail={"setting": "routing_rule_added", "queue_id": queue.id, "position": position},
    )
    return rule


def remove_routing_rule(*, session: Session, rule_id: int, actor: str) -> None:
    if session.get(RoutingRule, rule_id) is None:
        raise NotFound(f"no routing rule with id {rule_id}")
    session.execute(delete(RoutingRule).where(RoutingRule.id == rule_id))
    session.expire_all()
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="routing_rule",
        object_id=rule_id,
        detail={"setting": "routing_rule_removed"},
    )


def list_routing_rules(*, session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position)))


def rule_matches(rule: RoutingRule, facts: RoutingFacts) -> bool:
    """True when every condition the rule sets holds for ``facts``."""
    return (
        (rule.bank_name is None or rule.bank_name in facts.bank_names)
        and (rule.classification is None or rule.classification in facts.classifications)
        and (rule.signal_type is None or rule.signal_type in facts.signal_types)
        and (rule.source is None or rule.source == facts.source)
        and (rule.min_priority is None or facts.priority >= rule.min_priority)
    )


def route(*, session: Session, facts: RoutingFacts) -> Queue:
    """The queue of the first rule that matches ``facts``, else the default queue."""
    for rule in list_routing_rules(session=session):
        if rule_matches(rule, facts):
            queue = session.get(Queue, rule.queue_id)
            if queue is not None:
                return queue
    return default_queue(session=session)
