"""Turn brief.yaml and command-line overrides into a BriefConfig, collecting every problem."""

from __future__ import annotations

import calendar
import difflib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from briefgen.sectors.bitcoin_mining.assumptions import (
    BOUNDS,
    DEFAULT_FLEET_EFFICIENCY_J_PER_TH,
    DEFAULT_POWER_PRICE_USD_PER_KWH,
    Assumptions,
    Schedule,
    parse_schedule,
)
from briefgen.inputs.cells import INVISIBLE_FIX, invisible
from briefgen.errors import ConfigError, InputError, Problem

__all__ = ["Assumptions", "BriefConfig", "Schedule", "Window", "load_config", "parse_config", "prior_month"]

CONFIG_FILE = "brief.yaml"
DEFAULT_HOUSE = "briefgen Research"
MIN_DEFAULT_PERIOD_DAYS = 7


@dataclass(frozen=True)
class Window:
    """An inclusive range of UTC days with the label the brief prints for it."""

    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


@dataclass(frozen=True)
class Analyst:
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class BriefConfig:
    """Everything the brief is configured with; windows are filled in once the data's dates are known."""

    title: str | None = None
    as_of: date | None = None
    period: Window | None = None
    compare: Window | None = None
    assumptions: Assumptions = field(default_factory=Assumptions)
    analysts: tuple[Analyst, ...] = ()
    house: str = DEFAULT_HOUSE
    takeaways: Literal["replace", "extend"] = "replace"
    deals_since: date | None = None  # list deals after this day (the previous brief's), not those in the period
    embargo_hours: tuple[tuple[str, float], ...] = ()  # (tier, hours after publication), from distribution:


# --- brief.yaml schema -----------------------------------------------------------------------

_Text = Field(default=None, max_length=300)


def _visible(value: str | None) -> str | None:
    """Refuse a name or title holding a character that changes how it reads (a bidi override, a zero-width space)."""
    if value is not None and (hidden := invisible(value)):
        raise PydanticCustomError("invisible_character", "holds an invisible character, {hidden}", {"hidden": hidden})
    return value


class _WindowModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date
    end: date
    label: str | None = Field(default=None, max_length=120)

    @field_validator("label")
    @classmethod
    def _label_visible(cls, value: str | None) -> str | None:
        return _visible(value)


class _AssumptionsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A single number here; a dated schedule ({date: value}) is taken out before and checked by parse_schedule.
    power_price_usd_per_kwh: float = Field(default=DEFAULT_POWER_PRICE_USD_PER_KWH,
                                           gt=BOUNDS["power_price_usd_per_kwh"][0], le=BOUNDS["power_price_usd_per_kwh"][1])
    fleet_efficiency_j_per_th: float = Field(default=DEFAULT_FLEET_EFFICIENCY_J_PER_TH,
                                             gt=BOUNDS["fleet_efficiency_j_per_th"][0], le=BOUNDS["fleet_efficiency_j_per_th"][1])


class _AnalystModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)

    @field_validator("name", "phone")
    @classmethod
    def _visible_text(cls, value: str | None) -> str | None:
        return _visible(value)


class _DistributionModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # tier (as clients.csv writes it) -> hours after publication before its clients are served
    embargo_hours: dict[str | int, float] = Field(default_factory=dict, max_length=50)

    @field_validator("embargo_hours")
    @classmethod
    def _hours(cls, value: dict) -> dict:
        for tier, hours in value.items():
            if not 0 <= hours <= 24 * 31:
                raise ValueError(f"the embargo for tier {tier} must be between 0 and 744 hours (31 days)")
        return value


class _BriefModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = _Text
    as_of: date | None = None
    period: _WindowModel | None = None
    compare: _WindowModel | None = None
    assumptions: _AssumptionsModel = Field(default_factory=_AssumptionsModel)
    analysts: list[_AnalystModel] = Field(default_factory=list, max_length=20)
    house: str | None = Field(default=None, max_length=120)
    takeaways: Literal["replace", "extend"] = "replace"
    deals_since: date | None = None
    distribution: _DistributionModel = Field(default_factory=_DistributionModel)

    @field_validator("title", "house")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("must be a single line")
        return _visible(value)


