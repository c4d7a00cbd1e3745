"""Time marked copies of a finished brief: the distribution half of `make bench`.

bench_distribution(pdf_path, n) stamps n copies for n distinct clients through the library (the
same Stamper, StampFont and trace mark that `briefgen distribute` uses), encrypting a share of them with
AES-256 as clients with a password get, and reports seconds per copy. scripts/bench.py compares that
with the time of one full `briefgen build`: a copy must cost under a fiftieth of a build.

Run alone: python scripts/bench_distribute.py [output/brief.pdf] [n]
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from briefgen.stamp import StampFont, Stamper, stamp_text
from briefgen.trace import copy_mark

ENCRYPTED_SHARE = 0.1  # one client in ten has a password


def bench_distribution(pdf_path: Path | str, n: int = 1000, encrypted_share: float = ENCRYPTED_SHARE) -> dict:
    """Stamp n copies of the PDF (every 1/encrypted_share-th one encrypted); return the timings."""
    pdf = Path(pdf_path).read_bytes()
    version = hashlib.sha256(pdf).hexdigest()
    key = bytes(32)  # distribute reads the output folder's key; any 32 bytes cost the same
    every = max(1, round(1 / encrypted_share)) if encrypted_share > 0 else 0
    # Names with accents and other scripts, as a real client list has; each stamp is distinct.
    texts = [stamp_text(f"Client {i} Łukasiewicz-Ørsted, Firm {i} Ζήτα Капитал", "15 Jan 2026") for i in range(n)]

    started = time.perf_counter()
    stamper = Stamper(pdf, StampFont.for_texts(texts))  # once per run: parse the brief, subset the font
    setup = time.perf_counter() - started

    plain_time = encrypted_time = 0.0
    plain = encrypted = 0
    size = 0
    for i, text in enumerate(texts):
        password = f"pw-{i}" if every and i % every == 0 else None
        t0 = time.perf_counter()
        copy = stamper.copy(text, {"/Subject": text, "/Recipient": f"Client {i}"}, password,
                            copy_mark(key, version, f"client-{i}"))  # the trace mark, as distribute stamps it
        hashlib.sha256(copy).hexdigest()  # the manifest hashes every copy
        elapsed = time.perf_counter() - t0
        size += len(copy)
        if password:
            encrypted_time += elapsed
            encrypted += 1
        else:
            plain_time += elapsed
            plain += 1
    total = setup + plain_time + encrypted_time
    return {
        "copies": n,
        "encrypted": encrypted,
        "pages": stamper.page_count,
        "brief_bytes": len(pdf),
        "mean_copy_bytes": round(size / n) if n else 0,
        "setup_seconds": round(setup, 4),
        "seconds": round(total, 3),
        "seconds_per_copy": total / n if n else 0.0,  # the one-off setup included
        "seconds_per_plain_copy": plain_time / plain if plain else 0.0,
        "seconds_per_encrypted_copy": encrypted_time / encrypted if encrypted else 0.0,
    }


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("output/brief.pdf")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print(json.dumps(bench_distribution(path, count), indent=2))
