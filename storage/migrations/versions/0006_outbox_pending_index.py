"""The outbox's rows still to send indexed alone (a partial index), in place of the indexes
of every row by its sending times and by its chat: a turn, a claim and an idle tick had read
through every row of the chat, or of the channel, ever sent. A sent message is found by its
id (what a press was made on) through an index that begins with it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UNFINISHED = "sent_at IS NULL AND refused_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent')
        batch_op.drop_index('ix_outbox_chat')
        batch_op.create_index('ix_outbox_pending', ['channel', 'chat_id', 'id'], unique=False,
                              sqlite_where=sa.text(UNFINISHED), postgresql_where=sa.text(UNFINISHED))
        batch_op.create_index('ix_outbox_sent', ['sent_message_id', 'chat_id', 'channel'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_sent')
        batch_op.drop_index('ix_outbox_pending')
        batch_op.create_index('ix_outbox_chat', ['channel', 'chat_id', 'id'], unique=False)
        batch_op.create_index('ix_outbox_unsent', ['sent_at', 'refused_at', 'next_attempt_at'], unique=False)
