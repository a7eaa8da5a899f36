-- The participation registry: reference geography, catalogues, instances and what hangs off them,
-- the change history, and the published views that the read-only role sees.
-- Rules that protect the data live here, in the database, so that no client can bypass them.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA monitor;
CREATE SCHEMA published;

-- ---------------------------------------------------------------- catalogues
CREATE TABLE monitor.instance_kinds (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]*$'),
    label_es text NOT NULL,
    label_en text NOT NULL
);
INSERT INTO monitor.instance_kinds (code, label_es, label_en) VALUES
    ('consejo_barrial', 'Consejo barrial', 'Neighbourhood council'),
    ('presupuesto_participativo', 'Presupuesto participativo', 'Participatory budgeting'),
    ('vecinal', 'Asociación vecinal', 'Neighbourhood association'),
    ('thematic_council', 'Consejo temático', 'Thematic council'),
    ('roundtable', 'Mesa de trabajo', 'Roundtable'),
    ('public_hearing', 'Audiencia pública', 'Public hearing'),
    ('digital_process', 'Proceso digital (Rosario Participa)', 'Digital process'),
    ('cso_initiative', 'Iniciativa de la sociedad civil', 'Civil-society initiative'),
    ('district_centre', 'Centro Municipal de Distrito', 'Municipal district centre'),
    ('interdistrict_council', 'Consejo interdistrital', 'Inter-district council');

CREATE TABLE monitor.themes (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]*$'),
    label_es text NOT NULL,
    label_en text NOT NULL
);
INSERT INTO monitor.themes (code, label_es, label_en) VALUES
    ('ambiente', 'Ambiente', 'Environment'),
    ('movilidad', 'Movilidad', 'Mobility'),
    ('seguridad', 'Seguridad y convivencia', 'Safety'),
    ('salud', 'Salud', 'Health'),
    ('educacion', 'Educación', 'Education'),
    ('cultura', 'Cultura', 'Culture'),
    ('deporte', 'Deporte y recreación', 'Sport'),
    ('genero', 'Género y diversidad', 'Gender and diversity'),
    ('juventudes', 'Juventudes', 'Youth'),
    ('personas_mayores', 'Personas mayores', 'Older people'),
    ('discapacidad', 'Discapacidad e inclusión', 'Disability'),
    ('vivienda', 'Vivienda y hábitat', 'Housing'),
    ('espacio_publico', 'Espacio público', 'Public space'),
    ('economia_social', 'Economía social', 'Social economy'),
    ('gobierno_abierto', 'Gobierno abierto', 'Open government'),
    ('vida_barrial', 'Vida barrial y servicios urbanos', 'Neighbourhood life and services');

CREATE TABLE monitor.standard_criteria (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_0-9]*$'),
    ordinal smallint NOT NULL UNIQUE,
    label_es text NOT NULL,
    label_en text NOT NULL
);
INSERT INTO monitor.standard_criteria (code, ordinal, label_es, label_en) VALUES
    ('purpose_published', 1, 'Se publica el propósito y qué se decide', 'Purpose and what is decided are published'),
    ('participation_published', 2, 'Se publica cómo participar', 'How to take part is published'),
    ('agenda_ahead', 3, 'Agenda publicada con 7 días de anticipación', 'Agenda published at least 7 days ahead'),
    ('results_published', 4, 'Se publican resultados o actas', 'Results or minutes are published'),
    ('accessible_venue', 5, 'Sede accesible o acceso en línea', 'Accessible venue or online access'),
    ('inclusive_schedule', 6, 'Horario inclusivo (noche o fin de semana)', 'Inclusive schedule (evening or weekend)'),
    ('government_response', 7, 'El gobierno respondió las propuestas', 'The government answered the proposals'),
    ('commitments_tracked', 8, 'Los compromisos se siguen públicamente', 'Commitments are tracked publicly');

