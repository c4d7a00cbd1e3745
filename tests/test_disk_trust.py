"""What a build may touch: only files it can prove it wrote, never through a link out of its folders.

And what it may publish: a damaged cache entry or history never reaches a brief, nor stops one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.errors import OutputError, RenderError
from briefgen.store.cache import DEFAULT_MAX_BYTES, HEADER_BYTES, MAGIC, Cache, digest
from tests.conftest import ROOT


def _key(n: int | str) -> str:
    return digest(str(n))


def _age(path: Path, seconds: float) -> None:
    old = path.stat().st_mtime - seconds
    os.utime(path, (old, old))


# --- the cache on its own ---------------------------------------------------------------------


def test_eviction_keeps_to_its_bound_and_removes_only_its_own_entries(tmp_path: Path):
    root = tmp_path / ".cache"
    foreign = {
        root / "fontconfig" / "0123abcd-le64.cache-7": b"x" * 40_000,  # someone's ~/.cache
        root / "db" / "big.sqlite": b"y" * 60_000,
        root / "chart" / _key("not-ours"): b"an entry's name, not its header" * 100,
    }
    for path, data in foreign.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        _age(path, 10 * 86400)  # older than every entry: the first to go if eviction took them
    (root / "chart" / _key("a-folder")).mkdir()  # eviction that meets a folder must not crash
    (root / "fontconfig" / "sub").mkdir()

    cache = Cache(root, max_bytes=30_000)
    assert Cache.for_output(tmp_path).max_bytes == DEFAULT_MAX_BYTES == 200 * 1024 * 1024

    def stored() -> list[int]:
        return [path.stat().st_size for n in range(40) if (path := root / "chart" / _key(n)).exists()]

    for n in range(40):
        cache.put("chart", _key(n), bytes([n]) * 2_000)
        assert sum(stored()) <= 30_000

    for path, data in foreign.items():
        assert path.read_bytes() == data, path
    assert (root / "chart" / _key("a-folder")).is_dir()
    assert 10 <= len(stored()) <= 14
    assert sorted(p for _, p, _ in cache.entries()) == sorted(
        root / "chart" / _key(n) for n in range(40) if (root / "chart" / _key(n)).exists()
    )
    assert cache.get("chart", _key(39)) == bytes([39]) * 2_000  # the newest stay
    assert cache.get("chart", _key(0)) is None  # the oldest went


def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path: Path):
    cache = Cache(tmp_path / ".cache")
    data = b"<svg>" + bytes(range(256)) * 20 + b"</svg>"
    cache.put("chart", _key(1), data)
    cache.put("pdfchunk", _key(2), data)
    path = tmp_path / ".cache" / "chart" / _key(1)
    raw = bytearray(path.read_bytes())
    assert raw.startswith(MAGIC) and raw[HEADER_BYTES:] == data
    raw[len(raw) // 2] ^= 0x01  # one bit
    path.write_bytes(bytes(raw))
    chunk = tmp_path / ".cache" / "pdfchunk" / _key(2)
    chunk.write_bytes(chunk.read_bytes()[:-7])  # truncated

    assert cache.get("chart", _key(1)) is None
    assert cache.get("pdfchunk", _key(2)) is None
    assert cache.damaged == [f"chart/{_key(1)}", f"pdfchunk/{_key(2)}"]
    # An entry copied under another key does not pass for it either: the seal covers kind and key.
    shutil.copy(tmp_path / ".cache" / "chart" / _key(1), tmp_path / ".cache" / "chart" / _key(3))
    cache.put("chart", _key(1), data)
    assert cache.get("chart", _key(1)) == data
    (tmp_path / ".cache" / "chart" / _key(3)).write_bytes((tmp_path / ".cache" / "chart" / _key(1)).read_bytes())
    assert cache.get("chart", _key(3)) is None


def test_a_cache_folder_linking_out_of_the_output_folder_is_refused(tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "chart").mkdir(parents=True)
    output = tmp_path / "output"
    output.mkdir()
    (output / ".cache").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match=r"\.cache: a symbolic link leading out of"):
        Cache.for_output(output)
    (output / ".cache").unlink()
    (output / ".cache").mkdir()
    (output / ".cache" / "chart").symlink_to(elsewhere / "chart", target_is_directory=True)
    with pytest.raises(OutputError, match="chart: a symbolic link"):
        Cache.for_output(output).put("chart", _key(1), b"svg")
    assert list((elsewhere / "chart").iterdir()) == []


# --- whole builds ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The sample inputs and one cached build of them (copied by each test that builds)."""
    root = tmp_path_factory.mktemp("trust")
    shutil.copytree(ROOT / "inputs", root / "inputs")
    output = root / "output"
    result = CliRunner().invoke(main, ["build", "--inputs", str(root / "inputs"), "--output", str(output)])
    assert result.exit_code == 0, result.output
    return root / "inputs", output


