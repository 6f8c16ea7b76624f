"""Recording and reading consent; each change is an event staff see at once."""

from __future__ import annotations

import time

from sqlalchemy import Connection, select

from inbox_app.domain.consent import ConsentPurpose, ConsentRecord, ConsentSource

from .db import consents
from .store import Store


class Consents:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        conn: Connection,
        *,
        wa_id: str,
        purposes: list[ConsentPurpose],
        granted: bool,
        source: ConsentSource,
        at: float | None = None,
    ) -> list[ConsentRecord]:
        """Append the new state for each purpose (in the caller's transaction)."""
        at = time.time() if at is None else at
        out = []
        for purpose in purposes:
            result = conn.execute(
                consents.insert().values(
                    wa_id=wa_id, purpose=purpose.value, granted=granted, source=source.value, at=at
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            record = ConsentRecord(wa_id, purpose, granted, source, at)
            self.store._append(conn, "consent", int(pk[0]), record.to_json())
            out.append(record)
        return out

    @staticmethod
    def current(conn: Connection, wa_id: str, purpose: ConsentPurpose) -> ConsentRecord | None:
        """The latest recorded choice, or None when the patient never said."""
        row = conn.execute(
            select(consents)
            .where(consents.c.wa_id == wa_id, consents.c.purpose == purpose.value)
            .order_by(consents.c.at.desc(), consents.c.id.desc())
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        return ConsentRecord(
            row.wa_id,
            ConsentPurpose(row.purpose),
            bool(row.granted),
            ConsentSource(row.source),
            row.at,
        )