-- A catalogue entry in use cannot be removed: the arrays that hold codes have no foreign key of their own.
CREATE FUNCTION monitor.protect_theme() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM monitor.instances WHERE OLD.code = ANY (themes)) THEN
        RAISE EXCEPTION 'theme "%" is used by instances and cannot be removed', OLD.code
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$;

-- ---------------------------------------------------------------- reference geography
CREATE TABLE monitor.districts (
    id smallint PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z]+$'),
    name text NOT NULL,
    is_approximate boolean NOT NULL,
    boundary_method text NOT NULL,
    population double precision NOT NULL CHECK (population >= 0),
    population_method text NOT NULL,
    area_m2 double precision NOT NULL CHECK (area_m2 > 0),
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX districts_geom_idx ON monitor.districts USING gist (geom);
CREATE INDEX districts_geom_3857_idx ON monitor.districts USING gist (geom_3857);

CREATE TABLE monitor.barrios (
    mslink integer PRIMARY KEY CHECK (mslink > 0),
    name text NOT NULL CHECK (btrim(name) <> ''),
    district_code text NOT NULL REFERENCES monitor.districts (code) ON UPDATE CASCADE,
    district_method text NOT NULL,
    area_m2 double precision NOT NULL CHECK (area_m2 > 0),
    population double precision NOT NULL CHECK (population >= 0),
    population_method text NOT NULL,
    source text NOT NULL,
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX barrios_geom_idx ON monitor.barrios USING gist (geom);
CREATE INDEX barrios_geom_3857_idx ON monitor.barrios USING gist (geom_3857);

-- Which source files were loaded, with their checksums: provenance for every published layer.
CREATE TABLE monitor.datasets (
    name text PRIMARY KEY,
    path text NOT NULL,
    sha256 text NOT NULL,
    features integer NOT NULL,
    note text,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- actors
CREATE TABLE monitor.organizations (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (length(btrim(name)) >= 2),
    external_id text UNIQUE CHECK (external_id ~ '^[A-Za-z0-9:._/-]+$'),
    kind text NOT NULL CHECK (kind IN ('government_area', 'cso', 'vecinal', 'university', 'school',
                                       'company', 'international', 'other')),
    description text,
    website text CHECK (website ~ '^https?://'),
    source text NOT NULL CHECK (btrim(source) <> ''),
    is_demo boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);

-- ---------------------------------------------------------------- instances
-- Rosario's bounding box with a margin: a cheap first line against swapped axes and projected coordinates;
-- the trigger below then requires the point to fall inside a barrio.
CREATE FUNCTION monitor.in_rosario_bbox(g geometry) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT g IS NULL OR (ST_X(g) BETWEEN -60.83 AND -60.58 AND ST_Y(g) BETWEEN -33.07 AND -32.84)
$$;

CREATE TABLE monitor.instances (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    external_id text UNIQUE CHECK (external_id ~ '^[A-Za-z0-9:._/-]+$'),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 3 AND 200),
    description text NOT NULL DEFAULT '',
    kind text NOT NULL REFERENCES monitor.instance_kinds (code),
    promoter text NOT NULL CHECK (promoter IN ('state', 'cso', 'mixed')),
    organization_id integer REFERENCES monitor.organizations (id),
    themes text[] NOT NULL DEFAULT '{}',
    decides text,
    how_it_works text,
    how_to_participate text,
    modality text NOT NULL CHECK (modality IN ('in_person', 'online', 'hybrid')),
    venue geometry(Point, 4326)
        CONSTRAINT venue_valid CHECK (venue IS NULL OR (ST_IsValid(venue) AND NOT ST_IsEmpty(venue)))
        CONSTRAINT venue_in_rosario_bbox CHECK (monitor.in_rosario_bbox(venue)),
    venue_address text,
    online_url text CHECK (online_url ~ '^https?://'),
    scope text NOT NULL CHECK (scope IN ('barrio', 'district', 'city')),
    scope_barrio_id integer REFERENCES monitor.barrios (mslink),
    scope_district_code text REFERENCES monitor.districts (code) ON UPDATE CASCADE,
    scope_note text,
    schedule text,
    frequency text CHECK (frequency IN ('weekly', 'biweekly', 'monthly', 'quarterly', 'yearly',
                                        'irregular', 'permanent')),
    accessibility text[] NOT NULL DEFAULT '{}'
        CHECK (accessibility <@ ARRAY['wheelchair', 'sign_language', 'childcare', 'evening', 'weekend',
                                      'online_access', 'easy_read', 'interpretation']),
    contact text,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'ended')),
    start_date date,
    end_date date,
    source text NOT NULL CHECK (btrim(source) <> ''),
    source_url text,
    moderation text NOT NULL DEFAULT 'pending' CHECK (moderation IN ('pending', 'approved', 'rejected')),
    moderation_reason text,
    is_demo boolean NOT NULL DEFAULT false,
    barrio_id integer REFERENCES monitor.barrios (mslink),
    district_code text REFERENCES monitor.districts (code) ON UPDATE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by text,
    updated_by text,
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    venue_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(venue, 3857)) STORED,
    CONSTRAINT venue_required CHECK (modality = 'online' OR venue IS NOT NULL),
    CONSTRAINT online_url_required CHECK (modality = 'in_person' OR online_url IS NOT NULL),
    CONSTRAINT scope_barrio_given CHECK (scope <> 'barrio' OR scope_barrio_id IS NOT NULL),
    CONSTRAINT scope_district_given CHECK (scope <> 'district' OR scope_district_code IS NOT NULL),
    CONSTRAINT dates_ordered CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date),
    CONSTRAINT rejection_has_reason CHECK (moderation <> 'rejected' OR moderation_reason IS NOT NULL)
);
CREATE INDEX instances_venue_idx ON monitor.instances USING gist (venue);
CREATE INDEX instances_venue_3857_idx ON monitor.instances USING gist (venue_3857);
CREATE INDEX instances_themes_idx ON monitor.instances USING gin (themes);
CREATE INDEX instances_public_idx ON monitor.instances (id) WHERE moderation = 'approved' AND deleted_at IS NULL;
CREATE INDEX instances_org_idx ON monitor.instances (organization_id);

