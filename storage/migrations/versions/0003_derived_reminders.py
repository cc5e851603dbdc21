"""Reminders derived from the calendar: only those sent are stored, under their unique key
(the INSERT is the claim); a tracked cluster notes when its next one falls due.

Every worker's sweep used to delete and insert the unsent rows again; two sweeps at once
could both send a row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:12:51.791970
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracked_clusters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_due_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_tracked_next_due', ['next_due_at'], unique=False)
    # The planned rows become the two columns, then go: the plan is derived from now on.
    unsent = "FROM reminders WHERE reminders.tracked_id = tracked_clusters.id AND reminders.sent_at IS NULL"
    op.execute(f"UPDATE tracked_clusters SET planned_at = COALESCE((SELECT MAX(created_at) {unsent}), created_at), "
               f"next_due_at = (SELECT MIN(due_at) {unsent})")
    op.execute("DELETE FROM reminders WHERE sent_at IS NULL")


def downgrade() -> None:
    # The earlier code plans again the clusters whose planned_until is unset.
    op.execute("UPDATE tracked_clusters SET planned_until = NULL")
    with op.batch_alter_table('tracked_clusters', schema=None) as batch_op:
        batch_op.drop_index('ix_tracked_next_due')
        batch_op.drop_column('next_due_at')
        batch_op.drop_column('planned_at')
