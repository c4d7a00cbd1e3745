"""Turn a build's staged files into the published output folder, its record and its manifest.

After the stages have written everything into the staging folder (briefgen.build), the files are
moved over the published ones (the PDF last), the build is recorded in the history and the audit
trail, and the manifest (output/.cache/last-build.json) names every file with its SHA-256, so the
next build with the same key can see nothing changed and rewrite nothing (`unchanged`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import Problem
from briefgen.publish.draft import PUBLISHABLE

if TYPE_CHECKING:
    from briefgen.build import BuildOptions
    from briefgen.inputs.folder import SourceFile
    from briefgen.store.cache import Cache
    from briefgen.store.keys import Keys

MANIFEST = "last-build.json"
CHARTS_MANIFEST = ".briefgen-charts.json"  # in charts/: the charts briefgen published there, by SHA-256


@dataclass(frozen=True)
class OutputFile:
    path: Path
    size: int
    pages: int | None = None


@dataclass(frozen=True)
class BuildResult:
    files: tuple[OutputFile, ...]
    charts: int
    seconds: float
    warnings: tuple[Problem | str, ...]
    unchanged: bool = False  # nothing changed since the last build: nothing was rewritten
    drawn: tuple[str, ...] = ()  # the charts drawn by this build (the rest came from the cache)
    cache_hits: dict[str, int] = field(default_factory=dict)


def publish_stage(
    stage: Path, output: Path, templates_dir: Path | None, sector: str, cache: Cache
) -> tuple[list[Path], set[str]]:
    """Move the staged files over the published ones, the PDF last; the charts and static files published.

    The stylesheets and fonts go first (briefgen.html.static), so brief.html opened from disk finds them.
    """
    from briefgen.files import inside, listed, publish, remove_stale, write_listing
    from briefgen.html.static import remove_stale_static, stage_static

    folder, publishable = inside(output, "charts"), inside(output, PUBLISHABLE)
    charts = sorted((stage / "charts").glob("*.svg"))
    moves, static = stage_static(stage, output, templates_dir, sector)
    # The listing names every chart published there, old and new, until the stale ones are gone:
    # a build killed in between leaves the next one what it needs to remove them.
    old = listed(folder / CHARTS_MANIFEST)
    kept = {**old, **write_listing(stage / CHARTS_MANIFEST, charts, old, folder)}
    moves.update({chart: folder / chart.name for chart in charts})
    moves[stage / CHARTS_MANIFEST] = folder / CHARTS_MANIFEST
    for name in ("brief.json", "brief.html", "brief.pdf"):  # before the draft: a publish reads the pair
        moves[stage / PUBLISHABLE / name] = publishable / name
    moves[stage / "brief.html"] = output / "brief.html"
    moves[stage / "brief.pdf"] = output / "brief.pdf"  # last: the PDF is what the desk sends
    publish(moves)
    remove_stale(folder / CHARTS_MANIFEST, kept, {chart.name for chart in charts})
    remove_stale_static(output, _manifest_files(cache), static)
    return charts, static


def record(
    output: Path,
    options: BuildOptions,
    keys: Keys,
    skeleton: dict[str, Any],
    sources: tuple[SourceFile, ...],
    warnings: tuple[Problem | str, ...],
) -> tuple[Problem, ...]:
    """Record the published brief in the history and the audit trail; a Problem for each that missed it.

    The brief is published by then: a record that fails is said, not a failed build.
    """
    from briefgen.store.audit import AuditError, append
    from briefgen.store.history import HistoryError, record_build

    as_of = date.fromisoformat(skeleton["as_of"])
    provenance = {
        "final_sha256": sha256(output / PUBLISHABLE / "brief.pdf"),
        "build_key": keys.build,
        "inputs_dir": str(Path(options.inputs_dir).resolve()),
        "templates_dir": str(Path(options.templates_dir).resolve()) if options.templates_dir else None,
        "options": json.dumps(list(options.fingerprint())),
        "warnings": json.dumps([str(w) for w in warnings], ensure_ascii=False),
    }
    try:
        build_id = record_build(
            output,
            as_of=as_of,
            period=_span(skeleton["period"]),
            compare=_span(skeleton["compare"]),
            figures=skeleton["figures"],
            sources=sources,
            pdf_sha256=sha256(output / "brief.pdf"),
            pdf_variant=options.pdf_variant,
            provenance=provenance,
        )
    except HistoryError as exc:
        return (Problem("history.sqlite", f"this build was not recorded: {exc}"),)
    try:
        append(
            output,
            "build",
            {
                "build": build_id,
                "as_of": as_of.isoformat(),
                "status": "draft",
                "pdf_sha256": provenance["final_sha256"],
                "warnings": len(warnings),
            },
        )
    except AuditError as exc:
        return (Problem("audit.jsonl", f"the audit trail missed this build: {exc}"),)
    return ()


def _span(window: dict[str, str]) -> tuple[date, date]:
    return date.fromisoformat(window["start"]), date.fromisoformat(window["end"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest_files(cache: Cache) -> set[str]:
    """The files the last build's manifest says it published (none without the cache)."""
    try:
        return set(json.loads((cache.root / MANIFEST).read_text())["files"]) if cache.root is not None else set()
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def unchanged(output: Path, keys: Keys, cache: Cache) -> BuildResult | None:
    """The last build's result when its key matches and its files are intact; else None."""
    if cache.root is None or cache.refresh:
        return None
    from briefgen.files import inside
    from briefgen.store.history import previous_key

    try:
        manifest = json.loads(inside(cache.root, MANIFEST).read_text())
        if manifest["key"] != keys.build:
            return None
        # A brief recorded since with an earlier date changes this one's "since" column.
        if manifest["previous"] != previous_key(output, date.fromisoformat(manifest["as_of"])):
            return None
        for name, sha in manifest["files"].items():
            if sha256(output / name) != sha:
                return None
    except (OSError, ValueError, KeyError):
        return None
    files = tuple(OutputFile(output / f["path"], f["size"], f["pages"]) for f in manifest["outputs"])
    return BuildResult(files, manifest["charts"], 0.0, tuple(manifest["warnings"]))


def write_manifest(output: Path, keys: Keys, cache: Cache, result: BuildResult, as_of: date, static: set[str]) -> None:
    """The manifest `unchanged` reads next time: the key, every published file's SHA-256, the result."""
    if cache.root is None:
        return
    from briefgen.files import ensure_dir, write_atomic
    from briefgen.store.history import previous_key

    names = [
        "brief.pdf",
        "brief.html",
        *(f"{PUBLISHABLE}/{n}" for n in ("brief.pdf", "brief.html", "brief.json")),
        *(f"charts/{p.name}" for p in sorted((output / "charts").glob("*.svg"))),
        *sorted(static),
    ]
    manifest: dict[str, Any] = {
        "key": keys.build,
        "files": {name: sha256(output / name) for name in names},
        "outputs": [
            {"path": f.path.relative_to(output).as_posix(), "size": f.size, "pages": f.pages} for f in result.files
        ],
        "charts": result.charts,
        "warnings": [str(w) for w in result.warnings],
        "as_of": as_of.isoformat(),
        "previous": previous_key(output, as_of),
    }
    ensure_dir(cache.root)
    write_atomic(cache.root / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
