"""Alembic environment: runs on the connection the relay hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from inbox_app.relay.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through inbox_app.relay.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
