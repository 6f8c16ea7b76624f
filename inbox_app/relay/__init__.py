"""The relay: webhook ingest, store, change feed, commands, auth, outbox worker."""
