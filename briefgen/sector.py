"""Turn a sector's name into what it supplies the pipeline: input contract, metrics, charts, templates, words.

The machinery (inputs, store, html, pdf, publish, distribute, the fetch plumbing, the CLI) knows
nothing about a sector's subject. A sector is a module with a `SECTOR`, an instance of Sector:

    inputs folder --load--> Inputs --compute--> metrics --charts--> SVGs
                                       |                       |
                                       +--context--> BriefContext --templates--> HTML --> PDF

`load` reads and validates the folder against the sector's tables (briefgen.inputs does the
reading, the typing and the messages) and returns a frozen dataclass with at least `config` (a
briefgen.inputs.config.BriefConfig, windows resolved), `sources` (one SourceFile per input file),
`warnings` and `commentary` (the texts of commentary/*.md). `compute` is pure: the same inputs
give the same metrics, which carry `period` and `compare` (Windows). The cache stores both as JSON
(briefgen.store.snapshot) when they are briefgen's own dataclasses, DataFrames and scalars; a
desk's sector outside the package is computed again on each build. Everything else a sector
returns is plain data. docs/sectors.md shows how a desk writes one.

The default sector is Bitcoin mining (briefgen/sectors/bitcoin_mining/). A name without a dot is a
module in briefgen.sectors; a dotted name is any importable module (a desk's own sector).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import BriefgenError

if TYPE_CHECKING:
    import click

    from briefgen.charts.spec import ChartSpec
    from briefgen.html.render import BriefContext
    from briefgen.inputs.config import BriefModel
    from briefgen.inputs.tables import TableSpec
    from briefgen.store.figures import KeyFigure

DEFAULT_SECTOR = "bitcoin_mining"


@dataclass(frozen=True)
class SampleInputs:
    """A sector's illustrative inputs, as `briefgen init` writes them (as CSV files or one workbook).

    `files` are brief.yaml, the commentary and any other file by its path in the inputs folder;
    `tables` each table by name: its header and its rows, every cell as the CSV writes it.
    """

    files: dict[str, bytes]
    tables: dict[str, tuple[tuple[str, ...], list[tuple]]]


@dataclass(frozen=True)
class Sector:
    """What one sector supplies. Every callable is pure; the module defining it imports its own code lazily."""

    name: str  # the module's name: "bitcoin_mining"
    series: str  # the note's name on the cover, in the running header and the PDF's title: "Bitcoin mining"
    package: Path  # the sector's source folder: its code is part of every cache key
    templates: Path  # brief.html and its partials; briefgen/templates (the house's) is searched after it
    tables: Callable[[], tuple[TableSpec, ...]]  # the input contract: what `init --blank` writes, the workbook holds
    # (inputs_dir, *, period, compare, strict, as_of, labels) -> Inputs; raises InputError naming file, row, column
    load: Callable[..., Any]
    compute: Callable[[Any], Any]  # Inputs -> metrics
    charts: Callable[[], Mapping[str, ChartSpec]]  # name -> spec, in the brief's order
    # (inputs, metrics, charts, previous, commentary, sources, takeaways) -> BriefContext
    context: Callable[..., BriefContext]
    figures: Callable[[Any], dict]  # metrics -> plain data: the history's record, `briefgen metrics --format json`
    # metrics -> text: `briefgen metrics` (--format table) and `briefgen metrics --format csv`
    metrics_table: Callable[[Any], str]
    metrics_csv: Callable[[Any], str]
    # Commentary sections, file name (without .md) -> title, in the brief's order; a commentary file
    # named after none of them is appended to the last one.
    sections: Mapping[str, str] = field(default_factory=dict)
    key_figures: tuple[KeyFigure, ...] = ()  # the figures compared with the previous brief, and listed by `history`
    derived: tuple[str, ...] = ()  # recorded figures (dotted names) `briefgen diff` leaves out: they follow from others
    issuers: Callable[[Any], list[dict]] = lambda inputs: []  # the companies a note covers, for RIXML
    keywords: tuple[str, ...] = ()  # the PDF's and RIXML's keywords
    sample: Callable[[], SampleInputs] | None = None  # illustrative inputs for `briefgen init`
    # The sector's own brief.yaml keys, commented, for `briefgen init --blank` (after the house's keys)
    blank_config: Callable[[], str] = lambda: ""
    preload: tuple[str, ...] = ()  # heavy modules a batch's fork server imports once, for every worker
    commands: Callable[[], Sequence[click.Command]] = field(default=lambda: ())  # `briefgen fetch` subcommands
    # brief.yaml's schema: a briefgen.inputs.config.BriefModel subclass adding the sector's keys (None: the
    # house's only)
    config_model: Callable[[], type[BriefModel]] | None = None
    # The sector's own Jinja filters (its units), name -> function, added after the house's
    # (briefgen.formatting.FILTERS); a name the house already uses is refused when the environment is built
    filters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Unit words a figure is printed with, which the house's nobreak filter keeps on the figure's line
    # beside the house's own (briefgen.formatting.UNITS: bp, MW, kWh, days...)
    units: tuple[str, ...] = ()


class SectorError(BriefgenError):
    """A sector that cannot be loaded."""


def sector_module(name: str = DEFAULT_SECTOR) -> str:
    """The module a sector's name names: `bitcoin_mining` is briefgen.sectors.bitcoin_mining; a dotted name itself."""
    return name if "." in name else f"briefgen.sectors.{name}"


@functools.cache
def load_sector(name: str = DEFAULT_SECTOR) -> Sector:
    """The Sector of a name (sector_module); SectorError if it cannot be imported or has no SECTOR."""
    module_name = sector_module(name)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SectorError(f"sector {name!r} not found ({exc}); the default is {DEFAULT_SECTOR!r}") from None
    sector = getattr(module, "SECTOR", None)
    if not isinstance(sector, Sector):
        raise SectorError(f"sector module {module_name} has no SECTOR (a briefgen.sector.Sector)")
    return sector
