"""x_charges: what X billed, one row per (UTC day, unit, item)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'x_charges',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('day', 'unit', 'item'),
    )


def downgrade() -> None:
    op.drop_table('x_charges')
