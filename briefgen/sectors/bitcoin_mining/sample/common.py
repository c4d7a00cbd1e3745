"""Turn the sample's seed and dates into the shared constants and helpers of its generators."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

# One seed; each component draws from its own child stream (see _rng). Among seeds 20260115-44 this
# one puts the difficulty nearest the public record (~157T on 29 Oct 2025, ~148T in late December)
# with no retarget above 10%.
SEED = 20260121

FIRST_DAY = date(2024, 4, 1)
LAST_DAY = date(2026, 1, 15)
AS_OF = date(2026, 1, 15)
PERIOD = (date(2026, 1, 1), date(2026, 1, 14), "first two weeks of January")
COMPARE = (date(2025, 12, 18), date(2025, 12, 31), "late December")
DECEMBER = (date(2025, 12, 1), date(2025, 12, 31))
EARLY_DECEMBER = (date(2025, 12, 1), date(2025, 12, 17))

HOUSE = "Northgate Securities"
ANALYSTS = (
    ("Dana Whitfield", "dana.whitfield@northgate-securities.example", "+1 212 555 0142"),
    ("Marcus Oyelaran", "marcus.oyelaran@northgate-securities.example", "+1 212 555 0178"),
)
POWER_PRICE_USD_PER_KWH = 0.04
FLEET_EFFICIENCY_J_PER_TH = 22.0


def _rng(stream: int) -> np.random.Generator:
    """A child generator per component, so changing one component never shifts another's draws."""
    return np.random.default_rng([SEED, stream])


def _d(text: str) -> date:
    return date.fromisoformat(text)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def interp_knots(days: list[date], knots, log: bool = False) -> np.ndarray:
    """Interpolate dated knots onto days (linear, or log-linear); flat beyond the first/last knot."""
    x = np.array([_d(k).toordinal() for k, _ in knots], dtype=float)
    y = np.array([v for _, v in knots], dtype=float)
    t = np.array([d.toordinal() for d in days], dtype=float)
    if log:
        return np.exp(np.interp(t, x, np.log(y)))
    return np.interp(t, x, y)


def ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """A stationary AR(1) path (mean 0, innovation sigma), started from its stationary law."""
    shocks = rng.standard_normal(n) * sigma
    out = np.empty(n)
    out[0] = shocks[0] / math.sqrt(1 - phi * phi)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out
