"""Answers are published only in aggregate, and only with at least 5 of them (published.instance_satisfaction)."""

from __future__ import annotations

from survey_helpers import answer_from_new_browser, make_link


def test_satisfaction_is_published_with_five_answers_and_not_with_four(survey_world):
    w = survey_world
    code = make_link(w.url, w.instance, w.activity)
    for score in (5, 4, 4, 3):  # four people, four browsers
        assert answer_from_new_browser(w, code, {"satisfaction": score}) == 201
    view = "SELECT responses, mean_score FROM published.instance_satisfaction WHERE instance_id = %s"
    assert w.sql(view, (w.instance,)) == []
    assert w.http.get(f"/instances/{w.instance}/card").json()["satisfaction"] is None
    assert answer_from_new_browser(w, code, {"satisfaction": 2}) == 201
    assert w.sql(view, (w.instance,)) == [(5, 3.6)]
    assert w.http.get(f"/instances/{w.instance}/card").json()["satisfaction"] == {"responses": 5, "mean_score": 3.6}
    # Each answer records its link, and the link's instance and activity.
    rows = w.sql("SELECT r.instance_id, r.activity_id, r.kind, r.answered_on = (now() AT TIME ZONE "
                 "'America/Argentina/Cordoba')::date FROM monitor.survey_responses r JOIN monitor.survey_links l "
                 "ON l.id = r.link_id WHERE l.code = %s", (code,))
    assert rows == [(w.instance, w.activity, "satisfaction", True)] * 5
