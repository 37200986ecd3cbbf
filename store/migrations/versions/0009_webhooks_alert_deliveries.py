"""webhook subscriptions and the alert outbox

Revision ID: 0009
Revises: 0008

* ``webhooks``: where alerts go, the secret they are signed with, which events (issue 13).
* ``alert_deliveries``: the durable outbox: each alert is written in the same transaction as what
  caused it, then delivered with retries and kept with its status, attempts and response code.
  One per subscription and cause (``dedupe_key``): a window alert fires once per period.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('events', sa.String(length=100), nullable=False),
        sa.Column('min_level', sa.String(length=10), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'alert_deliveries',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('webhook_id', sa.Integer(), sa.ForeignKey('webhooks.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('event', sa.String(length=20), nullable=False),
        sa.Column('dedupe_key', sa.String(length=300), nullable=False),
        sa.Column('call_id', sa.String(length=36), nullable=True, index=True),
        sa.Column('payload_json', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False, index=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('webhook_id', 'dedupe_key', name='uq_alert_deliveries_webhook_dedupe'),
    )


def downgrade() -> None:
    op.drop_table('alert_deliveries')
    op.drop_table('webhooks')