CREATE TRIGGER themes_in_use BEFORE DELETE OR UPDATE OF code ON monitor.themes
    FOR EACH ROW EXECUTE FUNCTION monitor.protect_theme();

CREATE TABLE monitor.instance_organizations (
    instance_id integer NOT NULL REFERENCES monitor.instances (id) ON DELETE CASCADE,
    organization_id integer NOT NULL REFERENCES monitor.organizations (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('promoter', 'co_organizer', 'participant', 'funder', 'technical_support')),
    PRIMARY KEY (instance_id, organization_id, role)
);

-- Who is writing: the API sets `monitor.actor` per transaction; otherwise the database user.
CREATE FUNCTION monitor.current_actor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT COALESCE(NULLIF(current_setting('monitor.actor', true), ''), session_user::text)
$$;

-- ---------------------------------------------------------------- placement: the spatial join
-- Rule for points on a shared boundary (documented in docs/data-model.md): ST_Intersects counts the
-- boundary as inside, so a point on the edge of two barrios matches both; the lowest MSLINK wins.
CREATE FUNCTION monitor.barrio_at(p geometry) RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT mslink FROM monitor.barrios WHERE ST_Intersects(geom, p) ORDER BY mslink LIMIT 1
$$;

CREATE FUNCTION monitor.place_instance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_barrio integer;
BEGIN
    IF NEW.themes IS NULL OR cardinality(NEW.themes) = 0 THEN
        RAISE EXCEPTION 'an instance needs at least one theme' USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(NEW.themes) t(code)
               WHERE NOT EXISTS (SELECT 1 FROM monitor.themes WHERE themes.code = t.code)) THEN
        RAISE EXCEPTION 'unknown theme in %; known themes: %', NEW.themes,
            (SELECT string_agg(code, ', ' ORDER BY code) FROM monitor.themes)
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Before placement, so that an empty or invalid point is refused as such and not as "outside Rosario".
    IF NEW.venue IS NOT NULL AND (ST_IsEmpty(NEW.venue) OR NOT ST_IsValid(NEW.venue)) THEN
        RAISE EXCEPTION 'venue is not a valid, non-empty point'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'venue_valid';
    END IF;
    IF NEW.venue IS NOT NULL THEN
        found_barrio := monitor.barrio_at(NEW.venue);
        IF found_barrio IS NULL THEN
            RAISE EXCEPTION 'venue POINT(% %) is outside Rosario: no barrio contains it',
                ST_X(NEW.venue), ST_Y(NEW.venue) USING ERRCODE = 'check_violation';
        END IF;
        NEW.barrio_id := found_barrio;
    ELSIF NEW.scope = 'barrio' THEN
        NEW.barrio_id := NEW.scope_barrio_id;
    ELSE
        NEW.barrio_id := NULL;
    END IF;
    IF NEW.scope = 'barrio' AND NEW.scope_barrio_id IS NULL THEN
        NEW.scope_barrio_id := NEW.barrio_id;
    END IF;
    NEW.district_code := COALESCE(
        (SELECT district_code FROM monitor.barrios WHERE mslink = NEW.barrio_id),
        CASE WHEN NEW.scope = 'district' THEN NEW.scope_district_code END);
    IF NEW.scope = 'district' AND NEW.scope_district_code IS NULL THEN
        NEW.scope_district_code := NEW.district_code;
    END IF;
    NEW.updated_by := monitor.current_actor();
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := NEW.updated_by;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER place_instance BEFORE INSERT OR UPDATE ON monitor.instances
    FOR EACH ROW EXECUTE FUNCTION monitor.place_instance();

