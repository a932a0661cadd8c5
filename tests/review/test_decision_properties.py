"""Property: whatever sequence of claims, releases and decide calls, a job is settled at most once.

Hypothesis drives random interleavings of two reviewers (double submissions, reused and fresh
idempotency keys, stale tokens, expired claims, second opinions) against one real database.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import Conflict
from brightline.review import (
    AuditAction,
    Claim,
    Decision,
    DecisionKind,
    DecisionStatus,
    claim_job,
    decide,
    job_items,
    query_audit,
    release,
)
from brightline.review.models import FINAL_DECISIONS
from brightline.storage import session_factory
from tests.factories import flip_bits, random_pdq
from tests.review.helpers import NOW, flag

REVIEWERS = ("alice", "bob")
_examples = itertools.count()

steps = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.sampled_from(REVIEWERS)),
        st.tuples(st.just("release"), st.sampled_from(REVIEWERS)),
        st.tuples(
            st.just("decide"),
            st.sampled_from(REVIEWERS),
            st.integers(0, 2),
            st.sampled_from(list(DecisionKind)),
        ),
        st.tuples(st.just("wait"), st.integers(1, 20)),
    ),
    max_size=14,
)


def run(session: Session, actions: list[tuple[object, ...]], example: int) -> int:
    """Play ``actions`` against one freshly flagged near-duplicate pair; returns the job id."""
    rng = random.Random(example)
    base = random_pdq(rng)
    anchor = flag(session, 2 * example, 3 * example, pdq=base)
    flag(
        session,
        2 * example + 1,
        3 * example + 1,
        pdq=flip_bits(base, 3, rng),
    )
    job_id = anchor.job.id
    claims: dict[str, Claim] = {}
    now = NOW
    for action in actions:
        try:
            if action[0] == "claim":
                reviewer = str(action[1])
                claims[reviewer] = claim_job(
                    session=session,
                    job_id=job_id,
                    reviewer=reviewer,
                    now=now,
                    lease=timedelta(minutes=10),
                )
            elif action[0] == "release":
                reviewer = str(action[1])
                token = claims[reviewer].token if reviewer in claims else "none"
                release(session=session, job_id=job_id, reviewer=reviewer, token=token, now=now)
            elif action[0] == "decide":
                reviewer, key, kind = str(action[1]), action[2], DecisionKind(str(action[3]))
                needs_class = kind in {DecisionKind.CONFIRM, DecisionKind.ESCALATE}
                decide(
                    session=session,
                    job_id=job_id,
                    reviewer=reviewer,
                    lock_token=claims[reviewer].token if reviewer in claims else "none",
                    kind=kind,
                    classification="B1" if needs_class else None,
                    reason="placeholder reason",
                    idempotency_key=f"ex{example}-{reviewer}-{key}",
                    now=now,
                )
            else:
                now += timedelta(minutes=int(str(action[1])))
        except Conflict:
            pass
    return job_id


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=steps)
def test_a_job_is_settled_at_most_once(engine: Engine, actions: list[tuple[object, ...]]) -> None:
    example = next(_examples)
    sessions: sessionmaker[Session] = session_factory(engine)
    with sessions.begin() as session:
        job_id = run(session, actions, example)
    with sessions() as session:
        decisions = list(session.scalars(select(Decision).where(Decision.job_id == job_id)))
        assert all(d.status == DecisionStatus.APPLIED for d in decisions)
        final = [d for d in decisions if d.kind in FINAL_DECISIONS]
        assert len(final) <= 1
        items = job_items(session=session, job_id=job_id)
        expected = final[0].id if final else None
        assert [item.decision_id for item in items] == [expected, expected]
        assert not any(item.viewed_by_person for item in items)  # nobody revealed anything
        audited = query_audit(
            session=session, action=AuditAction.DECIDE, object_type="job", object_id=job_id
        )
        assert len(audited) == len(decisions)
        assert session.scalar(
            select(func.count())
            .select_from(Decision)
            .where(Decision.job_id == job_id, Decision.kind.in_([k.value for k in FINAL_DECISIONS]))
        ) == len(final)
