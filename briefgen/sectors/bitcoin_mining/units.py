"""Turn the mining sector's quantities into their printed form: 0.000434 BTC, 419 EH/s, 22.0 J/TH, HPC lease.

The sector's own units, beside the house's vocabulary (briefgen.formatting: its rounding rule, its
en dash for a missing value, its minus sign). FILTERS registers them in the sector's templates
(briefgen.sector.Sector.filters); the charts' alt text and the narrative call them directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from briefgen.formatting import ACRONYMS, MISSING, finite, label, num


def ehs(value: Any, digits: int | None = None, sign: bool = False) -> str:
    """419 EH/s, 12.4 EH/s: whole numbers from 100 EH/s up, one decimal below."""
    number = finite(value)
    if number is None:
        return MISSING
    places = digits if digits is not None else (0 if abs(number) >= 99.95 else 1)
    return f"{num(number, places, sign=sign)} EH/s"


def btc(value: Any, digits: int | None = None) -> str:
    """0.000434 BTC, 3.125 BTC, 512,094 BTC.

    Under 1 BTC three significant figures; up to 100 BTC at most three decimals (trailing zeros
    dropped, so a 3.125 BTC subsidy prints in full); from 100 BTC whole coins with separators.
    """
    number = finite(value)
    if number is None:
        return MISSING
    size = abs(number)
    if digits is not None:
        text = num(number, digits)
    elif size >= 99.9995:
        text = num(number, 0)
    elif size >= 0.9995:
        text = num(number, 3)
        text = text.rstrip("0").rstrip(".") if "." in text else text
    elif size == 0:
        text = "0"
    else:
        places = max(0, 2 - math.floor(math.log10(size)))
        text = num(number, places)
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text} BTC"


def j_per_th(value: Any) -> str:
    """22.0 J/TH: fleet efficiency, always one decimal (a day-weighted schedule value needs it)."""
    number = finite(value)
    return MISSING if number is None else f"{num(number, 1)} J/TH"


def difficulty(value: Any) -> str:
    """146.5T: network difficulty in trillions."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{num(number / 1e12, 1)}T"


# Unit words the nobreak filter keeps with their figure ("1,022 EH/s", "2,016 blocks"): Sector.units.
UNITS = ("EH/s", "PH/s", "TH/s", "J/TH", "BTC", "blocks")
DEAL_ACRONYMS = ACRONYMS | {"hpc", "ppa", "ercot", "btc"}


def deal_kind(value: Any) -> str:
    """deals.csv's kind as words, 'hpc_lease' -> 'HPC lease': the house's label with the sector's acronyms."""
    return label(value, DEAL_ACRONYMS)


FILTERS: dict[str, Callable[..., str]] = {
    "btc": btc,
    "ehs": ehs,
    "j_per_th": j_per_th,
    "difficulty": difficulty,
    "deal_kind": deal_kind,
}
