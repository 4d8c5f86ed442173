"""webhook secrets sealed: room for the token (services/notify/sealing.py)

Revision ID: 5e1d0c9a7b21
Revises: 38b1a0825f80
Create Date: 2026-11-27 05:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5e1d0c9a7b21'
down_revision = '38b1a0825f80'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=100),
                              type_=sa.String(length=300), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=300),
                              type_=sa.String(length=100), existing_nullable=False)
