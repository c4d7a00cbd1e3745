"""Turn the mining brief's inputs and metrics into what its templates print: a BriefContext.

The headline and key takeaways are drafted from the figures (narrative.py) unless the analysts
wrote them (brief.yaml's `title`, commentary/takeaways.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefgen.store.figures import KeyFigure


def brief_context(
    inputs,
    metrics,
    charts,
    previous,
    commentary,
    sources,
    takeaways: str,
    *,
    series: str,
    key_figures: tuple[KeyFigure, ...],
):
    """Assemble what the templates print: drafted headline and takeaways, unless the analysts wrote them.

    `commentary` is rendered by section, `takeaways` the text of commentary/takeaways.md; `series`
    and `key_figures` are the sector's (its SECTOR).
    """
    from briefgen.html.render import BriefContext
    from briefgen.inputs.commentary import list_items
    from briefgen.sectors.bitcoin_mining.narrative import draft_headline, draft_takeaways

    config = inputs.config
    written = list_items(takeaways)
    drafted = draft_takeaways(metrics)
    if written:
        drafted = [*drafted, *written] if config.takeaways == "extend" else written
    return BriefContext(
        config=config,
        metrics=metrics,
        charts=charts,
        headline=config.title or draft_headline(metrics),
        takeaways=tuple(drafted),
        commentary=commentary,
        sources=sources,
        previous=previous,
        series=series,
        key_figures=key_figures,
    )
