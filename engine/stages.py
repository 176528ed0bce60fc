"""Case stages: moving a case to another stage, recorded in its history and as stage periods.

The periods (when a case entered and left each stage) are what the lead-time report measures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import history
from engine.models import Case, CaseStagePeriod


def change_stage(session: Session, case: Case, stage: str, *, now: datetime) -> None:
    """Put the case in `stage` (a no-op when it is there already)."""
    if stage == case.stage:
        return
    history.record(session, case, "stage_changed", f"Fase: {stage}", at=now, data={"from": case.stage, "to": stage})
    if case.stage is not None:
        leave_stage(session, case, now=now)
    session.add(CaseStagePeriod(case_id=case.id, stage=stage, entered_at=now))
    case.stage = stage


def leave_stage(session: Session, case: Case, *, now: datetime) -> None:
    """End the period of the stage the case is in (when it changes stage, or closes)."""
    session.execute(
        update(CaseStagePeriod)
        .where(CaseStagePeriod.case_id == case.id, CaseStagePeriod.left_at.is_(None))
        .values(left_at=now)
    )
