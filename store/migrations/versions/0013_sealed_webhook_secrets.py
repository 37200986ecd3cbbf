"""webhook secrets stored encrypted

Revision ID: 0013
Revises: 0012

* ``webhooks.secret`` holds the secret sealed with AES-256-GCM (``enc1:…``, privacy/secret_box.py),
  longer than the secret itself: 200 → 500 characters. Secrets stored in clear before are sealed
  by the server at its next start (``seal_plain_webhook_secrets``).
* ``alert_deliveries.status`` may now also be ``cancelled`` (the subscription was deleted while
  the delivery was pending); the column is unchanged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=200), type_=sa.String(length=500))


def downgrade() -> None:
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=500), type_=sa.String(length=200))
