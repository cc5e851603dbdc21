"""A cluster certified nationally and by its province keeps the province's certification
date beside the national one: the province certified it first (national 第十二条 并已认定为
省级集群), and each measure counts its three years from its own certification. Null: one
date for every measure, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracked_clusters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provincial_certified_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tracked_clusters', schema=None) as batch_op:
        batch_op.drop_column('provincial_certified_on')