def _build(inputs: Path, output: Path, *args: str):
    return CliRunner().invoke(main, ["build", "--inputs", str(inputs), "--output", str(output), *args])


def _brief(output: Path) -> dict[str, bytes]:
    files = [output / "brief.pdf", output / "brief.html", *sorted((output / "charts").glob("*.svg"))]
    return {p.relative_to(output).as_posix(): p.read_bytes() for p in files}


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _copy(built_output: Path, tmp_path: Path) -> Path:
    output = tmp_path / "output"
    shutil.copytree(built_output, output, symlinks=True)
    return output


def test_a_build_from_a_damaged_cache_is_byte_identical_and_says_so(built, tmp_path: Path):
    inputs, clean = built
    output = tmp_path / "output"
    shutil.copytree(clean / ".cache", output / ".cache")  # the entries, without the brief they made
    entries = sorted(p for p in (output / ".cache").glob("*/*") if p.is_file())
    kinds = {p.parent.name for p in entries}
    assert {"metrics", "skeleton", "chart", "chartset", "pdfchunk", "pdfmeta"} <= kinds
    for n, path in enumerate(entries):
        raw = bytearray(path.read_bytes())
        if n % 2:
            raw[len(raw) // 2] ^= 0x04
            path.write_bytes(bytes(raw))
        else:
            path.write_bytes(bytes(raw[: len(raw) // 3]))
    result = _build(inputs, output)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert _brief(output) == _brief(clean)
    warned = [line for line in result.output.splitlines() if "damaged cache entry" in line]
    assert warned and len(warned) <= len(entries)
    assert all(line.startswith("Warning: .cache/") for line in warned), warned
    # Replaced: each entry read back now passes its check.
    cache = Cache(output / ".cache")
    for path in entries:
        cache.get(path.parent.name, path.name)
    assert cache.damaged == []


def test_metrics_are_cached_as_json_and_a_brief_from_them_is_byte_identical(built, tmp_path: Path):
    inputs, clean = built
    [entry] = (clean / ".cache" / "metrics").iterdir()
    stored = json.loads(entry.read_bytes()[HEADER_BYTES:])  # data, not a pickle
    assert isinstance(stored, dict) and stored["$"] == "tuple"
    assert "import pickle" not in (ROOT / "briefgen" / "build.py").read_text()
    output = tmp_path / "output"
    shutil.copytree(clean / ".cache", output / ".cache")
    shutil.rmtree(output / ".cache" / "skeleton")  # the skeleton is made again, from the cached metrics
    result = _build(inputs, output)
    assert result.exit_code == 0, result.output
    assert _brief(output) == _brief(clean)


def test_snapshot_round_trips_inputs_and_metrics_exactly():
    import dataclasses

    import pandas as pd

    from briefgen.sectors.bitcoin_mining.inputs import load_inputs
    from briefgen.sectors.bitcoin_mining.metrics import compute
    from briefgen.store import snapshot

    inputs = load_inputs(ROOT / "inputs")
    value = (dataclasses.replace(inputs, commentary={}), compute(inputs))
    back = snapshot.loads(snapshot.dumps(value))

    def same(a, b, where):
        assert type(a) is type(b), where
        if dataclasses.is_dataclass(a):
            for f in dataclasses.fields(a):
                same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
        elif isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True, check_index_type=True, check_column_type=True)
            assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes], where
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b), where
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                same(x, y, f"{where}[{i}]")
        elif isinstance(a, float) and a != a:
            assert b != b, where
        else:
            assert a == b, where

    same(value, back, "value")
    with pytest.raises(snapshot.Damaged):  # a snapshot names only briefgen's dataclasses
        snapshot.loads(b'{"$": "dc", "cls": "os:system", "v": {}}')


@pytest.mark.parametrize("name", [".cache", "charts", "history.sqlite"])
def test_a_link_out_of_the_output_folder_is_refused_and_nothing_changes(built, tmp_path: Path, name: str):
    inputs, clean = built
    output = _copy(clean, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "someones.svg").write_bytes(b"<svg>not briefgen's</svg>")
    target = elsewhere / "their.sqlite" if name == "history.sqlite" else elsewhere
    if name == "history.sqlite":
        shutil.copy(output / name, target)
    if (output / name).is_dir():
        shutil.rmtree(output / name)
    else:
        (output / name).unlink(missing_ok=True)
    (output / name).symlink_to(target)
    before, outside = _brief(output), _tree(elsewhere)

    (inputs.parent / "revised").mkdir(exist_ok=True)
    revised = inputs.parent / "revised" / name.strip(".")
    if not revised.exists():
        shutil.copytree(inputs, revised)
        caps = revised / "market_caps.csv"
        caps.write_text(caps.read_text().replace("2026-01-14,MARA,", "2026-01-14,MARA,1"))
    result = _build(revised, output)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"{output / name}: a symbolic link leading out of {output}" in result.output
    assert _brief(output) == before
    assert _tree(elsewhere) == outside


def test_stale_charts_removed_only_when_briefgen_wrote_them(built, tmp_path: Path):
    inputs, clean = built
    output = _copy(clean, tmp_path)
    charts = output / "charts"
    listing = charts / ".briefgen-charts.json"
    manifest = json.loads(listing.read_text())["files"] if listing.exists() else {}  # none before this change
    # A chart an earlier build drew and this one does not, one the desk edited since, one of their own.
    ours, edited, theirs = b"<svg>old chart</svg>", b"<svg>edited</svg>", b"<svg>desk's logo</svg>"
    (charts / "retired.svg").write_bytes(ours)
    (charts / "edited.svg").write_bytes(edited)
    (charts / "logo.svg").write_bytes(theirs)
    manifest.update(
        {
            "retired.svg": hashlib.sha256(ours).hexdigest(),
            "edited.svg": hashlib.sha256(b"<svg>as drawn</svg>").hexdigest(),
        }
    )
    listing.write_text(json.dumps({"files": manifest}))
    (output / ".cache" / "last-build.json").unlink()  # build again, every stage from the cache

    result = _build(inputs, output)
    assert result.exit_code == 0, result.output
    assert (charts / "edited.svg").read_bytes() == edited and (charts / "logo.svg").read_bytes() == theirs
    assert not (charts / "retired.svg").exists()
    assert _brief(output) == {**_brief(clean), "charts/edited.svg": edited, "charts/logo.svg": theirs}
    left = json.loads(listing.read_text())["files"]
    assert set(left) == {p.name for p in clean.glob("charts/*.svg")}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped header"])
def test_a_damaged_history_is_moved_aside_and_the_build_goes_on(built, tmp_path: Path, damage: str):
    inputs, clean = built
    output = _copy(clean, tmp_path)
    history = output / "history.sqlite"
    raw = history.read_bytes()
    assert len(raw) >= 8192
    if damage == "garbage":
        broken = b"this is not a database " * 400
    elif damage == "truncated":
        broken = raw[: len(raw) // 2 + 100]
    else:
        broken = raw[:16] + bytes(b ^ 0xFF for b in raw[16:100]) + raw[100:]
    history.write_bytes(broken)
    (output / ".cache" / "last-build.json").unlink()  # a real build, recorded

    result = _build(inputs, output)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    aside = output / f"history.sqlite.damaged-{date.today().isoformat()}"  # UTC date; the test is not run at midnight
    assert aside.read_bytes() == broken
    assert "Warning: history.sqlite: the build history was damaged" in result.output
    assert f"moved to {aside.name}" in result.output
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT count(*) FROM builds").fetchone() == (1,)
    assert _brief(output) == _brief(clean)


# --- templates -------------------------------------------------------------------------------


def test_a_template_linking_out_of_its_folder_is_refused_by_name(built, tmp_path: Path):
    inputs, clean = built
    output = _copy(clean, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:TOP-SECRET-LINE\n")
    templates = tmp_path / "templates"
    (templates / "partials").mkdir(parents=True)
    (templates / "partials" / "analysts.html").symlink_to(secret)
    before = _brief(output)

    result = _build(inputs, output, "--templates", str(templates))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "partials/analysts.html: a symbolic link leading out of" in result.output
    assert _brief(output) == before
    assert not any(b"TOP-SECRET" in data for data in _tree(output).values())


def test_the_loader_and_the_fetcher_refuse_links_out_of_the_templates_folder(tmp_path: Path):
    from briefgen.html.render import environment
    from briefgen.pdf.fetcher import Refused, Resolver

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    templates = tmp_path / "templates"
    (templates / "static").mkdir(parents=True)
    (templates / "partials").symlink_to(tmp_path, target_is_directory=True)
    (templates / "static" / "brief.css").symlink_to(secret)
    (templates / "inside.html").write_text("fine")
    (templates / "alias.html").symlink_to(templates / "inside.html")  # a link that stays inside is followed

    env = environment(templates)
    assert env.get_template("alias.html").render() == "fine"
    with pytest.raises(RenderError, match=r"partials: a symbolic link leading out of"):
        env.get_template("partials/secret.txt")
    resolver = Resolver([templates], None)
    with pytest.raises(Refused, match=r"refused static/brief\.css: it resolves outside templates/"):
        resolver.locate("file:///briefgen/static/brief.css")
    assert resolver.locate("file:///briefgen/alias.html") == (templates / "inside.html").resolve()


# --- the delivery ledger -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["distribution.sqlite", ".distribution.lock"])
def test_the_ledger_refuses_links_out_of_the_output_folder(tmp_path: Path, name: str):
    from briefgen.distribute.ledger import Ledger

    output = tmp_path / "output"
    output.mkdir()
    (output / name).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match=f"{name}: a symbolic link leading out of"):
        Ledger(output).open()
    assert not (tmp_path / "elsewhere").exists()


def test_snapshot_round_trips_nullable_integers_and_refuses_other_extension_types():
    """A fetched market_caps.csv carries shares_outstanding as pandas' nullable Int64 (<NA> where blank)."""
    import pandas as pd

    from briefgen.store import snapshot

    frame = pd.DataFrame({"shares": pd.array([1_250_000, None, 3], dtype="Int64"), "x": [1.5, 2.0, float("nan")]})
    back = snapshot.loads(snapshot.dumps(frame))
    pd.testing.assert_frame_equal(frame, back, check_exact=True)
    assert str(back["shares"].dtype) == "Int64" and back["shares"].isna().tolist() == [False, True, False]
    with pytest.raises(snapshot.Unsupported):
        snapshot.dumps(pd.DataFrame({"c": pd.Categorical(["a", "b"])}))
    with pytest.raises(snapshot.Damaged):
        snapshot.loads(snapshot.dumps(frame).replace(b"nullable:Int64", b"nullable:category"))
