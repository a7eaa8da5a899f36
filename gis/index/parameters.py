"""The index configuration: every number of the method that a co-creation workshop may change.

Read from the environment (`MONITOR_INDEX_<NAME>`, e.g. MONITOR_INDEX_H3_RESOLUTION=10), then from the
[index] section of `monitor.toml`, then the method's defaults. Every run records `as_record()` beside its results.

Method versions: "1" measures the diversity pillar by themes only; "2" (the default) combines theme diversity with
the diversity of the participants who answered the survey about the barrio's offer (age band, gender, barrio of
residence). Choose one with `method_version = "1"` under [index] or MONITOR_INDEX_METHOD_VERSION=1.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.config import _file_values

METHOD_VERSION = "2"  # the default (latest) method
METHOD_VERSIONS = ("1", "2")
PILLARS = ("accessibility", "quality", "diversity", "satisfaction")
# Method 2, participant diversity: the dimensions of a survey answer it counts (see gis/index/pillars.py).
PARTICIPANT_DIMENSIONS = ("age_band", "gender", "barrio")
# Only for method 2: a version 1 run neither uses nor records them.
PARTICIPANT_PARAMETERS = ("participant_weight", "participant_min_answers", "participant_dimensions")


class IndexParameters(BaseSettings):
    """The parameters of one index run; defaults are those of docs/methodology.md (method version 2)."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_INDEX_", extra="ignore", frozen=True)

    method_version: Literal["1", "2"] = Field(METHOD_VERSION, description="1: themes only; 2: themes and participants")

    h3_resolution: int = Field(9, ge=7, le=11, description="H3 resolution of the population grid")
    circuity_factor: float = Field(1.25, ge=1.0, le=3.0, description="straight-line metres × this = walking metres")
    coverage_distance_m: float = Field(800.0, gt=0, description="a cell is covered within this effective distance")
    # E2SFCA banded weights W(d): (upper bound of the band in effective metres, weight), nearest band first.
    e2sfca_bands: tuple[tuple[float, float], ...] = ((400.0, 1.0), (800.0, 0.68), (1200.0, 0.22))
    e2sfca_per_population: float = Field(10_000.0, gt=0, description="E2SFCA is reported per this many people")
    supply: Literal["unit", "meetings_per_month"] = "unit"
    offer_distance_m: float = Field(1200.0, ge=0, description="in-person instances this near a cell join the offer")
    satisfaction_min_responses: int = Field(5, ge=5, description="privacy threshold k: never publish fewer answers")
    # Method 2: diversity = (1 − w) · theme diversity + w · participant diversity (themes alone below k answers).
    participant_weight: float = Field(0.5, ge=0, le=1, description="w: share of participant diversity in diversity")
    participant_min_answers: int = Field(5, ge=5, description="privacy threshold k for participant diversity")
    participant_dimensions: tuple[Literal["age_band", "gender", "barrio"], ...] = Field(
        PARTICIPANT_DIMENSIONS, min_length=1, description="answer dimensions averaged into participant diversity")
    weights: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(PILLARS, 0.25))
    aggregation: Literal["arithmetic", "geometric"] = "arithmetic"
    geometric_floor: float = Field(1.0, gt=0, description="points: a pillar below this counts as this (geometric)")
    monte_carlo_draws: int = Field(1000, ge=10, le=100_000)
    monte_carlo_seed: int = 20211
    dirichlet_concentration: float = Field(50.0, gt=0, description="higher = draws closer to the chosen weights")
    keep_cell_runs: int = Field(10, ge=1, description="cell results and offers kept for this many latest runs")
    debounce_seconds: float = Field(2.0, ge=0.1, le=600, description="quiet time after a write before recomputing")
    compute_on_start: bool = Field(True, description="the API computes a first run when none exists")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Precedence: explicit arguments, then MONITOR_INDEX_* variables, then monitor.toml [index].
        return init_settings, env_settings, lambda: _file_values("index")

    @field_validator("e2sfca_bands")
    @classmethod
    def _bands_increase(cls, bands):
        limits = [b[0] for b in bands]
        if not bands or limits != sorted(limits) or len(set(limits)) != len(limits) or limits[0] <= 0:
            raise ValueError("e2sfca_bands need increasing positive distances")
        if any(w < 0 for _, w in bands):
            raise ValueError("e2sfca_bands weights must be ≥ 0")
        return tuple((float(d), float(w)) for d, w in bands)

    @field_validator("weights")
    @classmethod
    def _weights_cover_pillars(cls, weights):
        if set(weights) != set(PILLARS) or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"weights need one non-negative number for each of {', '.join(PILLARS)}")
        total = sum(weights.values())
        return {p: float(weights[p]) / total for p in PILLARS}

    @field_validator("method_version", mode="before")
    @classmethod
    def _version_as_text(cls, version):
        return str(version) if isinstance(version, int | float) else version  # `method_version = 1` in TOML

    @field_validator("participant_dimensions")
    @classmethod
    def _dimensions_once(cls, dimensions):
        if len(set(dimensions)) != len(dimensions):
            raise ValueError("participant_dimensions must not repeat a dimension")
        return tuple(dimensions)

    @model_validator(mode="after")
    def _reach_covers_coverage(self):
        if self.max_band_m < self.coverage_distance_m:
            raise ValueError("the last E2SFCA band must reach at least the coverage distance")
        return self

    @property
    def max_band_m(self) -> float:
        return self.e2sfca_bands[-1][0]

    @property
    def uses_participants(self) -> bool:
        return self.method_version == "2"

    def as_record(self) -> dict:
        """What a run stores and publishes: every parameter that changes the results (and the method version)."""
        excluded = {"keep_cell_runs", "debounce_seconds", "compute_on_start"}
        if not self.uses_participants:
            excluded |= set(PARTICIPANT_PARAMETERS)
        record = self.model_dump(exclude=excluded)
        record["e2sfca_bands"] = [{"max_distance_m": d, "weight": w} for d, w in self.e2sfca_bands]
        if self.uses_participants:
            record["participant_dimensions"] = list(self.participant_dimensions)
        record["distance"] = "euclidean_epsg22185_times_circuity"
        return record


def load_parameters(**overrides) -> IndexParameters:
    return IndexParameters(**overrides)


def parameters_from_record(record: dict) -> IndexParameters:
    """The parameters of a stored run, e.g. to render the methodology with the values actually used."""
    values = {k: v for k, v in record.items() if k in IndexParameters.model_fields}
    values.setdefault("method_version", "1")  # runs recorded before method 2 existed
    if isinstance(values.get("e2sfca_bands"), list):
        values["e2sfca_bands"] = tuple((b["max_distance_m"], b["weight"]) for b in values["e2sfca_bands"])
    return IndexParameters(**values)