-- Every update bumps the version (the ETag of the feature API) and stamps when.
CREATE FUNCTION monitor.touch_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER touch_instance BEFORE UPDATE ON monitor.instances
    FOR EACH ROW EXECUTE FUNCTION monitor.touch_row();
CREATE TRIGGER touch_organization BEFORE UPDATE ON monitor.organizations
    FOR EACH ROW EXECUTE FUNCTION monitor.touch_row();

-- ---------------------------------------------------------------- agenda
CREATE TABLE monitor.activities (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    instance_id integer NOT NULL REFERENCES monitor.instances (id),
    external_id text UNIQUE CHECK (external_id ~ '^[A-Za-z0-9:._/-]+$'),
    title text NOT NULL CHECK (length(btrim(title)) BETWEEN 3 AND 200),
    description text,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    timezone text NOT NULL DEFAULT 'America/Argentina/Cordoba',
    venue geometry(Point, 4326)
        CONSTRAINT activity_venue_valid CHECK (venue IS NULL OR (ST_IsValid(venue) AND NOT ST_IsEmpty(venue)))
        CONSTRAINT activity_venue_in_rosario_bbox CHECK (monitor.in_rosario_bbox(venue)),
    venue_address text,
    online_url text CHECK (online_url ~ '^https?://'),
    registration_url text CHECK (registration_url ~ '^https?://'),
    registration_required boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled', 'held')),
    source text NOT NULL CHECK (btrim(source) <> ''),
    is_demo boolean NOT NULL DEFAULT false,
    barrio_id integer REFERENCES monitor.barrios (mslink),
    district_code text REFERENCES monitor.districts (code) ON UPDATE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by text,
    updated_by text,
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    venue_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(venue, 3857)) STORED,
    CONSTRAINT activity_times_ordered CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CONSTRAINT activity_has_place CHECK (venue IS NOT NULL OR online_url IS NOT NULL)
);
CREATE INDEX activities_venue_idx ON monitor.activities USING gist (venue);
CREATE INDEX activities_venue_3857_idx ON monitor.activities USING gist (venue_3857);
CREATE INDEX activities_starts_idx ON monitor.activities (starts_at);
CREATE INDEX activities_instance_idx ON monitor.activities (instance_id);

