"""The methodology page for a municipal reader, written from the parameters actually used.

docs/methodology.md is this text for the default configuration (`monitor methodology --output docs/methodology.md`);
GET /index/methodology renders it with the parameters (and method version) of the latest run. The page states the
rules the code applies; tests check its statements against the run's own values and hand-worked numbers.
"""

from __future__ import annotations

import math

import numpy as np

from gis.index.parameters import PILLARS, IndexParameters
from gis.index.pillars import AGE_BANDS, GENDERS, normalised_effective_number

# The worked example of method 2: answers about one barrio's offer, by dimension ({group: answers}, then answers
# that do not state it), the offer's theme diversity, and the city's number of barrios.
EXAMPLE_THEME_DIVERSITY = 0.40
EXAMPLE_BARRIOS = 50
EXAMPLE_ANSWERS = 12
EXAMPLE = {
    "age_band": ({"16-24": 2, "25-34": 3, "35-49": 4, "50-64": 2, "65+": 1}, 0, len(AGE_BANDS)),
    "gender": ({"female": 6, "male": 4}, 2, len(GENDERS)),
    "barrio": ({"the barrio itself": 7, "a neighbouring barrio": 3}, 2, EXAMPLE_BARRIOS),
}
DIMENSION_NAMES = {"age_band": "age band", "gender": "gender", "barrio": "barrio of residence"}


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


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _example(params: IndexParameters) -> str:
    """Method 2's formula on the fixed example above, with this configuration's k, dimensions and weight."""
    k, w = params.participant_min_answers, params.participant_weight
    rows, used = [], []
    for name in params.participant_dimensions:
        groups, unstated, size = EXAMPLE[name]
        counts = np.zeros((1, size))
        counts[0, :len(groups)] = list(groups.values())  # the other groups of the dimension have no answer
        stated, cap = int(counts.sum()), min(size, int(counts.sum()))
        effective = math.exp(-sum(c / stated * math.log(c / stated) for c in groups.values()))
        value = normalised_effective_number(counts, k)[0]
        split = ", ".join(f"{g} {c}" for g, c in groups.items()) + (f" ({unstated} not stated)" if unstated else "")
        shown = f"left out: fewer than {k}" if math.isnan(value) else f"{value:.3f}"
        rows.append(f"| {DIMENSION_NAMES[name]} | {split} | {stated} | {effective:.3f} | {cap} | {shown} |")
        if not math.isnan(value):
            used.append(value)
    table = "\n".join(["| dimension | answers by group | n | e^H | min(K, n) | value |", "|---|---|---|---|---|---|",
                       *rows])
    if not used:
        outcome = (f"No dimension is stated by {k} answers, so participant diversity is not used: diversity is "
                   f"the theme diversity alone, {EXAMPLE_THEME_DIVERSITY:.3f}, flagged `diversity_fallback`.")
    else:
        participants = sum(used) / len(used)
        mean = (f"({' + '.join(f'{v:.3f}' for v in used)}) / {len(used)} = {participants:.3f}" if len(used) > 1
                else f"{participants:.3f} (the only dimension left)")
        diversity = (1 - w) * EXAMPLE_THEME_DIVERSITY + w * participants
        outcome = (f"Participant diversity = {mean}. With a theme diversity of {EXAMPLE_THEME_DIVERSITY:.2f}, the "
                   f"pillar is {1 - w:g} × {EXAMPLE_THEME_DIVERSITY:.2f} + {w:g} × {participants:.3f} = "
                   f"**{diversity:.3f}**.")
    first = params.participant_dimensions[0]
    groups, _, size = EXAMPLE[first]
    stated = sum(groups.values())
    entropy = -sum(c / stated * math.log(c / stated) for c in groups.values())
    cap = min(size, stated)
    shares = ", ".join(f"{c}/{stated}" for c in groups.values())
    left_out = f", but it rests on fewer than {k} answers and is left out." if stated < k else "."
    walk = (f"For the {DIMENSION_NAMES[first]} dimension, the shares are {shares}, so H = −Σ p ln p = "
            f"{entropy:.3f} and e^H = {math.exp(entropy):.3f}: the answers are as diverse as "
            f"{math.exp(entropy):.1f} equally large groups; {stated} answers could fill {cap} of the {size} groups, "
            f"so the value is {math.exp(entropy):.3f} / {cap} = {math.exp(entropy) / cap:.3f}{left_out}")
    return f"""Worked example: {EXAMPLE_ANSWERS} answers about the instances of a barrio's offer, in a city of
{EXAMPLE_BARRIOS} barrios (K is 5 age bands, 4 genders, {EXAMPLE_BARRIOS} barrios).

{table}

{walk}
{outcome}"""


