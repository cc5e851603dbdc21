"""The neutral outbox of the port branch (bot/delivery.py): leases, edits, refusals, and the
payload as the dialog's Reply. Rows written by the Telegram-only outbox ({"op": …} with HTML)
are rewritten as Reply JSON, so what a restart finds unsent is still sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:19:04.972622
"""
import html
import json
import re

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edit_of', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sent_message_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refused_reason', sa.String(length=500), nullable=True))
        batch_op.drop_index(batch_op.f('ix_outbox_unsent'))
        batch_op.create_index('ix_outbox_unsent', ['sent_at', 'refused_at', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_chat', ['channel', 'chat_id', 'id'], unique=False)
    connection = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("payload", sa.Text),
                      sa.column("edit_of", sa.String))
    for row_id, payload in connection.execute(sa.select(outbox.c.id, outbox.c.payload)).all():
        old = json.loads(payload)
        if "op" in old:
            reply, edit_of = _as_reply(old)
            connection.execute(outbox.update().where(outbox.c.id == row_id)
                               .values(payload=json.dumps(reply, ensure_ascii=False), edit_of=edit_of))


def _as_reply(old: dict) -> tuple[dict, str | None]:
    """An {"op": send | edit | document} payload of the Telegram outbox as Reply.to_json()."""
    text = html.unescape(re.sub(r"</?b>", "", old.get("text", "")))
    buttons = [[b["text"], b["data"]] for row in old.get("keyboard") or [] for b in row]
    documents = [[old["filename"], old["content"]]] if old["op"] == "document" else []
    reply = {"text": text, "kind": "info", "choices": buttons, "actions": [], "replace": old["op"] == "edit",
             "chosen": None, "headings": [], "documents": documents}
    return reply, (str(old["message_id"]) if old["op"] == "edit" else None)


def downgrade() -> None:
    # The payloads stay Reply JSON: the earlier code cannot send those rows.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_chat')
        batch_op.drop_index('ix_outbox_unsent')
        batch_op.create_index(batch_op.f('ix_outbox_unsent'), ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.drop_column('refused_reason')
        batch_op.drop_column('refused_at')
        batch_op.drop_column('sent_message_id')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('edit_of')
