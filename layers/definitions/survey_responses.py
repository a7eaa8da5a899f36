"""Survey answers are never published one by one (only in aggregate, with at least 5 answers): no layer, only
the policy `monitor import --layer survey_responses` uses for answers collected on paper."""

from gis import registry, tables
from gis.edits import EditPolicy, Reference

EDIT = EditPolicy(
    table=tables.survey_responses,
    model=registry.SurveyResponseIn,
    geometry_field=None,
    checks=(registry.check_activity_of_instance, registry.check_interest_themes),
    import_names=("survey_responses", "encuestas", "respuestas"),
    import_references=(Reference("instance_external_id", "instance_id", tables.instances, ("external_id",)),),
)
