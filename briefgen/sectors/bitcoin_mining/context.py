"""Turn the mining brief's inputs and metrics into what its templates print: a BriefContext.

The headline and key takeaways are drafted from the figures (narrative.py) unless the analysts
wrote them (brief.yaml's `title`, commentary/takeaways.md).
"""

from __future__ import annotations

SERIES = "Bitcoin mining"  # the note's name; brief.yaml's `title` overrides the headline, not this


def brief_context(inputs, metrics, charts, previous, commentary, sources, takeaways: str):
    """Assemble what the templates print: drafted headline and takeaways, unless the analysts wrote them.

    `commentary` is rendered by section, `takeaways` the text of commentary/takeaways.md.
    """
    from briefgen.html.render import BriefContext
    from briefgen.inputs.commentary import list_items
    from briefgen.sectors.bitcoin_mining import KEY_FIGURES
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
        series=SERIES,
        key_figures=KEY_FIGURES,
    )
