"""Turn a sector's metrics into the brief's charts: specs, data slices and SVG bytes, each cached by its slice.

The chart stage of briefgen.build: every chart is keyed by the code and its own data slice (so a
market-cap edit redraws only the charts that show market caps), and the whole set by the tables'
key (so a template edit takes them all from the cache without importing matplotlib). `draw` is
what runs, in this process or in the build's forked child (briefgen.background).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from briefgen.background import Background, Gathering
from briefgen.sector import load_sector
from briefgen.store.cache import Cache, digest
from briefgen.store.keys import Keys


def chart_stage(metrics: Any, sector: str, keys: Keys, cache: Cache, parallel: bool):
    """The charts, and their SVG bytes to come: each SVG keyed by its own data slice, drawn only on a miss.

    The whole set is also keyed by the tables' key, so a build whose tables did not change (a
    template edit) takes every chart from the cache without importing matplotlib. Charts are
    named by their place in the build's folder, charts/<name>.svg. With `parallel`, the missing
    ones are drawn in a forked process (briefgen.background) while the build goes on.
    """
    from briefgen.charts import Chart

    listing = cache.get("chartset", keys.data)
    if listing is not None:
        entries = json.loads(listing)
        svgs = [cache.get("chart", entry["key"]) for entry in entries]
        if all(svg is not None for svg in svgs):
            listed = tuple(
                Chart(
                    e["name"],
                    Path("charts", f"{e['name']}.svg"),
                    e["title"],
                    e["alt"],
                    e["section"],
                    e["source"],
                    e["width"],
                )
                for e in entries
            )
            return (
                listed,
                entries,
                (),
                Gathering.done({e["name"]: svg for e, svg in zip(entries, svgs, strict=False) if svg is not None}),
            )

    from briefgen.charts import data_key

    charts, entries, cached, todo = [], [], {}, []
    for spec in load_sector(sector).charts().values():
        data = spec.data(metrics)
        if data is None:
            continue
        key = digest(keys.code, data_key(spec.name, data))
        svg = cache.get("chart", key)
        if svg is None:
            todo.append((spec.name, key, data))
        else:
            cached[spec.name] = svg
        chart = spec.chart(data, Path("charts", f"{spec.name}.svg"))
        charts.append(chart)
        entries.append(
            {
                "name": chart.name,
                "key": key,
                "title": chart.title,
                "alt": chart.alt,
                "section": chart.section,
                "source": chart.source,
                "width": chart.width,
            }
        )

    def keep(drawn: dict[str, bytes]) -> dict[str, bytes]:
        for name, key, _ in todo:
            cache.put("chart", key, drawn[name])
        cache.put("chartset", keys.data, json.dumps(entries, sort_keys=True).encode())
        return {entry["name"]: cached.get(entry["name"]) or drawn[entry["name"]] for entry in entries}

    jobs = [(sector, name, data) for name, _, data in todo]
    # One chart is not worth a process; nor is a batch worker's, whose siblings have the other cores.
    drawing = Background.start(draw, jobs) if parallel and len(jobs) > 1 else Background.done(draw(jobs))
    drawn = tuple(name for name, _, _ in todo)
    return tuple(charts), entries, drawn, Gathering(cached, frozenset(drawn), drawing.then(keep))


def draw(jobs: list[tuple[str, str, Any]]) -> dict[str, bytes]:
    """Each (sector, chart name, data slice) drawn to SVG bytes."""
    return {name: load_sector(sector).charts()[name].svg(data) for sector, name, data in jobs}
