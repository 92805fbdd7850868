-- Hush relational schema, PostgreSQL dialect. Keep in step with migrations/sqlite: the same
-- tables, columns and constraints; only types differ (JSONB here, TEXT there).
-- Ids are UUID v7 in hyphenated text; times are epoch milliseconds.

CREATE TABLE alerts (
    id           TEXT   PRIMARY KEY,
    fingerprint  TEXT   NOT NULL UNIQUE,
    source       TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    labels       JSONB  NOT NULL,
    annotations  JSONB  NOT NULL,
    severity     TEXT   NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('firing', 'resolved')),
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    resend_count BIGINT NOT NULL DEFAULT 0,
    flap_count   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX alerts_last_seen ON alerts (last_seen);
CREATE INDEX alerts_status_last_seen ON alerts (status, last_seen);

CREATE TABLE events (
    id      TEXT             PRIMARY KEY,
    kind    TEXT             NOT NULL CHECK (kind IN ('anomaly', 'change', 'forecast')),
    service TEXT,
    series  JSONB            NOT NULL,
    at      BIGINT           NOT NULL,
    score   DOUBLE PRECISION,
    payload JSONB            NOT NULL
);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_kind_at ON events (kind, at);
CREATE INDEX events_service_at ON events (service, at);

CREATE TABLE incidents (
    id              TEXT    PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    priority        INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    title           TEXT    NOT NULL,
    opened_at       BIGINT  NOT NULL,
    acknowledged_at BIGINT,
    resolved_at     BIGINT,
    updated_at      BIGINT  NOT NULL,
    payload         JSONB   NOT NULL
);
CREATE INDEX incidents_opened_at ON incidents (opened_at);
CREATE INDEX incidents_state_opened_at ON incidents (state, opened_at);

CREATE TABLE incident_alerts (
    incident_id TEXT   NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    alert_id    TEXT   NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    attached_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX incident_alerts_alert ON incident_alerts (alert_id);

-- Append-only hash chain. `details` is the canonical JSON text that was hashed, kept as TEXT (not
-- JSONB, which would reorder and renormalise it) so the stored bytes are exactly the hashed bytes.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    subject   TEXT   NOT NULL,
    details   TEXT   NOT NULL,
    prev_hash TEXT   NOT NULL,
    hash      TEXT   NOT NULL UNIQUE
);

-- Refuse edits through the application's own connection; the hash chain catches the rest.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
