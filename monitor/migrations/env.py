"""Alembic environment: the connection is handed in by monitor.store (never a URL from a file)."""

from __future__ import annotations

from alembic import context

from monitor.db import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:  # offline mode: emit SQL for a URL given on the Config
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