# pydantic error types -> (our message, how to fix); others keep pydantic's own message.
_MESSAGES = {
    "date_from_datetime_parsing": ("expected a date", "write the date as YYYY-MM-DD"),
    "date_from_datetime_inexact": ("expected a date without a time", "write the date as YYYY-MM-DD"),
    "date_parsing": ("expected a date", "write the date as YYYY-MM-DD"),
    "date_type": ("expected a date", "write the date as YYYY-MM-DD"),
    "float_parsing": ("expected a number", "write a plain number, without units"),
    "float_type": ("expected a number", "write a plain number, without units"),
    "string_type": ("expected text", "put the text in quotes"),
    "model_type": ("expected keys and values", "indent the keys below it"),
    "model_attributes_type": ("expected keys and values", "indent the keys below it"),
    "list_type": ("expected a list", "start each item with '- '"),
    "missing": ("missing", "add it"),
    "literal_error": ("expected {expected}", "write one of those values"),
    "less_than_equal": ("must be at most {le}", "check the figure and its unit"),
    "less_than": ("must be below {lt}", "check the figure and its unit"),
    "greater_than": ("must be above {gt}", "check the figure and its unit"),
    "greater_than_equal": ("must be at least {ge}", "check the figure and its unit"),
    "string_too_short": ("must not be empty", "fill it in, or delete the key"),
    "string_too_long": ("is longer than {max_length} characters", "shorten it"),
    "too_long": ("has more than {max_length} items", "shorten the list"),
    "bool_type": ("expected true or false", "write true or false"),
    "invisible_character": ("holds an invisible character, {hidden}", INVISIBLE_FIX),
}
# Keys whose out-of-range values are usually a unit slip: the fix names the unit.
_UNIT_FIXES = {f"assumptions.{name}": fix for name, (_low, _high, fix) in BOUNDS.items()}
MAX_CONFIG_BYTES = 64 * 1024


_BRACKETS = {"while parsing a flow mapping": "'{'", "while parsing a flow sequence": "'['"}


