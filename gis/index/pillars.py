"""The offer of each barrio and the quality, diversity and satisfaction pillars (method §4–6).

Diversity, method 2: theme diversity combined with the diversity of the participants who answered the survey about
the barrio's offer (`participant_diversity`, `diversity_pillar`); method 1 uses theme diversity alone."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import sparse

from gis.index.accessibility import DistanceModel
from gis.index.grid import Barrios, Grid


@dataclass(frozen=True)
class Instances:
    """Active, approved instances in one order (index j)."""

    ids: np.ndarray
    kinds: np.ndarray
    promoters: np.ndarray
    themes: list[list[str]]
    modality: np.ndarray
    scope: np.ndarray
    scope_barrio: np.ndarray  # MSLINK or -1
    scope_district: np.ndarray  # district code or ""
    district: np.ndarray  # district where it sits or "" (for satisfaction imputation)
    venues: np.ndarray  # (n, 2) EPSG:22185; nan for online-only instances
    supply: np.ndarray  # S_j
    standards_met: np.ndarray
    commitments_due: np.ndarray
    commitments_fulfilled: np.ndarray

    @property
    def in_person(self) -> np.ndarray:
        return ~np.isnan(self.venues[:, 0])


@dataclass(frozen=True)
class Responses:
    """Satisfaction answers (1–5) aggregated per (instance index j, respondent barrio index b or -1)."""

    instance: np.ndarray
    barrio: np.ndarray
    count: np.ndarray
    total: np.ndarray


# The categories of a survey answer that participant diversity counts (the CHECK constraints of
# monitor.survey_responses). `prefer_not_to_say` and a blank answer state no gender: they are left out of it.
AGE_BANDS = ("16-24", "25-34", "35-49", "50-64", "65+")
GENDERS = ("female", "male", "non_binary", "other")


@dataclass(frozen=True)
class Participants:
    """Survey answers about instances, counted per (instance j, age band, gender, respondent barrio b).

    Categories are positions in AGE_BANDS, GENDERS and the barrios; -1 = not stated."""

    instance: np.ndarray
    age_band: np.ndarray
    gender: np.ndarray
    barrio: np.ndarray
    count: np.ndarray

    @classmethod
    def empty(cls) -> Participants:
        none = np.empty(0, np.int64)
        return cls(instance=none, age_band=none, gender=none, barrio=none, count=np.empty(0))


@dataclass(frozen=True)
class Offer:
    """O_b as pairs: barrio index, instance index, effective distance (nan online), how the instance got in."""

    barrio: np.ndarray
    instance: np.ndarray
    distance_m: np.ndarray
    by_scope: np.ndarray
    by_proximity: np.ndarray

    def matrix(self, n_barrios: int, n_instances: int) -> sparse.csr_matrix:
        ones = np.ones(len(self.barrio))
        return sparse.csr_matrix((ones, (self.barrio, self.instance)), shape=(n_barrios, n_instances))


def scope_pairs(barrios: Barrios, inst: Instances) -> tuple[np.ndarray, np.ndarray]:
    """Instances whose scope covers b: its barrio, its district or the whole city."""
    n_b = len(barrios.ids)
    city = np.flatnonzero(inst.scope == "city")
    pairs_b = [np.repeat(np.arange(n_b), len(city))]
    pairs_j = [np.tile(city, n_b)]
    barrio_index = pd.Series(np.arange(n_b), index=barrios.ids)
    local = np.flatnonzero((inst.scope == "barrio") & np.isin(inst.scope_barrio, barrios.ids))
    pairs_b.append(barrio_index.loc[inst.scope_barrio[local]].to_numpy())
    pairs_j.append(local)
    district = pd.DataFrame({"j": np.flatnonzero(inst.scope == "district")})
    district["code"] = inst.scope_district[district.j]
    members = pd.DataFrame({"b": np.arange(n_b), "code": barrios.districts})
    joined = district.merge(members, on="code")
    pairs_b.append(joined.b.to_numpy())
    pairs_j.append(joined.j.to_numpy())
    return np.concatenate(pairs_b).astype(np.int64), np.concatenate(pairs_j).astype(np.int64)


def inhabited_cells(grid: Grid, piece_population: np.ndarray, n_barrios: int) -> list[np.ndarray]:
    """For each barrio, the cells where P_ib > 0."""
    keep = piece_population > 0
    order = np.argsort(grid.piece_barrio[keep], kind="stable")
    barrio, cell = grid.piece_barrio[keep][order], grid.piece_cell[keep][order]
    bounds = np.searchsorted(barrio, np.arange(n_barrios + 1))
    return [np.unique(cell[bounds[b]:bounds[b + 1]]) for b in range(n_barrios)]


def barrio_distances(cells: list[np.ndarray], centres: np.ndarray, venues: np.ndarray, model: DistanceModel,
                     limit: float = np.inf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b, venue index, d): the effective distance from each barrio's nearest inhabited cell centre to each venue,
    for the pairs within `limit`. One KD-tree query per barrio, of the venues near its bounding box only (each
    venue's answer is the same whichever others are asked with it)."""
    found_b, found_j, found_d = [], [], []
    reach = limit / getattr(model, "circuity", 1.0) * (1 + 1e-6) + 1.0 if np.isfinite(limit) else np.inf
    for b, own in enumerate(cells):
        if len(own) == 0 or len(venues) == 0:
            continue
        low, high = centres[own].min(axis=0) - reach, centres[own].max(axis=0) + reach
        near = np.flatnonzero((venues[:, 0] >= low[0]) & (venues[:, 0] <= high[0])
                              & (venues[:, 1] >= low[1]) & (venues[:, 1] <= high[1]))
        if len(near) == 0:
            continue
        distance, _ = model.nearest(venues[near], centres[own], limit, need_index=False)
        hit = np.flatnonzero(np.isfinite(distance))
        found_b.append(np.full(len(hit), b, dtype=np.int64))
        found_j.append(near[hit])
        found_d.append(distance[hit])
    if not found_b:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return np.concatenate(found_b), np.concatenate(found_j), np.concatenate(found_d)


