"""Reading an index run's inputs from PostGIS: barrios (with census populations when loaded), active approved
instances with their standards and commitments, and satisfaction answers aggregated per instance and barrio (and,
for method 2's participant diversity, per instance, age band, gender and barrio of residence)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import psycopg
import shapely

from gis.index import census
from gis.index.grid import Barrios, to_metric
from gis.index.parameters import IndexParameters
from gis.index.pillars import AGE_BANDS, GENDERS, Instances, Participants, Responses

# Meetings per month by declared frequency, for `supply = "meetings_per_month"` (irregular: one every 2 months).
MEETINGS_PER_MONTH = {"weekly": 52 / 12, "biweekly": 26 / 12, "monthly": 1.0, "quarterly": 1 / 3, "yearly": 1 / 12,
                      "irregular": 0.5, "permanent": 52 / 12, None: 1.0}
POPULATION_METHODS = {"uniform_area_census_2022": "uniform estimate: census 2022 city total spread by area"}


@dataclass(frozen=True)
class Inputs:
    barrios: Barrios
    instances: Instances
    responses: Responses
    criteria: int  # how many minimum standards the checklist has
    themes: list[str]
    kinds: list[str]
    population_method: str
    grid_signature: str = ""
    participants: Participants = field(default_factory=Participants.empty)


BARRIOS_SQL = """
SELECT mslink, name, district_code, population, population_method, ST_AsBinary(geom)
FROM monitor.barrios ORDER BY mslink
"""
SIGNATURE_SQL = """
SELECT md5(string_agg(mslink::text || ':' || md5(ST_AsBinary(geom)), ',' ORDER BY mslink)) FROM monitor.barrios
"""
# {only}: nothing, or a restriction to the instances of `only_ids` (the incremental path re-reads changed ones).
# One text value of tab-separated lines (codes never hold a tab or "|", which joins the themes), parsed by pandas in C:
# with 100,000 instances, fetching rows (or COPY's one message per row) cost a second of Python.
INSTANCES_SQL = """
WITH standards AS (
    SELECT instance_id, count(*) FILTER (WHERE met) AS met FROM monitor.instance_standards
    WHERE deleted_at IS NULL {only_standards} GROUP BY instance_id
), commitments AS (
    SELECT instance_id, count(*) FILTER (WHERE due_date <= current_date) AS due,
           count(*) FILTER (WHERE due_date <= current_date AND status IN ('substantial', 'complete')) AS fulfilled
    FROM monitor.commitments WHERE deleted_at IS NULL {only_commitments} GROUP BY instance_id
)
SELECT string_agg(concat_ws(E'\t', i.id, i.kind, i.promoter, array_to_string(i.themes, '|'), i.modality, i.scope,
                            COALESCE(i.scope_barrio_id, -1), COALESCE(i.scope_district_code, ''),
                            COALESCE(i.district_code, ''),
                            CASE WHEN i.modality <> 'online' THEN ST_X(i.venue)::text ELSE '' END,
                            CASE WHEN i.modality <> 'online' THEN ST_Y(i.venue)::text ELSE '' END,
                            COALESCE(i.frequency, ''), COALESCE(s.met, 0), COALESCE(c.due, 0),
                            COALESCE(c.fulfilled, 0)), E'\n' ORDER BY i.id)