class _DuplicateKey(yaml.constructor.ConstructorError):
    """A mapping that gives the same key twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice is an error, not a silent overwrite."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: PyYAML's own check below reports it
            if first != key_node.start_mark.line + 1:
                raise _DuplicateKey(None, None, f"key '{key}' appears twice (first on line {first})", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):  # type: ignore[override]
        # PyYAML raises a bare ValueError for '2026-13-01'; keep the text, and the schema says what is wrong.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp)


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _describe(error: dict[str, Any], known: dict[str, list[str]]) -> Problem:
    loc = tuple(error["loc"])
    key = _key_path(loc)
    if error["type"] == "extra_forbidden":
        parent = _key_path(tuple(p for p in loc[:-1] if not isinstance(p, int)))
        close = difflib.get_close_matches(str(loc[-1]), known.get(parent, []), n=1)
        fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known.get(parent, []))}"
        return Problem(CONFIG_FILE, f"key '{key}': unknown key", fix=fix)
    got = error.get("input")
    got_text = "" if isinstance(got, (dict, list)) or got is None else f", got {str(got)[:60]!r}"
    message, fix = _MESSAGES.get(error["type"], (error["msg"].removeprefix("Value error, "), None))
    try:
        message = message.format(**{k: f"{v:g}" if isinstance(v, float) else v for k, v in error.get("ctx", {}).items()})
    except (KeyError, IndexError, ValueError):
        pass  # a placeholder pydantic did not fill: keep the message as written
    if error["type"] in ("less_than_equal", "less_than", "greater_than", "greater_than_equal"):
        fix = _UNIT_FIXES.get(_key_path(tuple(p for p in loc if not isinstance(p, int))), fix)
    if "email" in error["msg"]:
        fix = "write it as name@example.com"
    if loc in (("period",), ("compare",)) and error["type"] in ("model_type", "model_attributes_type"):
        fix = "write it as {start: YYYY-MM-DD, end: YYYY-MM-DD}"
    return Problem(CONFIG_FILE, f"key '{key}': {message}{got_text}", fix=fix)


def _known_keys() -> dict[str, list[str]]:
    return {
        "": list(_BriefModel.model_fields),
        "period": list(_WindowModel.model_fields),
        "compare": list(_WindowModel.model_fields),
        "assumptions": list(_AssumptionsModel.model_fields),
        "analysts": list(_AnalystModel.model_fields),
        "distribution": list(_DistributionModel.model_fields),
    }


def parse_config(text: str) -> BriefConfig:
    """Parse the text of brief.yaml into a BriefConfig (windows may still be unset)."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader) if text.strip() else {}  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and problem.startswith("but "):  # 'expected a single document in the stream, but found another document'
            problem = f"{context}, {problem}"
        fix = "check indentation and quoting"
        if context in _BRACKETS and opened and mark and opened.line != mark.line:
            fix = f"close the {_BRACKETS[context]} opened on line {opened.line + 1}"
        elif isinstance(exc, _DuplicateKey):
            fix = "delete one of them"
        elif "'\\t'" in problem:
            fix = "indent with spaces, not tabs"
        raise InputError([Problem(CONFIG_FILE, f"{where}{problem}", fix=fix)]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError([Problem(CONFIG_FILE, "expected a mapping of keys (title: ..., as_of: ...)",
                                  fix="start each line with a key, e.g. 'title: Bitcoin mining'")])
    raw, schedules, problems = _take_schedules(raw)
    try:
        model = _BriefModel.model_validate(raw)
    except ValidationError as exc:
        known = _known_keys()
        problems = [_describe(e, known) for e in exc.errors()] + problems
    if problems:
        raise InputError(problems) from None
    return BriefConfig(
        title=model.title,
        as_of=model.as_of,
        period=_window(model.period),
        compare=_window(model.compare),
        assumptions=Assumptions(**{**model.assumptions.model_dump(), **schedules}),
        analysts=tuple(Analyst(a.name, a.email or "", a.phone or "") for a in model.analysts),
        house=model.house or DEFAULT_HOUSE,
        takeaways=model.takeaways,
        deals_since=model.deals_since,
        embargo_hours=tuple((str(tier), float(hours)) for tier, hours in model.distribution.embargo_hours.items()),
    )


def _take_schedules(raw: dict) -> tuple[dict, dict[str, Schedule], list[Problem]]:
    """Take dated schedules ({date: value}) out of raw['assumptions'] and check them apart from the schema."""
    assumptions = raw.get("assumptions")
    if not isinstance(assumptions, dict):
        return raw, {}, []
    schedules: dict[str, Schedule] = {}
    problems: list[Problem] = []

    def problem(key: str, message: str, fix: str) -> None:
        problems.append(Problem(CONFIG_FILE, f"key '{key}': {message}", fix=fix))

    rest = dict(assumptions)
    for name in BOUNDS:
        if isinstance(rest.get(name), dict):
            schedule = parse_schedule(name, rest.pop(name), problem)
            if schedule is not None:
                schedules[name] = schedule
    return {**raw, "assumptions": rest}, schedules, problems


def _window(model: _WindowModel | None) -> Window | None:
    if model is None:
        return None
    return Window(model.start, model.end, model.label or label_for(model.start, model.end))


def load_config(inputs_dir: Path, text: str | None = None) -> BriefConfig:
    """Read brief.yaml from the inputs folder; a missing file is an error that says what to write."""
    if text is None:
        path = inputs_dir / CONFIG_FILE
        if not path.is_file():
            raise InputError([Problem(CONFIG_FILE, "file not found", fix=f"create {path} with at least a 'title:' line")])
        data = path.read_bytes()
        if len(data) > MAX_CONFIG_BYTES:
            raise InputError([Problem(CONFIG_FILE, f"file is {len(data) // 1024} KB (at most {MAX_CONFIG_BYTES // 1024} KB)",
                                      fix="keep only the settings; commentary goes in commentary/*.md")])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError([Problem(CONFIG_FILE, "not UTF-8 text", fix="save it as UTF-8")]) from None
    return parse_config(text)


# --- windows ---------------------------------------------------------------------------------


def label_for(start: date, end: date) -> str:
    """Label a window the way the desk writes it: '1-14 Jan 2026', '18 Dec 2025 - 3 Jan 2026'."""
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        if start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]:
            return f"{start:%B %Y}"
        return f"{start.day}\u2013{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} \u2013 {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} \u2013 {end.day} {end:%b %Y}"


