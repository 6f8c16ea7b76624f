"""The desktop engine without Qt: relay client, sync, outbox, encrypted cache, keys."""
