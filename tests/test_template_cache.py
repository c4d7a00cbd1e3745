"""The templates' compiled code kept between runs (briefgen/html/compiled.py): used, checked, never trusted blindly."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

from briefgen.html import render
from briefgen.html.compiled import PREFIX, code_cache


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder of the test's own, for Jinja's per-user cache folder; fresh environments."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    render._environment.cache_clear()
    yield tmp_path
    render._environment.cache_clear()


def folder(temp: Path) -> Path:
    return temp / f"_jinja2-cache-{os.getuid()}"


def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = SandboxedEnvironment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        seen.append(name or "<string>")
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(SandboxedEnvironment, "compile", counting)
    return seen


def page(override: Path | None = None) -> str:
    env = render.environment(override)
    return env.get_template("partials/macros.html").render() + env.from_string("{{ x }}").render(x="<b>")


def test_a_new_process_loads_the_compiled_templates_instead_of_compiling_them(temp, monkeypatch):
    if not hasattr(os, "getuid"):
        pytest.skip("Jinja keeps its per-user folder on POSIX")
    first = page()
    files = sorted(p.name for p in folder(temp).iterdir())
    assert files and all(name.startswith(PREFIX) for name in files)
    assert (folder(temp).stat().st_mode & 0o777) == 0o700  # this user's alone
    render._environment.cache_clear()  # what a new process starts with
    seen = compiles(monkeypatch)
    assert page() == first
    assert seen == ["<string>"]  # only the string template, which is never cached


def test_damaged_compiled_code_is_compiled_again(temp, monkeypatch):
    if not hasattr(os, "getuid"):
        pytest.skip("Jinja keeps its per-user folder on POSIX")
    first = page()
    for path in folder(temp).iterdir():
        path.write_bytes(path.read_bytes()[:40])  # cut short: marshal refuses the rest
    render._environment.cache_clear()
    seen = compiles(monkeypatch)
    assert page() == first
    assert "partials/macros.html" in seen


def test_a_template_edited_since_is_compiled_again(temp, tmp_path):
    override = tmp_path / "desk"
    (override / "partials").mkdir(parents=True)
    macro = override / "partials" / "macros.html"
    macro.write_text("version one", encoding="utf-8")
    assert page(override).startswith("version one")
    macro.write_text("version two", encoding="utf-8")
    render._environment.cache_clear()
    assert page(override).startswith("version two")


def test_a_link_in_place_of_the_cache_folder_is_not_followed(temp, tmp_path):
    if not hasattr(os, "getuid"):
        pytest.skip("Jinja keeps its per-user folder on POSIX")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder(temp).symlink_to(elsewhere, target_is_directory=True)
    assert code_cache(render.environment()) is None  # Jinja refuses the folder: no cache at all
    page()
    assert list(elsewhere.iterdir()) == []


def test_code_compiled_without_autoescape_is_never_loaded_into_the_brief(temp, tmp_path):
    """Another environment on the same files (here one that does not escape) writes files of its own."""
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "x.html").write_text("{{ value }}", encoding="utf-8")
    plain = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=False)
    plain.bytecode_cache = code_cache(plain)
    assert plain.get_template("x.html").render(value="<b>") == "<b>"
    safe = SandboxedEnvironment(loader=jinja2.FileSystemLoader(templates), autoescape=True)
    safe.bytecode_cache = code_cache(safe)
    assert safe.get_template("x.html").render(value="<b>") == "&lt;b&gt;"
    names = {p.name.split("_")[3] for p in folder(temp).iterdir()}  # __briefgen_<digest>_<key>.cache
    assert len(names) == 2


def test_a_temporary_folder_that_cannot_be_written_only_costs_the_compiling(temp, monkeypatch):
    def full(self, bucket):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", full)
    assert "{" not in page()
