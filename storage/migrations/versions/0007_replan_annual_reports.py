"""Every tracked cluster planned again: the annual reports due in the certification year,
after the certification day, are owed too (engine/deadlines.py; 每年…前 names no exception),
and a plan made before counted from the following year, so a cluster certified 2026-02-28
was told nothing of 2026-03-31. No column changes: the plan is derived from the calendar,
and a cluster with no `planned_until` is planned again by the next sweep
(storage.tracking.extend_plans); its `next_due_at` is cleared with it, so that no sweep
takes it before then.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 07:30:00
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

REPLAN = "UPDATE tracked_clusters SET planned_until = NULL, next_due_at = NULL WHERE stopped_at IS NULL"


def upgrade() -> None:
    op.execute(REPLAN)


def downgrade() -> None:
    op.execute(REPLAN)  # the earlier reading plans again too