def build_offer(grid: Grid, piece_population: np.ndarray, barrios: Barrios, inst: Instances,
                model: DistanceModel, limit: float, cells: list[np.ndarray] | None = None) -> Offer:
    """O_b: instances whose scope covers b, plus in-person ones within `limit` of an inhabited cell of b.

    Rows sorted by (barrio, instance). Each row depends on its barrio and instance alone, so the offer of a few
    instances (the incremental path) is exactly their rows of the whole city's."""
    cells = cells if cells is not None else inhabited_cells(grid, piece_population, len(barrios.ids))
    n = max(len(inst.ids), 1)
    in_person = np.flatnonzero(inst.in_person)
    near_b, near_j, near_d = barrio_distances(cells, grid.centres, inst.venues[in_person], model, limit)
    near_key = near_b * n + in_person[near_j]  # ascending already: by barrio, then venue
    scope_b, scope_j = scope_pairs(barrios, inst)
    scope_key = sorted_unique(scope_b * n + scope_j)
    key = sorted_unique(np.concatenate([scope_key, near_key]))
    b, j = key // n, key % n
    by_scope = contains(scope_key, key)
    by_proximity = contains(near_key, key)
    distance = np.full(len(key), np.nan)
    distance[by_proximity] = near_d
    far = np.flatnonzero(np.isnan(distance) & inst.in_person[j])  # in the offer by scope, beyond `limit`
    for barrio in np.unique(b[far]):
        rows = far[b[far] == barrio]
        distance[rows], _ = model.nearest(inst.venues[j[rows]], grid.centres[cells[barrio]], need_index=False)
    return Offer(barrio=b, instance=j, distance_m=distance, by_scope=by_scope, by_proximity=by_proximity)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique of integers by sorting (numpy's hash-based unique was seconds on these keys)."""
    values = np.sort(values, kind="stable")
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def contains(sorted_values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which `keys` are in `sorted_values` (ascending, unique)."""
    if len(sorted_values) == 0:
        return np.zeros(len(keys), bool)
    at = np.searchsorted(sorted_values, keys).clip(max=len(sorted_values) - 1)
    return sorted_values[at] == keys


def update_offer(prev: Offer, prev_ids: np.ndarray, changed_ids: np.ndarray, grid: Grid, cells: list[np.ndarray],
                 barrios: Barrios, inst: Instances, model: DistanceModel, limit: float) -> Offer:
    """The offer after the instances `changed_ids` changed (or went): their old rows dropped, their new rows
    computed (`build_offer` of them alone), the rest kept. `prev.instance` holds positions in `prev_ids`."""
    was_changed = np.isin(prev_ids, changed_ids)
    keep = ~was_changed[prev.instance]
    subset = np.flatnonzero(np.isin(inst.ids, changed_ids))
    part = build_offer(grid, np.empty(0), barrios, take_instances(inst, subset), model, limit, cells)
    # Kept rows are still in (barrio, id) order; the new ones go in where their key falls (no re-sort).
    position = np.searchsorted(inst.ids, prev_ids)  # an old instance's position now (kept ones are all there)
    kept_b, kept_j = prev.barrio[keep], position[prev.instance[keep]]
    part_j = subset[part.instance]
    n = max(len(inst.ids), 1)
    at = np.searchsorted(kept_b * n + kept_j, part.barrio * n + part_j)
    return Offer(barrio=np.insert(kept_b, at, part.barrio), instance=np.insert(kept_j, at, part_j),
                 distance_m=np.insert(prev.distance_m[keep], at, part.distance_m),
                 by_scope=np.insert(prev.by_scope[keep], at, part.by_scope),
                 by_proximity=np.insert(prev.by_proximity[keep], at, part.by_proximity))


def take_instances(inst: Instances, rows: np.ndarray) -> Instances:
    return Instances(**{f.name: ([getattr(inst, f.name)[r] for r in rows] if f.name == "themes"
                                 else getattr(inst, f.name)[rows]) for f in fields(Instances)})


def merge_instances(prev: Instances, changed_ids: np.ndarray, fresh: Instances) -> Instances:
    """`prev` with the instances `changed_ids` replaced by their `fresh` rows (absent there: gone), by id."""
    keep = np.flatnonzero(~np.isin(prev.ids, changed_ids))
    ids = np.concatenate([prev.ids[keep], fresh.ids])
    order = np.argsort(ids, kind="stable")
    merged = {}
    for f in fields(Instances):
        old, new = getattr(prev, f.name), getattr(fresh, f.name)
        if f.name == "themes":
            both = [old[k] for k in keep] + list(new)
            merged[f.name] = [both[k] for k in order]
        else:
            merged[f.name] = np.concatenate([old[keep], new])[order]
    return Instances(**merged)


def instance_quality(inst: Instances, n_criteria: int) -> np.ndarray:
    """q_j: share of the minimum standards met."""
    return inst.standards_met / n_criteria if n_criteria else np.zeros(len(inst.ids))


def follow_through(inst: Instances) -> np.ndarray:
    """f_j = fulfilled / due (nan when nothing is due yet); `substantial` and `complete` count as fulfilled."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inst.commitments_due > 0, inst.commitments_fulfilled / inst.commitments_due, np.nan)


def mean_over_offer(offer_matrix: sparse.csr_matrix, values: np.ndarray) -> np.ndarray:
    """Mean of a per-instance value over each barrio's offer, skipping nan; 0 for an empty offer."""
    known = ~np.isnan(values)
    total = offer_matrix @ np.where(known, values, 0.0)
    count = offer_matrix @ known.astype(float)
    return np.divide(total, count, out=np.zeros(len(total)), where=count > 0)


def label_incidence(labels: list[list[str]] | np.ndarray, categories: list[str]) -> sparse.csr_matrix:
    """(instances × categories): each instance splits a weight of 1 over its distinct labels from `categories`.

    `labels` is a list of label lists, or an array of one label per instance. Vectorised (categorical codes and
    np.unique rather than a loop over instances): with 100,000 instances the loop cost a second a run."""
    n = len(labels)
    if isinstance(labels, np.ndarray):
        owner, flat = np.arange(n), labels
    else:
        lengths = np.fromiter(map(len, labels), dtype=np.int64, count=n)
        owner = np.repeat(np.arange(n), lengths)
        flat = np.fromiter(itertools.chain.from_iterable(labels), dtype=object, count=int(lengths.sum()))
    codes = pd.Index(list(categories)).get_indexer(flat).astype(np.int64)  # -1: not a category
    known = codes >= 0  # a label outside the catalogue adds nothing to the shares
    marks = np.zeros((n, max(len(categories), 1)), dtype=bool)  # each label once per instance
    marks[owner[known], codes[known]] = True
    rows, cols = np.nonzero(marks)  # in (instance, category) order
    per_instance = np.bincount(rows, minlength=n)
    return sparse.csr_matrix((1.0 / per_instance[rows], (rows, cols)), shape=(n, len(categories)))


def category_shares(offer_matrix: sparse.csr_matrix, labels: list[list[str]] | np.ndarray,
                    categories: list[str]) -> np.ndarray:
    """Per barrio, the share of each category when every instance splits a weight of 1 over its labels."""
    mass = np.asarray((offer_matrix @ label_incidence(labels, categories)).todense())
    total = mass.sum(axis=1, keepdims=True)
    return np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)


def effective_number(shares: np.ndarray) -> np.ndarray:
    """e^H with H = −Σ p ln p (Shannon); 0 for an empty offer."""
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(shares > 0, shares * np.log(shares), 0.0).sum(axis=1)
    return np.where(shares.sum(axis=1) > 0, np.exp(entropy), 0.0)


def normalised_effective_number(counts: np.ndarray, k: int) -> np.ndarray:
    """Per row of category counts: e^H / min(K, n), n the answers counted and K the categories; nan when n < k.

    e^H (Shannon's effective number) is the number of equally large groups that would be as diverse; n answers can
    form at most min(K, n) groups, so the value is 1 when the answers are spread as evenly as they can be."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    shares = np.divide(counts, n[:, None], out=np.zeros_like(counts), where=n[:, None] > 0)
    cap = np.minimum(counts.shape[1], n)
    value = np.divide(effective_number(shares), cap, out=np.full(len(n), np.nan), where=cap > 0)
    return np.where(n >= k, value, np.nan)


@dataclass(frozen=True)
class ParticipantDiversity:
    value: np.ndarray  # mean over the dimensions of normalised_effective_number; nan when no dimension has k answers
    answers: np.ndarray  # N_b: answers about the barrio's offer (published only when `value` is used)
    dimensions: dict[str, np.ndarray]  # each dimension's value, nan below k answers stating it


def participant_diversity(offer_matrix: sparse.csr_matrix, participants: Participants, n_barrios: int, k: int,
                          dimensions: tuple[str, ...]) -> ParticipantDiversity:
    """Method 2: the diversity of the people who answered the survey about the instances of each barrio's offer.

    For each dimension (age band, gender, barrio of residence), the answers about O_b that state it are counted by
    category and scored by `normalised_effective_number`; a dimension stated by fewer than k answers is left out
    (privacy); the value is the mean of the dimensions left, nan when none is."""
    n_instances = offer_matrix.shape[1]
    p = participants
    answers = offer_matrix @ np.bincount(p.instance, weights=p.count, minlength=n_instances)
    categories = {"age_band": (p.age_band, len(AGE_BANDS)), "gender": (p.gender, len(GENDERS)),
                  "barrio": (p.barrio, n_barrios)}
    values = {}
    for name in dimensions:
        codes, size = categories[name]
        stated = codes >= 0
        by_instance = sparse.csr_matrix((p.count[stated], (p.instance[stated], codes[stated])),
                                        shape=(n_instances, size))  # repeated pairs add up
        values[name] = normalised_effective_number((offer_matrix @ by_instance).toarray(), k)
    stacked = np.column_stack([values[name] for name in dimensions])
    used = ~np.isnan(stacked)
    total = np.where(used, stacked, 0.0).sum(axis=1)
    count = used.sum(axis=1)
    value = np.divide(total, count, out=np.full(len(total), np.nan), where=count > 0)
    return ParticipantDiversity(value=value, answers=np.rint(answers).astype(np.int64), dimensions=values)


@dataclass(frozen=True)
class Diversity:
    value: np.ndarray  # the pillar
    themes: np.ndarray  # theme diversity (method 1's pillar)
    participants: np.ndarray  # participant diversity used in the pillar; nan when not used (or method 1)
    participant_answers: np.ndarray  # answers behind `participants` (0 when not used)
    fallback: np.ndarray  # method 2 only: too few answers, the pillar is theme diversity alone


def diversity_pillar(themes: np.ndarray, participants: ParticipantDiversity | None, weight: float) -> Diversity:
    """Method 2: (1 − w) · themes + w · participants, or themes alone (flagged) where participants is nan.
    Method 1 (`participants` None): themes."""
    n = len(themes)
    if participants is None:
        return Diversity(value=themes, themes=themes, participants=np.full(n, np.nan),
                         participant_answers=np.zeros(n, np.int64), fallback=np.zeros(n, bool))
    known = ~np.isnan(participants.value)
    value = np.where(known, (1 - weight) * themes + weight * np.where(known, participants.value, 0.0), themes)
    return Diversity(value=value, themes=themes, participants=participants.value,
                     participant_answers=np.where(known, participants.answers, 0), fallback=~known)


@dataclass(frozen=True)
class Satisfaction:
    score: np.ndarray  # mean answer 1–5, nan when not publishable
    value: np.ndarray  # (score − 1) / 4
    source: np.ndarray  # residents | offer | district | city | missing
    responses: np.ndarray  # answers behind a non-imputed value (0 otherwise: small groups are never published)
    imputed: np.ndarray


def satisfaction(barrios: Barrios, inst: Instances, responses: Responses, offer_matrix: sparse.csr_matrix,
                 k: int) -> Satisfaction:
    n_b = len(barrios.ids)
    resident = responses.barrio >= 0
    own_n = np.bincount(responses.barrio[resident], weights=responses.count[resident], minlength=n_b)
    own_sum = np.bincount(responses.barrio[resident], weights=responses.total[resident], minlength=n_b)
    per_inst_n = np.bincount(responses.instance, weights=responses.count, minlength=len(inst.ids))
    per_inst_sum = np.bincount(responses.instance, weights=responses.total, minlength=len(inst.ids))
    offer_n, offer_sum = offer_matrix @ per_inst_n, offer_matrix @ per_inst_sum

    score = np.full(n_b, np.nan)
    source = np.full(n_b, "missing", dtype=object)
    count = np.zeros(n_b, dtype=np.int64)
    for mask_n, mask_sum, name in ((own_n, own_sum, "residents"), (offer_n, offer_sum, "offer")):
        use = np.isnan(score) & (mask_n >= k)
        score[use] = mask_sum[use] / mask_n[use]
        count[use] = mask_n[use].astype(np.int64)
        source[use] = name

    # Imputation: the district's pooled answers (its residents, and anonymous answers about instances in it).
    anonymous_district = inst.district[responses.instance[~resident]]
    for code in np.unique(barrios.districts):
        members = barrios.districts == code
        n = own_n[members].sum() + responses.count[~resident][anonymous_district == code].sum()
        s = own_sum[members].sum() + responses.total[~resident][anonymous_district == code].sum()
        use = members & np.isnan(score)
        if n >= k and use.any():
            score[use], source[use] = s / n, "district"
    city_n, city_sum = responses.count.sum(), responses.total.sum()
    use = np.isnan(score)
    if city_n >= k and use.any():
        score[use], source[use] = city_sum / city_n, "city"
    imputed = np.isin(source, ["district", "city"])
    return Satisfaction(score=score, value=(score - 1.0) / 4.0, source=source, responses=count, imputed=imputed)


@dataclass(frozen=True)
class OfferPillars:
    offer_count: np.ndarray
    in_person_count: np.ndarray
    quality: np.ndarray
    follow_through: np.ndarray  # reported, not in the index
    diversity: np.ndarray
    effective_themes: np.ndarray
    effective_kinds: np.ndarray  # reported, not in the index
    promoter_shares: dict[str, np.ndarray]  # reported: state / cso / mixed mix of the offer


def offer_pillars(offer_matrix: sparse.csr_matrix, inst: Instances, n_criteria: int, themes: list[str],
                  kinds: list[str]) -> OfferPillars:
    theme_shares = category_shares(offer_matrix, inst.themes, themes)
    effective_themes = effective_number(theme_shares)
    promoters = category_shares(offer_matrix, np.asarray(inst.promoters, dtype=object), ["state", "cso", "mixed"])
    return OfferPillars(
        offer_count=np.asarray(offer_matrix.sum(axis=1)).ravel().astype(np.int64),
        in_person_count=(offer_matrix @ inst.in_person.astype(float)).astype(np.int64),
        quality=mean_over_offer(offer_matrix, instance_quality(inst, n_criteria)),
        follow_through=_nan_if_none(offer_matrix, follow_through(inst)),
        diversity=effective_themes / len(themes) if themes else np.zeros(offer_matrix.shape[0]),
        effective_themes=effective_themes,
        effective_kinds=effective_number(category_shares(offer_matrix, np.asarray(inst.kinds, dtype=object), kinds)),
        promoter_shares={p: promoters[:, k] for k, p in enumerate(["state", "cso", "mixed"])},
    )


def _nan_if_none(offer_matrix: sparse.csr_matrix, values: np.ndarray) -> np.ndarray:
    known = offer_matrix @ (~np.isnan(values)).astype(float)
    return np.where(known > 0, mean_over_offer(offer_matrix, values), np.nan)
