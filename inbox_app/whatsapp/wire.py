"""Serialising bodies the way Meta does, so signatures are tested as they fail in production."""

from __future__ import annotations

import json
from typing import Any


def meta_json_bytes(payload: Any) -> bytes:
    r"""JSON with ``\uXXXX`` escapes (lowercase hex) and ``\/`` for slashes, as Meta sends it."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")