def parse_window_flag(text: str, option: str) -> tuple[date, date]:
    """Parse a START:END flag value (ISO dates) or raise ConfigError naming the option."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = date.fromisoformat(parts[0].strip()), date.fromisoformat(parts[1].strip())
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected START:END as YYYY-MM-DD:YYYY-MM-DD") from None
    return start, end


def with_overrides(
    config: BriefConfig,
    period: tuple[date, date] | None = None,
    compare: tuple[date, date] | None = None,
    as_of: date | None = None,
    labels: tuple[str, str] | None = None,
) -> BriefConfig:
    """Apply --period / --compare / --as-of flags; a window's label is given or drawn from its dates."""
    if as_of is not None:
        config = replace(config, as_of=as_of)
    if period is not None:
        config = replace(config, period=Window(period[0], period[1], labels[0] if labels else label_for(*period)))
    if compare is not None:
        config = replace(config, compare=Window(compare[0], compare[1], labels[1] if labels else label_for(*compare)))
    return config


def prior_month(window: Window) -> Window:
    """The calendar month before the one the window starts in: the desk's 'vs December' reference."""
    last = window.start.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    return Window(first, last, f"{first:%B %Y}")


def resolve_windows(config: BriefConfig, first: date, last: date) -> BriefConfig:
    """Fill as_of, period and compare from the data's dates where brief.yaml and flags left them unset.

    Defaults: as_of is the period's end when a period is given, else the last day of data; period
    runs from the first of as_of's month to as_of (the previous full month when that is under a
    week); compare is a window of equal length ending the day before the period starts. Windows are
    then checked against the data. Nothing dated after the period's end reaches a brief, so the
    compare window and `deals_since` must end by then.
    """
    as_of = config.as_of or (min(config.period.end, last) if config.period else last)
    period = config.period
    if period is None:
        start = max(as_of.replace(day=1), first)
        end = as_of
        if (end - start).days + 1 < MIN_DEFAULT_PERIOD_DAYS and start.day == 1 and start > first:
            end = start - timedelta(days=1)
            start = max(end.replace(day=1), first)
        period = Window(start, end, label_for(start, end))
    compare = config.compare
    problems = []
    if compare is None:
        end = period.start - timedelta(days=1)
        start = max(end - timedelta(days=period.days - 1), first)
        compare = Window(start, end, label_for(start, end))
        if end < first:
            raise InputError([Problem(CONFIG_FILE, f"compare: no network data before the period starts ({period.start})",
                                      fix="add earlier days to network.csv, or set period and compare")])
    for name, window in (("period", period), ("compare", compare)):
        if window.end < window.start:
            problems.append(
                Problem(CONFIG_FILE, f"{name}: ends ({window.end}) before it starts ({window.start})", fix="swap the dates")
            )
        elif window.start < first or window.end > last:
            problems.append(
                Problem(
                    CONFIG_FILE,
                    f"{name}: {window.start} to {window.end} is outside the network data ({first} to {last})",
                    fix="choose dates inside the data or add the missing days to network.csv",
                )
            )
    if not problems and as_of < period.end:
        problems.append(Problem(CONFIG_FILE, f"as_of: {as_of} is before the period ends ({period.end})", fix="set as_of on or after the period's end"))
    if not problems and compare.end > period.end:
        problems.append(Problem(CONFIG_FILE, f"compare: ends ({compare.end}) after the period ends ({period.end})",
                                fix="compare with a window before the period; nothing after the period's end reaches the brief"))
    if config.deals_since is not None and config.deals_since >= period.end:
        problems.append(Problem(CONFIG_FILE, f"deals_since: {config.deals_since} is not before the period ends ({period.end})",
                                fix="give the as-of date of the previous published brief, or delete the key to list the period's deals"))
    if problems:
        raise InputError(problems)
    return replace(config, as_of=as_of, period=period, compare=compare)
