"""Turn brief.yaml and command-line overrides into a BriefConfig, collecting every problem.

The house's keys (title, as_of, period, compare, analysts, house, takeaways, distribution) are
BriefModel's; a sector adds its own by subclassing it (Sector.config_model) and, for their
values, BriefConfig: its model says which BriefConfig subclass it fills (`config_class`), and may
take keys apart before the schema sees them (`take_apart`), name the fix for an out-of-range value
(`range_fixes`) and check its keys against the resolved period (BriefConfig.window_problems).
"""

from __future__ import annotations

import contextlib
import difflib
import typing
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from briefgen.errors import InputError, Problem
from briefgen.inputs.cells import INVISIBLE_FIX, invisible
from briefgen.inputs.folder import CONFIG_FILE
from briefgen.inputs.windows import Window, label_for
from briefgen.inputs.yamltext import load_yaml

__all__ = ["BriefConfig", "BriefModel", "HouseKeys", "load_config", "parse_config"]

DEFAULT_HOUSE = "briefgen Research"
MIN_DEFAULT_PERIOD_DAYS = 7


@dataclass(frozen=True)
class Analyst:
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class BriefConfig:
    """Everything the brief is configured with; windows are filled in once the data's dates are known.

    A sector's keys are fields of a frozen subclass (its model's `config_class`).
    """

    title: str | None = None
    as_of: date | None = None
    period: Window | None = None
    compare: Window | None = None
    analysts: tuple[Analyst, ...] = ()
    house: str = DEFAULT_HOUSE
    takeaways: Literal["replace", "extend"] = "replace"
    embargo_hours: tuple[tuple[str, float], ...] = ()  # (tier, hours after publication), from distribution:

    def window_problems(self, period: Window) -> list[Problem]:
        """A sector's keys checked against the resolved period (the house's have no such rule)."""
        return []


# A BriefConfig or a sector's subclass of it: what with_overrides and resolve_windows are given, they return.
_Config = TypeVar("_Config", bound=BriefConfig)


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


class BriefModel(BaseModel):
    """brief.yaml's house keys; a sector subclasses it to add its own (and overrides the hooks below)."""

    model_config = ConfigDict(extra="forbid")
    config_class: ClassVar[type[BriefConfig]] = BriefConfig  # the BriefConfig (subclass) this model fills
    range_fixes: ClassVar[dict[str, str]] = {}  # key path -> the fix for a value out of range (usually its unit)
    example_title: ClassVar[str] = "Sector brief"  # the title a message gives as an example

    title: str | None = _Text
    as_of: date | None = None
    period: _WindowModel | None = None
    compare: _WindowModel | None = None
    analysts: list[_AnalystModel] = Field(default_factory=list, max_length=20)
    house: str | None = Field(default=None, max_length=120)
    takeaways: Literal["replace", "extend"] = "replace"
    distribution: _DistributionModel = Field(default_factory=_DistributionModel)

    @classmethod
    def take_apart(cls, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
        """Take out what the schema cannot check (a sector's dated schedules): (rest, taken, problems)."""
        return raw, {}, []

    def sector_values(self, taken: dict[str, Any]) -> dict[str, Any]:
        """The values of config_class's own fields, from this model and what take_apart took."""
        return {}

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
MAX_CONFIG_BYTES = 64 * 1024


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _describe(error: ErrorDetails, known: dict[str, list[str]], range_fixes: dict[str, str]) -> Problem:
    loc = tuple(error["loc"])
    key = _key_path(loc)
    fix: str | None
    if error["type"] == "extra_forbidden":
        parent = _key_path(tuple(p for p in loc[:-1] if not isinstance(p, int)))
        close = difflib.get_close_matches(str(loc[-1]), known.get(parent, []), n=1)
        fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known.get(parent, []))}"
        return Problem(CONFIG_FILE, f"key '{key}': unknown key", fix=fix)
    got = error.get("input")
    got_text = "" if isinstance(got, (dict, list)) or got is None else f", got {str(got)[:60]!r}"
    message, fix = _MESSAGES.get(error["type"], (error["msg"].removeprefix("Value error, "), None))
    # a placeholder pydantic did not fill (KeyError, IndexError, ValueError): keep the message as written
    with contextlib.suppress(KeyError, IndexError, ValueError):
        message = message.format(
            **{k: f"{v:g}" if isinstance(v, float) else v for k, v in error.get("ctx", {}).items()}
        )
    if error["type"] in ("less_than_equal", "less_than", "greater_than", "greater_than_equal"):
        fix = range_fixes.get(_key_path(tuple(p for p in loc if not isinstance(p, int))), fix)
    if "email" in error["msg"]:
        fix = "write it as name@example.com"
    if loc in (("period",), ("compare",)) and error["type"] in ("model_type", "model_attributes_type"):
        fix = "write it as {start: YYYY-MM-DD, end: YYYY-MM-DD}"
    return Problem(CONFIG_FILE, f"key '{key}': {message}{got_text}", fix=fix)