-- An activity without its own place happens at its instance's venue; it is placed like an instance.
CREATE FUNCTION monitor.place_activity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent monitor.instances%ROWTYPE;
BEGIN
    BEGIN
        PERFORM now() AT TIME ZONE NEW.timezone;  -- pg_timezone_names would read every zone file per row
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'unknown time zone "%"', NEW.timezone USING ERRCODE = 'check_violation';
    END;
    SELECT * INTO parent FROM monitor.instances WHERE id = NEW.instance_id;
    IF NEW.venue IS NULL AND NEW.online_url IS NULL THEN
        NEW.venue := parent.venue;
        NEW.venue_address := COALESCE(NEW.venue_address, parent.venue_address);
        NEW.online_url := parent.online_url;
    END IF;
    IF NEW.venue IS NOT NULL AND (ST_IsEmpty(NEW.venue) OR NOT ST_IsValid(NEW.venue)) THEN
        RAISE EXCEPTION 'activity venue is not a valid, non-empty point'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'activity_venue_valid';
    END IF;
    IF NEW.venue IS NOT NULL THEN
        NEW.barrio_id := monitor.barrio_at(NEW.venue);
        IF NEW.barrio_id IS NULL THEN
            RAISE EXCEPTION 'activity venue POINT(% %) is outside Rosario: no barrio contains it',
                ST_X(NEW.venue), ST_Y(NEW.venue) USING ERRCODE = 'check_violation';
        END IF;
        NEW.district_code := (SELECT district_code FROM monitor.barrios WHERE mslink = NEW.barrio_id);
    ELSE
        NEW.barrio_id := parent.barrio_id;
        NEW.district_code := parent.district_code;
    END IF;
    NEW.updated_by := monitor.current_actor();
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := NEW.updated_by;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER place_activity BEFORE INSERT OR UPDATE ON monitor.activities
    FOR EACH ROW EXECUTE FUNCTION monitor.place_activity();
CREATE TRIGGER touch_activity BEFORE UPDATE ON monitor.activities
    FOR EACH ROW EXECUTE FUNCTION monitor.touch_row();

-- ---------------------------------------------------------------- standards, commitments, surveys
CREATE TABLE monitor.instance_standards (
    instance_id integer NOT NULL REFERENCES monitor.instances (id) ON DELETE CASCADE,
    criterion text NOT NULL REFERENCES monitor.standard_criteria (code),
    met boolean NOT NULL,
    evidence_url text CHECK (evidence_url ~ '^https?://'),
    note text,
    assessed_on date NOT NULL DEFAULT current_date,
    is_demo boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, criterion)
);

CREATE TABLE monitor.commitments (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    instance_id integer NOT NULL REFERENCES monitor.instances (id) ON DELETE CASCADE,
    external_id text UNIQUE CHECK (external_id ~ '^[A-Za-z0-9:._/-]+$'),
    description text NOT NULL CHECK (length(btrim(description)) >= 3),
    made_on date,
    due_date date,
    status text NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'limited', 'substantial', 'complete')),
    evidence_url text CHECK (evidence_url ~ '^https?://'),
    government_response text,
    source text NOT NULL CHECK (btrim(source) <> ''),
    is_demo boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT commitment_dates_ordered CHECK (due_date IS NULL OR made_on IS NULL OR due_date >= made_on)
);
CREATE INDEX commitments_instance_idx ON monitor.commitments (instance_id);
CREATE TRIGGER touch_commitment BEFORE UPDATE ON monitor.commitments
    FOR EACH ROW EXECUTE FUNCTION monitor.touch_row();

