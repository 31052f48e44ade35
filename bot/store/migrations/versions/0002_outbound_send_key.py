"""outbound messages: idempotency key and send start time

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.store.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('send_started_at', bot.store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('uq_message_send_key', ['send_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('uq_message_send_key')
        batch_op.drop_column('send_started_at')
        batch_op.drop_column('send_key')
