"""The methodology page for a municipal reader, written from the parameters actually used.

docs/methodology.md is this text for the default configuration (`monitor methodology --output docs/methodology.md`;
a test keeps them equal); GET /index/methodology renders it with the parameters of the latest run.
"""

from __future__ import annotations

from gis.index.parameters import METHOD_VERSION, PILLARS, IndexParameters


def _m(value: float) -> str:
    return f"{value:,.0f} m"


def _bands(params: IndexParameters) -> str:
    lower = 0.0
    rows = []
    for limit, weight in params.e2sfca_bands:
        rows.append(f"| {lower:,.0f} – {limit:,.0f} m | {weight:g} |")
        lower = limit
    rows.append(f"| beyond {lower:,.0f} m | 0 |")
    return "\n".join(["| effective distance | weight W(d) |", "|---|---|", *rows])


def _weights(params: IndexParameters) -> str:
    return ", ".join(f"{p} {params.weights[p]:.2f}" for p in PILLARS)


def render(params: IndexParameters, run: dict | None = None) -> str:
    """The methodology in Markdown; `run` (id, computed_at, population_method, input_counts) adds where it came from."""
    supply = ("every instance counts as 1 (S = 1)" if params.supply == "unit"
              else "each instance counts its meetings per month, from its declared frequency")
    aggregation = ("the weighted arithmetic mean" if params.aggregation == "arithmetic"
                   else f"the weighted geometric mean, with a floor of {params.geometric_floor:g} point")
    provenance = ""
    if run:
        counts = run.get("input_counts") or {}
        provenance = (
            f"\n## This run\nRun {run.get('id')} of {run.get('computed_at')}: {counts.get('instances', '?')} active "
            f"instances ({counts.get('in_person_or_hybrid', '?')} in person or hybrid), "
            f"{counts.get('satisfaction_responses', '?')} satisfaction answers, {counts.get('cells', '?')} H3 cells. "
            f"Population: {run.get('population_method')}.\n"
        )
    return f"""# How the Citizen Participation Index is calculated

Method version {METHOD_VERSION}. This page is written from the configuration the monitor actually uses; every
value below is a default that a co-creation workshop may change. Each run of the index stores the values it
used, and `GET /index` publishes them beside the results. The method follows the OECD/JRC guide to composite
indicators: a stated framework, fixed normalisation, stated weights and aggregation, and an uncertainty analysis.
{provenance}
## What is measured
For each of Rosario's 50 barrios (and for each of the 6 districts) the index combines four pillars, each from
0 (worst) to 1 (best):

1. **Accessibility**: the share of residents who have an in-person or hybrid participation instance within
   {_m(params.coverage_distance_m)} of walking.
2. **Quality**: how many of the minimum standards of the good-practice guide the instances available to the
   barrio meet (purpose published, how to take part, agenda 7 days ahead, minutes published, accessible venue,
   inclusive schedule, the government answered, commitments tracked).
3. **Diversity**: how many different themes the available instances cover, counted as an effective number of
   themes (Shannon) and divided by the number of themes in the catalogue.
4. **Satisfaction**: the average answer (1 to 5, mapped to 0–1) of residents to the satisfaction survey.

Only instances that are active and approved by moderation count. Demo records count like real ones while the
demo registry is loaded: they are flagged `is_demo` everywhere.

## Where people live
The city is covered by a grid of hexagons (H3, resolution {params.h3_resolution}). Each barrio's population is
shared among the hexagons it overlaps in proportion to the area of each overlap, so every resident is counted
exactly once and each barrio keeps its total. Until a census layer by small area is loaded, barrio populations
are an estimate: the 2022 census total for the city spread in proportion to area ("uniform estimate"). Once a
census layer is loaded (`monitor load census`), each census area's population is shared among the barrios it
overlaps in proportion to area ("census"). Every run states which of the two it used.

## Distance
Distance is measured from the centre of each hexagon to the venue in metres (EPSG:22185, the municipal
projection), and multiplied by {params.circuity_factor:g} to approximate walking on the street grid (the
"effective distance"). A hexagon is **covered** when its nearest in-person or hybrid instance is at most
{_m(params.coverage_distance_m)} away. Online instances have no venue and do not count for accessibility (they
do count for quality, diversity and satisfaction).

The monitor also reports, without putting it in the index, the E2SFCA accessibility score (Luo & Qi, 2009):
each instance's capacity ({supply}) divided by the population that can reach it, summed over the instances
within reach, per {params.e2sfca_per_population:,.0f} people. Nearer counts more:

{_bands(params)}

Per barrio the monitor publishes the share of residents covered (the accessibility pillar), the average
distance to the nearest instance, the average E2SFCA score and the **uncovered population**: residents with no
in-person instance within {_m(params.coverage_distance_m)}.

## The offer of a barrio
The instances available to a barrio are those whose scope covers it (the barrio itself, its district or the
whole city) plus in-person or hybrid instances within {_m(params.offer_distance_m)} of any inhabited hexagon of
the barrio. Quality, diversity and satisfaction are measured over this offer. An empty offer scores 0.

## Satisfaction and privacy
Satisfaction uses residents' own answers when there are at least {params.satisfaction_min_responses}; otherwise
the answers about the instances in the barrio's offer, again only with at least
{params.satisfaction_min_responses}. Without enough answers the value is **imputed** from the district (all
answers of its residents), or failing that from the whole city, and flagged `imputed`. No value resting on fewer
than {params.satisfaction_min_responses} answers is ever published.

## The composite and the ranking
Each pillar is multiplied by 100 (fixed goalposts: 0 and 100 mean the same in every barrio and every year).
The weights are {_weights(params)}; the composite is {aggregation}. District values are the
population-weighted means of their barrios.

Rankings depend on these choices, so the monitor tests them: it recomputes the ranking
{params.monte_carlo_draws:,} times, each time with weights drawn at random around the chosen ones
(Dirichlet, concentration {params.dirichlet_concentration:g}) and with the arithmetic or the geometric mean
chosen at random, and publishes each barrio's median rank and the range holding 90 % of its ranks (5th to 95th
percentile). The draws use a fixed seed ({params.monte_carlo_seed}), so the same data always give the same
published ranks. Where the interval is wide, the rank should not be read as exact.

## Gaps for planners
`GET /gaps` lists barrios by uncovered population (largest first) and then by lowest index: where a new
in-person instance would reach the most people who have none.

## When it is recalculated
After every change to instances, standards, commitments or survey answers, the index is recalculated in the
background a few seconds later ({params.debounce_seconds:g} s of quiet); `monitor compute` recalculates it on
demand. Every run is kept with its time, method version, parameters, population method and input counts
(`GET /index/runs`).

## Parameters
| parameter | value |
|---|---|
| H3 resolution | {params.h3_resolution} |
| circuity factor | {params.circuity_factor:g} |
| coverage distance | {_m(params.coverage_distance_m)} |
| offer distance | {_m(params.offer_distance_m)} |
| E2SFCA supply | {params.supply} |
| minimum answers for satisfaction | {params.satisfaction_min_responses} |
| weights | {_weights(params)} |
| aggregation | {params.aggregation} |
| Monte Carlo draws, seed | {params.monte_carlo_draws:,}, {params.monte_carlo_seed} |
"""
