"""Turn `python -m briefgen.sectors.bitcoin_mining.sample [DIR]` into the sample inputs in DIR (default: inputs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from briefgen.sectors.bitcoin_mining.sample import write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write briefgen's illustrative sample inputs (deterministic).")
    parser.add_argument("out", nargs="?", default="inputs", type=Path, help="folder to write (default: inputs)")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
