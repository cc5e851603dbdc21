"""users.last_tracked_number: a tracked cluster's number is taken by one UPDATE … RETURNING,
not computed as max + 1 (two workers at once would both take the same).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 02:06:41.678622
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_tracked_number', sa.Integer(), server_default='0', nullable=False))
    # Numbers are never reused: continue after the highest one each user had.
    op.execute("UPDATE users SET last_tracked_number = "
               "(SELECT COALESCE(MAX(number), 0) FROM tracked_clusters WHERE tracked_clusters.user_id = users.id)")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_tracked_number')
