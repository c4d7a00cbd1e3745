#!/usr/bin/env python3
"""Turn `python scripts/make_sample_inputs.py [DIR]` into the illustrative sample (make inputs).

The generator lives in the package (briefgen/sectors/bitcoin_mining/sample/), so an installed briefgen writes the same
files with `briefgen init DIR`; this script stays because the sample's brief.yaml names it.
"""

from __future__ import annotations

import sys

from briefgen.sectors.bitcoin_mining.sample.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