def _diversity(params: IndexParameters) -> str:
    themes = """Over the offer, each instance splits a weight of 1 equally among its themes; with `p_t` the share of
theme `t`, the Shannon entropy is `H = −Σ p_t ln p_t` and the effective number of themes `e^H` (the number of equally
represented themes that would be as diverse). **Theme diversity** = `e^H / K`, with `K` the number of themes in
the catalogue (0 for an empty offer)."""
    if not params.uses_participants:
        return f"""## Diversity (method version 1)
{themes} The diversity pillar is theme diversity. The effective number of instance kinds and the
state / civil society mix of the offer are reported beside it, not in the index."""
    k, w = params.participant_min_answers, params.participant_weight
    dimensions = _and([DIMENSION_NAMES[d] for d in params.participant_dimensions])
    return f"""## Diversity (method version 2)
{themes}

**Participant diversity** looks at who answered the satisfaction survey about the instances of the barrio's offer
(an answer about an instance open to the whole city counts for every barrio whose offer includes it). For each
dimension of an answer ({dimensions}) the answers that state it are counted by group; a
gender of "prefer not to say" or a blank answer states none. With `n` such answers, `p_g` the share of group `g`
and `K` the number of groups (5 age bands, 4 genders: female, male, non-binary, other; the city's barrios), the
dimension's value is

`D = e^H / min(K, n)` with `H = −Σ p_g ln p_g`,

the effective number of groups divided by the largest number of groups `n` answers could fill: 1 when the answers
are spread as evenly as they can be, 1/min(K, n) when they all fall in one group. A dimension stated by fewer than
**k = {k}** answers is left out (privacy: no value rests on fewer than {k} answers). Participant diversity is the
mean of the dimensions left.

The **diversity pillar** = `(1 − w) · theme diversity + w · participant diversity`, with **w = {w:g}**. When no
dimension is stated by {k} answers (always so when the offer has fewer than {k} answers), the pillar falls back
to **theme diversity alone** and the barrio is flagged `diversity_fallback`. Each barrio publishes its theme
diversity, its participant diversity and the number of answers behind it (never fewer than {k}). The effective
number of instance kinds and the state / civil society mix of the offer are reported beside it, not in the index.

{_example(params)}"""


def _rescaled(params: IndexParameters) -> str:
    """The weights that remain when satisfaction is missing, as a worked instance of the rescaling rule."""
    others = [p for p in PILLARS if p != "satisfaction"]
    total = sum(params.weights[p] for p in others)
    if total <= 0:
        return ""
    shares = ", ".join(f"{p} {params.weights[p] / total:.2f}" for p in others)
    return f" For example, a barrio without satisfaction is scored with {shares}."


def render(params: IndexParameters, run: dict | None = None) -> str:
    """The methodology in Markdown; `run` (id, computed_at, population_method, input_counts) adds where it came from."""
    supply = ("every instance counts as 1 (S = 1)" if params.supply == "unit"
              else "each instance counts its meetings per month, from its declared frequency")
    aggregation = ("the weighted arithmetic mean" if params.aggregation == "arithmetic"
                   else f"the weighted geometric mean, with a floor of {params.geometric_floor:g} point")
    k_sat = params.satisfaction_min_responses
    if params.uses_participants:
        diversity_item = (
            "3. **Diversity**: how many different themes the available instances cover (an effective number of\n"
            "   themes, Shannon), combined with how diverse the people who answered the survey about them are\n"
            "   (age band, gender, barrio of residence).")
        participant_rows = (
            f"| minimum answers for participant diversity (k) | {params.participant_min_answers} |\n"
            f"| participant dimensions | {', '.join(params.participant_dimensions)} |\n"
            f"| weight of participant diversity in diversity (w) | {params.participant_weight:g} |\n")
    else:
        diversity_item = (
            "3. **Diversity**: how many different themes the available instances cover, counted as an effective\n"
            "   number of themes (Shannon) and divided by the number of themes in the catalogue.")
        participant_rows = ""
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

Method version {params.method_version}. This page is written from the configuration the monitor actually uses; every
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
{diversity_item}
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

{_diversity(params)}

## Satisfaction and privacy
Satisfaction is the mean answer (1 to 5), mapped to 0–1 as `(score − 1) / 4`. It is taken from the first of these
that has at least **k = {k_sat}** answers:

1. the answers of the barrio's own residents (`residents`);
2. the answers about the instances in the barrio's offer, whoever gave them (`offer`);
3. the district's pooled answers: those of the residents of all its barrios and the anonymous answers about
   instances located in it (`district`, **imputed**);
4. the **city fallback**: every answer in the city (`city`, **imputed**).

When even the whole city has fewer than {k_sat} answers the pillar is **missing** for the barrio (`missing`) and
is dropped from its composite (see below). No value resting on fewer than {k_sat} answers is ever published, nor
the count of a smaller group: imputed values publish no count.

## The composite and the ranking
Each pillar is multiplied by 100 (fixed goalposts: 0 and 100 mean the same in every barrio and every year).
The weights are {_weights(params)}; the composite is {aggregation}. **A missing pillar is dropped and the
weights rescaled**: the composite of a barrio without a value for a pillar is computed from the other pillars, each
weight divided by the sum of the weights left so that they add up to 1 again.{_rescaled(params)} The same rule
holds in every Monte Carlo draw. District values are the population-weighted means of their barrios (over the
barrios with a value).

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
| method version | {params.method_version} |
| minimum answers for satisfaction (k) | {params.satisfaction_min_responses} |
{participant_rows}| weights | {_weights(params)} |
| aggregation | {params.aggregation} |
| Monte Carlo draws, seed | {params.monte_carlo_draws:,}, {params.monte_carlo_seed} |
"""
