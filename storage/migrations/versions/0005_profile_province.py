"""The cluster's province (dialog): another province's measure is shown for comparison.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:40:53.888041
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_column('province')
