"""Turn the last build (a draft) into a published version, recall one, and say what may be sent when.

`publish` checks before it writes anything: the inputs and templates are those of the last build,
the approver is not one of the brief's analysts, the build had no warnings, the disclosures are the
desk's own. It then writes OUTPUT/published/<as-of>/v<N>/ (the PDF as rendered, without the draft
mark, byte for byte; the HTML and its charts; the figures as JSON; the RIXML sidecar) into a staging
folder renamed into place, and records version N in the history and the audit trail.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from briefgen.errors import BriefgenError, DistributionError
from briefgen.publish.draft import PUBLISHABLE
from briefgen.publish.lifecycle import (
    RECALLED,
    Publication,
    add_publication,
    build_figures,
    by_sha256,
    last_build,
    mark_recalled,
    next_version,
    publications,
    writer,
)
from briefgen.store.history import file_sha256

PUBLISHED_DIR = "published"
# Rendered by the shipped partials/disclosures.html; a desk's own override leaves it out (docs/publishing.md).
PLACEHOLDER_MARK = "<!-- briefgen:disclosures-placeholder -->"
_DISCLOSURES = re.compile(r'<section\b[^>]*\bid="disclosures"[^>]*>(.*?)</section>', re.DOTALL)
_HEADING = re.compile(r"<h[1-6]\b.*?</h[1-6]>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
MAX_NAME = 120
MAX_NOTE = 2000


class PublishError(BriefgenError):
    """A publication or recall that must not happen, and why."""


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str, what: str, limit: int, *, one_line: bool) -> str:
    text = value.strip()
    if not text:
        raise PublishError(f"{what} must not be empty")
    if len(text) > limit:
        raise PublishError(f"{what} is longer than {limit} characters; shorten it")
    bad = [c for c in text if (ord(c) < 32 and not (c == "\n" and not one_line)) or ord(c) == 127]
    if bad:
        raise PublishError(f"{what} holds a control character or line break; write it on one line")
    return text


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def check_disclosures(html: str) -> str | None:
    """Why the brief's disclosures are not fit to publish, or None."""
    section = _DISCLOSURES.search(html)
    words = _TAG.sub(" ", _HEADING.sub(" ", section.group(1))).split() if section else []
    if not words:
        return (
            "the brief's disclosures are empty (partials/disclosures.html prints no text but headings); "
            "put the desk's disclosures in it, in your --templates folder, and build again"
        )
    if PLACEHOLDER_MARK in html:
        return (
            "the disclosures are still the shipped placeholder text; copy partials/disclosures.html to your "
            "--templates folder, put in the wording compliance approved, delete the line "
            f"{PLACEHOLDER_MARK!r}, and build again"
        )
    return None


@dataclass(frozen=True)
class Published:
    publication: Publication
    folder: Path
    files: tuple[Path, ...]


