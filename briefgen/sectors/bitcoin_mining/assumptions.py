"""Turn the desk's cost assumptions (single numbers or dated schedules) into the values in force over a window.

brief.yaml gives each assumption as one number or as a schedule, a value from each date on:

    fleet_efficiency_j_per_th: {2024-09-01: 27.1, 2025-02-01: 25.8, 2025-05-01: 24.7, 2025-12-01: 22.5}

A day uses the latest value dated on or before it; days before the first date use the first value.
A window that spans a change uses the day-weighted mean of its days' values, and its power cost per
EH/s is the mean of its days' power costs. That is what the desk's own figures behave like: the
efficiency its published gross profit implies falls month by month (27.1 J/TH in Sep 2024, 22.5 in
Dec 2025, DOMAIN.md), so a window of 18 Dec - 14 Jan is half a December fleet and half a January one,
not all of either. A window inside one step (every calendar month of a schedule dated on the 1st)
uses that step's value exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

DEFAULT_POWER_PRICE_USD_PER_KWH = 0.04
DEFAULT_FLEET_EFFICIENCY_J_PER_TH = 22.0


@dataclass(frozen=True)
class Schedule:
    """An assumption's values, each in force from its date on; `start is None` for one undated number."""

    steps: tuple[tuple[date | None, float], ...]

    @classmethod
    def of(cls, value: float | Schedule) -> Schedule:
        """A schedule as given, or a single number as a schedule of one undated step."""
        return value if isinstance(value, Schedule) else cls(((None, float(value)),))

    @property
    def dated(self) -> bool:
        return any(start is not None for start, _ in self.steps)

    def on(self, day: date) -> float:
        """The value in force on `day`: the latest step dated on or before it, else the first."""
        value = self.steps[0][1]
        for start, step_value in self.steps:
            if start is None or start <= day:
                value = step_value
            else:
                break
        return value

    def as_plain(self) -> float | dict[str, float]:
        """A number as brief.yaml gave it, or {date: value} for a schedule (JSON-ready)."""
        if not self.dated:
            return self.steps[0][1]
        return {start.isoformat() if start else "": value for start, value in self.steps}


@dataclass(frozen=True)
class InForce:
    """The assumptions a window used: day-weighted means over its days, and whether a step fell inside it."""

    power_price_usd_per_kwh: float
    fleet_efficiency_j_per_th: float
    power_cost_usd_per_eh_day: float
    spans_change: bool

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "power_price_usd_per_kwh": self.power_price_usd_per_kwh,
            "fleet_efficiency_j_per_th": self.fleet_efficiency_j_per_th,
            "power_cost_usd_per_eh_day": self.power_cost_usd_per_eh_day,
            "spans_change": self.spans_change,
        }


def _mean(values: list[float]) -> float:
    """The mean; a window inside one step gets that step's value exactly (no rounding from summing)."""
    return values[0] if len(set(values)) == 1 else sum(values) / len(values)


def power_cost(efficiency_j_per_th: float, power_usd_per_kwh: float) -> float:
    """24 x e x p: 1 EH/s at e J/TH draws e MW, for 24 hours at p $/MWh."""
    return 24.0 * efficiency_j_per_th * power_usd_per_kwh * 1000.0


@dataclass(frozen=True)
class Assumptions:
    """The desk's documented cost assumptions behind gross margin: numbers or dated schedules."""

    power_price_usd_per_kwh: float | Schedule = DEFAULT_POWER_PRICE_USD_PER_KWH
    fleet_efficiency_j_per_th: float | Schedule = DEFAULT_FLEET_EFFICIENCY_J_PER_TH
    _schedules: tuple[Schedule, Schedule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_schedules", (Schedule.of(self.power_price_usd_per_kwh), Schedule.of(self.fleet_efficiency_j_per_th))
        )

    @property
    def power_price(self) -> Schedule:
        return self._schedules[0]

    @property
    def fleet_efficiency(self) -> Schedule:
        return self._schedules[1]

    @property
    def dated(self) -> bool:
        return self.power_price.dated or self.fleet_efficiency.dated

    def over(self, days: Iterable[date]) -> InForce:
        """The values in force over these days (a window's days of data), day-weighted."""
        prices, efficiencies, costs = [], [], []
        for day in days:
            price, efficiency = self.power_price.on(day), self.fleet_efficiency.on(day)
            prices.append(price)
            efficiencies.append(efficiency)
            costs.append(power_cost(efficiency, price))
        if not costs:  # no days: the first values, as for a day before any schedule starts
            price, efficiency = self.power_price.steps[0][1], self.fleet_efficiency.steps[0][1]
            return InForce(price, efficiency, power_cost(efficiency, price), False)
        return InForce(
            power_price_usd_per_kwh=_mean(prices),
            fleet_efficiency_j_per_th=_mean(efficiencies),
            power_cost_usd_per_eh_day=_mean(costs),
            spans_change=len(set(prices)) > 1 or len(set(efficiencies)) > 1,
        )

    def as_dict(self) -> dict[str, float | dict[str, float]]:
        return {
            "power_price_usd_per_kwh": self.power_price.as_plain(),
            "fleet_efficiency_j_per_th": self.fleet_efficiency.as_plain(),
        }


# --- brief.yaml: a schedule given as {date: value} ------------------------------------------------

# Each assumption's bounds (exclusive low, inclusive high) and the fix for a value outside them:
# out-of-range values are usually a unit slip, so the fix names the unit.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "power_price_usd_per_kwh": (0.0, 1.0, "give dollars per kWh, e.g. 0.04 for $40/MWh"),
    "fleet_efficiency_j_per_th": (1.0, 200.0, "give joules per terahash, e.g. 22"),
}
DATE_FIX = "write each date as YYYY-MM-DD"


def _schedule_date(day: object) -> date | None:
    """A schedule's key as a calendar date: a YAML date without a time, or the text YYYY-MM-DD; else None."""
    if isinstance(day, date) and not hasattr(day, "hour"):
        return day
    if isinstance(day, str) and len(day.strip()) == 10:
        try:
            return date.fromisoformat(day.strip())
        except ValueError:
            return None
    return None


def parse_schedule(name: str, entries: dict, problem) -> Schedule | None:
    """Check a {date: value} schedule for assumption `name`; `problem(key, message, fix)` records each fault.

    Dates must be calendar dates without a time, values plain positive numbers inside the
    assumption's bounds. Returns None when anything is wrong (every fault is recorded).
    """
    key = f"assumptions.{name}"
    if not entries:
        problem(key, "the schedule has no dates", "give one or more 'YYYY-MM-DD: value' lines, or a single number")
        return None
    low, high, unit_fix = BOUNDS[name]
    steps: list[tuple[date, float]] = []
    ok = True
    for day, value in entries.items():
        start = _schedule_date(day)
        if start is None:
            problem(key, f"{str(day)[:40]!r} is not a date", DATE_FIX)
            ok = False
            continue
        where = f"{key}.{start.isoformat()}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = "" if isinstance(value, (dict, list)) or value is None else f", got {str(value)[:60]!r}"
            problem(where, f"expected a number{shown}", "write a plain number, without units")
            ok = False
        elif not low < float(value) <= high:
            problem(where, f"must be above {low:g} and at most {high:g}, got {float(value):g}", unit_fix)
            ok = False
        else:
            steps.append((start, float(value)))
    if not ok:
        return None
    steps.sort()
    return Schedule(tuple(steps))
