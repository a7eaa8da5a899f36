-- Back to 0007: answers keep their instance; the links and the link of each answer are dropped.
DROP TRIGGER survey_from_link ON monitor.survey_responses;
DROP FUNCTION monitor.survey_from_link();
DROP INDEX monitor.survey_link_idx;
ALTER TABLE monitor.survey_responses DROP COLUMN link_id, DROP COLUMN activity_id;
DROP TABLE monitor.survey_links;
DROP FUNCTION monitor.check_survey_link();