def publish(
    output_dir: Path, inputs_dir: Path, *, approved_by: str, note: str | None = None, now: datetime | None = None
) -> Published:
    """Publish the last build as the next version for its as-of date; every check runs before any write."""
    from briefgen.inputs.config import HouseKeys, load_config
    from briefgen.store.audit import append
    from briefgen.store.keys import build_keys

    output = Path(output_dir)
    approver = _text(approved_by, "--approved-by", MAX_NAME, one_line=True)
    note = _text(note, "--note", MAX_NOTE, one_line=False) if note is not None and note.strip() else None
    build = last_build(output)
    final = output / PUBLISHABLE
    if build.final_sha256 is None or build.build_key is None:
        raise PublishError("the last build was made by an older briefgen and kept no publishable copy; build again")
    for path, expected in ((final / "brief.pdf", build.final_sha256), (output / "brief.pdf", build.pdf_sha256)):
        if not path.is_file() or file_sha256(path) != expected:
            raise PublishError(f"{path} is not the one the last build (id {build.id}) recorded; build again")
    templates = Path(build.templates_dir) if build.templates_dir else None
    if templates is not None and not templates.is_dir():
        raise PublishError(f"the templates folder of the last build, {templates}, is gone; build again")
    if not Path(inputs_dir).is_dir():
        raise PublishError(f"{inputs_dir}: no such inputs folder (give --inputs)")
    if build_keys(inputs_dir, templates, build.options, build.sector).build != build.build_key:
        raise PublishError(
            f"the inputs in {inputs_dir} or the templates changed since the last build (id {build.id});"
            " build first, review the draft, then publish"
        )
    config = load_config(Path(inputs_dir), model=HouseKeys)  # the analysts: a house key of any sector's brief.yaml
    for analyst in config.analysts:
        if _same_person(analyst.name, approver):
            raise PublishError(
                f"{approver} is an analyst of this brief; the approval must come from someone else "
                "(a supervisory analyst or compliance)"
            )
    if build.warnings:
        listed = "; ".join(build.warnings[:5]) + (
            f"; and {len(build.warnings) - 5} more" if len(build.warnings) > 5 else ""
        )
        raise PublishError(
            f"the last build had {len(build.warnings)} warning(s), which --strict would refuse: "
            f"{listed}. Fix them and build again"
        )
    html = (final / "brief.html").read_text(encoding="utf-8")
    if problem := check_disclosures(html):
        raise PublishError(problem)
    facts = json.loads((final / "brief.json").read_text(encoding="utf-8"))
    figures = build_figures(output, build.id)

    moment = _utc(now)
    pdf = (final / "brief.pdf").read_bytes()
    with writer(output) as db:  # holds the write lock: two publishes cannot take one version number
        version = next_version(db, build.as_of)
        relative = f"{PUBLISHED_DIR}/{build.as_of.isoformat()}/v{version}"
        target = output / relative
        if not _inside(output, target.parent):
            raise PublishError(
                f"{output / PUBLISHED_DIR} leads outside {output} (a link); briefgen never follows a "
                "link out of its folders"
            )
        if target.exists():
            raise PublishError(f"{target} exists but is not a recorded publication; move it away and publish again")
        publication = add_publication(
            db,
            build_id=build.id,
            as_of=build.as_of,
            version=version,
            approved_by=approver,
            note=note,
            published_at=_iso(moment),
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            pdf_size=len(pdf),
            folder=relative,
        )
        _write_folder(output, target, pdf, html, figures, facts, publication)
        try:  # in the transaction: no publication without its audit entry
            append(
                output,
                "publish",
                {
                    "publication": publication.label,
                    "build": build.id,
                    "status": publication.status,
                    "approved_by": approver,
                    "note": note or "",
                    "pdf_sha256": publication.pdf_sha256,
                },
                at=moment,
            )
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # ours: renamed into place just above
            raise
    files = tuple(sorted(p for p in target.rglob("*") if p.is_file()))
    return Published(publication, target, files)


