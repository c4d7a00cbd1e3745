"""Turn what went wrong into one exception type per stage, each with a message a user can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong, how to fix it."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f": row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'" if self.row is not None else f": column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.fix:
            text += f" ({self.fix})"
        return text


class BriefgenError(Exception):
    """Anything the user can fix; the CLI prints it as `Error: ...` and exits with status 1."""


class ConfigError(BriefgenError):
    """The brief's configuration (brief.yaml or a flag) is wrong."""


class InputError(BriefgenError):
    """One or more input files break the contract; every problem is listed at once."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the inputs:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

    def __reduce__(self) -> tuple:
        # Pickled (a forked child sends its error back through a pipe) as its problems, not its message:
        # Exception's default would call InputError(message) and list every character as a problem.
        return (type(self), (self.problems,))


class RenderError(BriefgenError):
    """A template or chart could not be rendered."""


class PdfError(BriefgenError):
    """WeasyPrint could not produce the PDF, or refused a resource."""


class OutputError(BriefgenError):
    """An output file could not be written (full disk, unwritable folder)."""


class DistributionError(BriefgenError):
    """Per-client copies or deliveries failed."""


class FetchError(BriefgenError):
    """A public data source could not be reached or returned unusable data."""