-- Survey answers are anonymous by construction: no column can hold a name, e-mail or address,
-- and the date is kept without a time of day.
CREATE TABLE monitor.survey_responses (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    instance_id integer REFERENCES monitor.instances (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('satisfaction', 'interest')),
    satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    interest smallint CHECK (interest BETWEEN 1 AND 5),
    interest_themes text[] NOT NULL DEFAULT '{}',
    respondent_barrio_id integer REFERENCES monitor.barrios (mslink),
    age_band text CHECK (age_band IN ('16-24', '25-34', '35-49', '50-64', '65+')),
    gender text CHECK (gender IN ('female', 'male', 'non_binary', 'other', 'prefer_not_to_say')),
    answered_on date NOT NULL DEFAULT current_date,
    is_demo boolean NOT NULL DEFAULT false,
    CONSTRAINT satisfaction_answer CHECK ((kind = 'satisfaction') = (satisfaction IS NOT NULL)),
    CONSTRAINT interest_answer CHECK (kind <> 'interest' OR interest IS NOT NULL),
    CONSTRAINT satisfaction_about_instance CHECK (kind <> 'satisfaction' OR instance_id IS NOT NULL)
);
CREATE INDEX survey_instance_idx ON monitor.survey_responses (instance_id);
CREATE INDEX survey_barrio_idx ON monitor.survey_responses (respondent_barrio_id);

CREATE FUNCTION monitor.check_interest_themes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(NEW.interest_themes) t(code)
               WHERE NOT EXISTS (SELECT 1 FROM monitor.themes WHERE themes.code = t.code)) THEN
        RAISE EXCEPTION 'unknown theme in %', NEW.interest_themes USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER survey_themes BEFORE INSERT OR UPDATE ON monitor.survey_responses
    FOR EACH ROW EXECUTE FUNCTION monitor.check_interest_themes();

-- ---------------------------------------------------------------- credentials
CREATE TABLE monitor.api_tokens (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (btrim(name) <> ''),
    role text NOT NULL CHECK (role IN ('admin', 'editor', 'organization')),
    organization_id integer REFERENCES monitor.organizations (id),
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used_at timestamptz,
    CONSTRAINT organization_token_has_organization CHECK ((role = 'organization') = (organization_id IS NOT NULL))
);

-- ---------------------------------------------------------------- change history (append-only)
CREATE TABLE monitor.history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    row_key text NOT NULL,
    action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    actor text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    transaction_id bigint NOT NULL DEFAULT txid_current(),
    old_values jsonb,
    new_values jsonb
);
CREATE INDEX history_row_idx ON monitor.history (table_name, row_key, id);

-- TG_ARGV lists the key columns. Generated Web Mercator copies are left out (they follow from `venue`/`geom`),
-- and so are token hashes (credentials never leave their table).
CREATE FUNCTION monitor.record_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'venue_3857' - 'geom_3857' - 'token_hash' END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'venue_3857' - 'geom_3857' - 'token_hash' END;
    key_row jsonb := COALESCE(new_row, old_row);
    row_key text := (SELECT string_agg(key_row ->> k, '/') FROM unnest(TG_ARGV) k);
BEGIN
    IF TG_OP = 'UPDATE' AND old_row = new_row THEN
        RETURN NULL;
    END IF;
    INSERT INTO monitor.history (table_name, row_key, action, actor, old_values, new_values)
    VALUES (TG_TABLE_NAME, row_key, lower(TG_OP), monitor.current_actor(), old_row, new_row);
    RETURN NULL;
END $$;

CREATE FUNCTION monitor.refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the change history is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON monitor.history
    FOR EACH ROW EXECUTE FUNCTION monitor.refuse_history_change();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON monitor.history
    FOR EACH STATEMENT EXECUTE FUNCTION monitor.refuse_history_change();

CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.instances
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('id');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.activities
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('id');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.organizations
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('id');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.instance_organizations
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('instance_id', 'organization_id', 'role');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.instance_standards
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('instance_id', 'criterion');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.commitments
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('id');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.api_tokens
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('id');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.barrios
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('mslink');
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.districts
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('code');