def _inside(root: Path, path: Path) -> bool:
    """Whether `path` (or the part of it that exists) resolves, links followed, to somewhere inside `root`."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.resolve().is_relative_to(root.resolve())


def _write_folder(
    output: Path, target: Path, pdf: bytes, html: str, figures: dict, facts: dict, publication: Publication
) -> None:
    """Write the publication's files into a staging folder beside `target`, then rename it into place."""
    from briefgen.files import write_atomic

    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".publishing-", dir=target.parent))
    try:
        write_atomic(stage / "brief.pdf", pdf)
        write_atomic(stage / "brief.html", html.encode("utf-8"))
        charts = output / "charts"
        if charts.is_dir() and not charts.is_symlink():
            (stage / "charts").mkdir()
            for chart in sorted(charts.glob("*.svg")):
                if chart.is_file() and not chart.is_symlink():
                    shutil.copyfile(chart, stage / "charts" / chart.name)
        write_atomic(
            stage / "figures.json",
            (json.dumps(figures, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"),
        )
        write_atomic(stage / SIDECAR, sidecar(facts, publication, pdf))
        stage.rename(target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # ours: made by mkdtemp above
        raise


SIDECAR = "brief.rixml.xml"


def sidecar(facts: dict, publication: Publication, pdf: bytes, *, status_time: str | None = None) -> bytes:
    """The RIXML control file for a publication (its status as of now)."""
    import io

    import pikepdf

    from briefgen.publish.rixml import RixmlFacts, rixml_document

    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = len(document.pages)
    return rixml_document(
        RixmlFacts(
            as_of=publication.as_of,
            version=publication.version,
            status=publication.status,
            status_time=status_time or publication.published_at,
            published_at=publication.published_at,
            house=facts["house"],
            series=facts["series"],
            title=facts["title"],
            takeaways=facts["takeaways"],
            analysts=facts["analysts"],
            issuers=facts["issuers"],
            pdf_name="brief.pdf",
            pdf_size=len(pdf),
            pages=pages,
        )
    )


def recall(output_dir: Path, label: str, *, reason: str, now: datetime | None = None) -> Publication:
    """Mark publication `<as-of>/v<N>` recalled and rewrite its RIXML sidecar with that status."""
    from briefgen.files import write_atomic
    from briefgen.publish.lifecycle import find_publication
    from briefgen.publish.rixml import restatus
    from briefgen.store.audit import append

    output = Path(output_dir)
    reason = _text(reason, "--reason", MAX_NOTE, one_line=False)
    publication = find_publication(output, label)
    if publication.status == RECALLED:
        raise PublishError(f"{label} was already recalled on {publication.recalled_at}")
    folder = output / publication.folder
    moment = _iso(_utc(now))
    sidecar_path = folder / SIDECAR
    if not sidecar_path.is_file() or sidecar_path.is_symlink():
        raise PublishError(f"{sidecar_path} is missing; the publication folder was changed by hand")
    original = sidecar_path.read_bytes()
    with writer(output) as db:
        recalled = mark_recalled(db, publication, moment, reason)
        write_atomic(sidecar_path, restatus(original, "recalled", moment))
        try:  # in the transaction: no recall without its audit entry
            append(
                output,
                "recall",
                {"publication": label, "reason": reason, "pdf_sha256": publication.pdf_sha256},
                at=_utc(now),
            )
        except BaseException:
            write_atomic(sidecar_path, original)
            raise
    return recalled


def publication_facts(context, issuers: list[dict]) -> dict:
    """What a publication's RIXML sidecar says of the brief: title, abstract, house, analysts, issuers.

    issuers are the companies the note covers (the sector's Sector.issuers): ticker, name, exchange.
    """
    config = context.config
    return {
        "title": f"{context.series}: {context.headline}",
        "headline": context.headline,
        "takeaways": list(context.takeaways),
        "house": config.house,
        "series": context.series,
        "analysts": [{"name": a.name, "email": a.email, "phone": a.phone} for a in config.analysts],
        "issuers": issuers,
    }


# --- what distribute may send ----------------------------------------------------------------


@dataclass(frozen=True)
class Selected:
    path: Path
    publication: Publication | None  # None: a draft, sent with --allow-draft


def select_brief(output_dir: Path, brief: Path | None, *, allow_draft: bool = False) -> Selected:
    """The PDF `distribute` sends: --brief if given (a publication, or a draft with allow_draft), else the latest."""
    output = Path(output_dir)
    if brief is None:
        known = publications(output)
        if not known:
            raise DistributionError(
                f"nothing published yet in {output}; run `briefgen publish --approved-by NAME` "
                "after reviewing the draft (or pass --brief FILE --allow-draft for internal review)"
            )
        latest = max(known, key=lambda p: (p.as_of, p.version))
        if latest.status == RECALLED:
            raise DistributionError(
                f"the latest publication, {latest.label}, was recalled ({latest.recall_reason}); "
                "publish a revision first"
            )
        return Selected(output / latest.folder / "brief.pdf", latest)
    if not brief.is_file():
        raise DistributionError(f"{brief} not found; run `briefgen build` first, or pass --brief FILE")
    publication = by_sha256(output, file_sha256(brief))
    if publication is not None and publication.status == RECALLED:
        raise DistributionError(
            f"{brief} is {publication.label}, which was recalled on {publication.recalled_at} "
            f"({publication.recall_reason}); nobody is sent a recalled version"
        )
    if publication is None and not allow_draft:
        raise DistributionError(
            f"{brief} is a draft, not a recorded publication; publish it with "
            "`briefgen publish --approved-by NAME` and send that (or pass --allow-draft to send "
            "it to an internal review list)"
        )
    return Selected(brief, publication)


def embargo_until(
    publication: Publication | None, tier: str | None, embargo_hours: dict[str, float]
) -> datetime | None:
    """When a client of `tier` may receive `publication`: None for at once (no embargo, or a draft)."""
    if publication is None or not tier or tier not in embargo_hours:
        return None
    published = datetime.strptime(publication.published_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return published + timedelta(hours=embargo_hours[tier])


def held_clients(
    publication: Publication | None, clients, embargo_hours: dict[str, float], now: datetime | None = None
) -> dict[str, datetime]:
    """client_id -> the time its embargo ends, for every client not yet due at `now`."""
    moment = _utc(now)
    held = {}
    for client in clients:
        until = embargo_until(publication, client.tier, embargo_hours)
        if until is not None and until > moment:
            held[client.client_id] = until
    return held
