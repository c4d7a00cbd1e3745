"""Turn a brief version and a client into the names their delivery carries: Message-ID and attachment name.

Both are pure and stable: the same brief and client give the same Message-ID on every run and every
retry (what makes a delivery exactly-once at the receiving end too), and the attachment is named
from the brief's title in plain ASCII.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def message_id(version: str, client_id: str, domain: str) -> str:
    """The Message-ID of a (brief version, client) pair: the same on every run and every retry."""
    domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    client = hashlib.sha256(client_id.encode("utf-8")).hexdigest()[:16]
    return f"<briefgen.{version[:16]}.{client}@{domain}>"


def attachment_name(title: str | None, brief: Path, limit: int = 80) -> str:
    """The attachment's file name from the title: ASCII words joined by '-', never cut mid-word."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", title or "") if w]
    kept: list[str] = []
    for word in words:
        if len("-".join([*kept, word])) > limit:
            break
        kept.append(word)
    return f"{'-'.join(kept) or brief.stem}.pdf"  # one word too long for the limit: the brief's own name