def _known_keys(model: type[BaseModel]) -> dict[str, list[str]]:
    """The keys at the top and one level down ({'': [title, ...], 'period': [start, end, label], ...})."""
    known = {"": list(model.model_fields)}
    for name, info in model.model_fields.items():
        if (nested := _nested_model(info.annotation)) is not None:
            known[name] = list(nested.model_fields)
    return known


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: itself, or inside `X | None` and `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for arg in typing.get_args(annotation) if (m := _nested_model(arg)) is not None), None)


class HouseKeys(BriefModel):
    """The house's keys of any sector's brief.yaml, for the stages that serve every sector (publish,
    distribute): the sector's own keys are set aside unchecked, its `load` checks them."""

    @classmethod
    def take_apart(cls, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
        return {k: v for k, v in raw.items() if k in BriefModel.model_fields}, {}, []


def parse_config(text: str, model: type[BriefModel] = BriefModel) -> BriefConfig:
    """Parse the text of brief.yaml by `model` into a BriefConfig (windows may still be unset).

    `model` is the sector's schema (Sector.config_model); BriefModel, the default, knows the house's
    keys alone and refuses any other, so another sector's brief.yaml is never read as if it were one's own.
    """
    raw = load_yaml(text, CONFIG_FILE)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(
            [
                Problem(
                    CONFIG_FILE,
                    "expected a mapping of keys (title: ..., as_of: ...)",
                    fix=f"start each line with a key, e.g. 'title: {model.example_title}'",
                )
            ]
        )
    raw, taken, problems = model.take_apart(raw)
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        known = _known_keys(model)
        problems = [_describe(e, known, model.range_fixes) for e in exc.errors()] + problems
    if problems:
        raise InputError(problems) from None
    return model.config_class(
        title=parsed.title,
        as_of=parsed.as_of,
        period=_window(parsed.period),
        compare=_window(parsed.compare),
        analysts=tuple(Analyst(a.name, a.email or "", a.phone or "") for a in parsed.analysts),
        house=parsed.house or DEFAULT_HOUSE,
        takeaways=parsed.takeaways,
        embargo_hours=tuple((str(tier), float(hours)) for tier, hours in parsed.distribution.embargo_hours.items()),
        **parsed.sector_values(taken),
    )


def _window(model: _WindowModel | None) -> Window | None:
    if model is None:
        return None
    return Window(model.start, model.end, model.label or label_for(model.start, model.end))


def load_config(inputs_dir: Path, text: str | None = None, model: type[BriefModel] = BriefModel) -> BriefConfig:
    """Read brief.yaml from the inputs folder by `model` (parse_config); a missing file says what to write."""
    if text is None:
        path = inputs_dir / CONFIG_FILE
        if not path.is_file():
            raise InputError(
                [Problem(CONFIG_FILE, "file not found", fix=f"create {path} with at least a 'title:' line")]
            )
        data = path.read_bytes()
        if len(data) > MAX_CONFIG_BYTES:
            raise InputError(
                [
                    Problem(
                        CONFIG_FILE,
                        f"file is {len(data) // 1024} KB (at most {MAX_CONFIG_BYTES // 1024} KB)",
                        fix="keep only the settings; commentary goes in commentary/*.md",
                    )
                ]
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError([Problem(CONFIG_FILE, "not UTF-8 text", fix="save it as UTF-8")]) from None
    return parse_config(text, model)


# --- windows ---------------------------------------------------------------------------------


def with_overrides(
    config: _Config,
    period: tuple[date, date] | None = None,
    compare: tuple[date, date] | None = None,
    as_of: date | None = None,
    labels: tuple[str, str] | None = None,
) -> _Config:
    """Apply --period / --compare / --as-of flags; a window's label is given or drawn from its dates."""
    if as_of is not None:
        config = replace(config, as_of=as_of)
    if period is not None:
        config = replace(config, period=Window(period[0], period[1], labels[0] if labels else label_for(*period)))
    if compare is not None:
        config = replace(config, compare=Window(compare[0], compare[1], labels[1] if labels else label_for(*compare)))
    return config


def resolve_windows(config: _Config, first: date, last: date, daily: str) -> _Config:
    """Fill as_of, period and compare from the dates of the daily table (`daily`, its file name) where brief.yaml and
    flags left them unset.

    Defaults: as_of is the period's end when a period is given, else the last day of data; period
    runs from the first of as_of's month to as_of (the previous full month when that is under a
    week); compare is a window of equal length ending the day before the period starts. Windows are
    then checked against the data. Nothing dated after the period's end reaches a brief, so the
    compare window (and what the sector's keys date, window_problems) must end by then.
    """
    data = daily.removesuffix(".csv")
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
            raise InputError(
                [
                    Problem(
                        CONFIG_FILE,
                        f"compare: no {data} data before the period starts ({period.start})",
                        fix=f"add earlier days to {daily}, or set period and compare",
                    )
                ]
            )
    for name, window in (("period", period), ("compare", compare)):
        if window.end < window.start:
            problems.append(
                Problem(
                    CONFIG_FILE, f"{name}: ends ({window.end}) before it starts ({window.start})", fix="swap the dates"
                )
            )
        elif window.start < first or window.end > last:
            problems.append(
                Problem(
                    CONFIG_FILE,
                    f"{name}: {window.start} to {window.end} is outside the {data} data ({first} to {last})",
                    fix=f"choose dates inside the data or add the missing days to {daily}",
                )
            )
    if not problems and as_of < period.end:
        problems.append(
            Problem(
                CONFIG_FILE,
                f"as_of: {as_of} is before the period ends ({period.end})",
                fix="set as_of on or after the period's end",
            )
        )
    if not problems and compare.end > period.end:
        problems.append(
            Problem(
                CONFIG_FILE,
                f"compare: ends ({compare.end}) after the period ends ({period.end})",
                fix="compare with a window before the period; nothing after the period's end reaches the brief",
            )
        )
    problems += config.window_problems(period)
    if problems:
        raise InputError(problems)
    return replace(config, as_of=as_of, period=period, compare=compare)