FROM monitor.instances i
LEFT JOIN standards s ON s.instance_id = i.id
LEFT JOIN commitments c ON c.instance_id = i.id
WHERE i.moderation = 'approved' AND i.deleted_at IS NULL AND i.status = 'active' {only_instances}
"""
INSTANCE_COLUMNS = ["id", "kind", "promoter", "themes", "modality", "scope", "scope_barrio", "scope_district",
                    "district", "lon", "lat", "frequency", "met", "due", "fulfilled"]
RESPONSES_SQL = """
SELECT r.instance_id, COALESCE(r.respondent_barrio_id, -1), count(*), sum(r.satisfaction)
FROM monitor.survey_responses r
JOIN monitor.instances i ON i.id = r.instance_id
WHERE r.kind = 'satisfaction' AND i.moderation = 'approved' AND i.deleted_at IS NULL AND i.status = 'active'
GROUP BY 1, 2
"""
# The same answers (the satisfaction survey of an instance's participants) by who answered.
PARTICIPANTS_SQL = """
SELECT r.instance_id, r.age_band, r.gender, COALESCE(r.respondent_barrio_id, -1), count(*)
FROM monitor.survey_responses r
JOIN monitor.instances i ON i.id = r.instance_id
WHERE r.kind = 'satisfaction' AND i.moderation = 'approved' AND i.deleted_at IS NULL AND i.status = 'active'
GROUP BY 1, 2, 3, 4
"""


def read_inputs(conn: psycopg.Connection, params: IndexParameters, instances: Instances | None = None) -> Inputs:
    """Every input of a run; `instances` when the caller already has them (the incremental path)."""
    rows = conn.execute(BARRIOS_SQL).fetchall()
    wgs84 = shapely.from_wkb([bytes(r[5]) for r in rows])
    transformer = to_metric()
    barrios = Barrios(
        ids=np.array([r[0] for r in rows], dtype=np.int64), names=[r[1] for r in rows],
        districts=np.array([r[2] for r in rows], dtype=object), population=np.array([r[3] for r in rows], float),
        geoms_wgs84=wgs84, geoms_metric=shapely.transform(wgs84, lambda xy: np.column_stack(
            transformer.transform(xy[:, 0], xy[:, 1]))))
    methods = sorted({POPULATION_METHODS.get(r[4], r[4]) for r in rows})
    from_census = census.barrio_population(conn, barrios.geoms_metric)
    if from_census is not None:
        barrios = replace(barrios, population=from_census[0])
        methods = [from_census[1]]
    if instances is None:
        instances = read_instances(conn, params)
    responses = responses_from_rows(conn.execute(RESPONSES_SQL).fetchall(), instances.ids, barrios.ids)
    participants = (participants_from_rows(conn.execute(PARTICIPANTS_SQL).fetchall(), instances.ids, barrios.ids)
                    if params.uses_participants else Participants.empty())
    return Inputs(
        barrios=barrios, instances=instances, responses=responses,
        criteria=conn.execute("SELECT count(*) FROM monitor.standard_criteria WHERE deleted_at IS NULL").fetchone()[0],
        themes=[r[0] for r in conn.execute("SELECT code FROM monitor.themes ORDER BY code")],
        kinds=[r[0] for r in conn.execute("SELECT code FROM monitor.instance_kinds ORDER BY code")],
        population_method=", ".join(methods) + "; areal weighting to H3 cells",
        grid_signature=conn.execute(SIGNATURE_SQL).fetchone()[0] or "",
        participants=participants,
    )


def read_instances(conn: psycopg.Connection, params: IndexParameters, only_ids=None) -> Instances:
    """Active approved instances (those of `only_ids` alone when given), ordered by id."""
    if only_ids is None:
        query = INSTANCES_SQL.format(only_standards="", only_commitments="", only_instances="")
    else:
        ids = "ARRAY[" + ",".join(str(int(i)) for i in only_ids) + "]::integer[]"  # integers only
        query = INSTANCES_SQL.format(only_standards=f"AND instance_id = ANY ({ids})",
                                     only_commitments=f"AND instance_id = ANY ({ids})",
                                     only_instances=f"AND i.id = ANY ({ids})")
    lines = conn.execute(query).fetchone()[0]
    if not lines:
        return instances_from_frame(pd.DataFrame({c: pd.Series(dtype=float if c in ("lon", "lat") else object)
                                                  for c in INSTANCE_COLUMNS}), params)
    text = {c: str for c in ("kind", "promoter", "themes", "modality", "scope", "scope_district", "district",
                             "frequency")}
    frame = pd.read_csv(io.StringIO(lines), sep="\t", header=None, names=INSTANCE_COLUMNS, dtype=text,
                        keep_default_na=False, quoting=csv.QUOTE_NONE,
                        na_values={"lon": [""], "lat": [""]})
    return instances_from_frame(frame, params)


def instances_from_frame(frame: pd.DataFrame, params: IndexParameters) -> Instances:
    n = len(frame)
    lon = frame.lon.to_numpy(dtype=float)
    lat = frame.lat.to_numpy(dtype=float)
    venues = np.full((n, 2), np.nan)
    has_venue = ~np.isnan(lon)
    if has_venue.any():
        x, y = to_metric().transform(lon[has_venue], lat[has_venue])
        venues[has_venue] = np.column_stack([x, y])
    frequency = frame.frequency.to_numpy(dtype=object)
    supply = (np.array([MEETINGS_PER_MONTH.get(f or None, 1.0) for f in frequency], dtype=float)
              if params.supply == "meetings_per_month" else np.ones(n))
    return Instances(
        ids=frame.id.to_numpy(np.int64), kinds=frame.kind.to_numpy(dtype=object),
        promoters=frame.promoter.to_numpy(dtype=object),
        themes=[t.split("|") if t else [] for t in frame.themes.tolist()],
        modality=frame.modality.to_numpy(dtype=object), scope=frame.scope.to_numpy(dtype=object),
        scope_barrio=frame.scope_barrio.to_numpy(np.int64), scope_district=frame.scope_district.to_numpy(dtype=object),
        district=frame.district.to_numpy(dtype=object), venues=venues, supply=supply,
        standards_met=frame.met.to_numpy(float), commitments_due=frame.due.to_numpy(float),
        commitments_fulfilled=frame.fulfilled.to_numpy(float),
    )


def responses_from_rows(rows: list[tuple], instance_ids: np.ndarray, barrio_ids: np.ndarray) -> Responses:
    instance_position = pd.Series(np.arange(len(instance_ids)), index=instance_ids)
    barrio_position = pd.Series(np.arange(len(barrio_ids)), index=barrio_ids)
    frame = pd.DataFrame(rows, columns=["instance", "barrio", "count", "total"])
    frame = frame[frame.instance.isin(instance_position.index)]
    barrio = frame.barrio.map(barrio_position).fillna(-1).to_numpy(np.int64)
    return Responses(instance=instance_position.loc[frame.instance].to_numpy(np.int64), barrio=barrio,
                     count=frame["count"].to_numpy(float), total=frame.total.to_numpy(float))


def participants_from_rows(rows: list[tuple], instance_ids: np.ndarray, barrio_ids: np.ndarray) -> Participants:
    """(instance id, age band, gender, respondent barrio id or -1, count) rows as category positions (-1: unstated)."""
    instance_position = pd.Series(np.arange(len(instance_ids)), index=instance_ids)
    frame = pd.DataFrame(rows, columns=["instance", "age_band", "gender", "barrio", "count"])
    frame = frame[frame.instance.isin(instance_position.index)]

    def position(values: pd.Series, categories) -> np.ndarray:
        lookup = pd.Series(np.arange(len(categories)), index=list(categories))
        return values.map(lookup).fillna(-1).to_numpy(np.int64)

    return Participants(instance=instance_position.loc[frame.instance].to_numpy(np.int64),
                        age_band=position(frame.age_band, AGE_BANDS), gender=position(frame.gender, GENDERS),
                        barrio=position(frame.barrio, barrio_ids), count=frame["count"].to_numpy(float))
