"""bus_requests: stored replies of write RPCs

One row per write RPC answered (``shared.bus.requests``): its consumer and request key, a
fingerprint of its arguments and its reply, pruned with the inbox by ``jiceng prune``.

Revision ID: a1765d43891c
Revises: ff44d4f1b5e4
Create Date: 2026-11-26 22:24:02.615581
"""
from alembic import op
import sqlalchemy as sa


revision = 'a1765d43891c'
down_revision = 'ff44d4f1b5e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bus_requests',
    sa.Column('consumer', sa.String(length=200), nullable=False),
    sa.Column('request_key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'request_key')
    )
    op.create_index('ix_bus_requests_created_at', 'bus_requests', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_bus_requests_created_at', table_name='bus_requests')
    op.drop_table('bus_requests')
