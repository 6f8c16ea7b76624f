"""The Alembic migrations build exactly the schema the code expects, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from inbox_app.relay.db import Database, metadata


def test_migrations_match_the_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.create_schema()
        db.create_schema()  # a second start changes nothing
        with db.writer.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        db.dispose()


def test_the_migrations_have_one_head() -> None:
    # Parallel branches must be merged, or /readyz could never agree on "at head".
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from inbox_app.relay.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
