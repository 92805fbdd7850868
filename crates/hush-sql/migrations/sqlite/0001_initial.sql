-- Hush relational schema, SQLite dialect. Keep in step with migrations/postgres: the same tables,
-- columns and constraints; only types differ (JSON is TEXT here, JSONB there).
-- Ids are UUID v7 in hyphenated text; times are epoch milliseconds.

CREATE TABLE alerts (
    id           TEXT    PRIMARY KEY,
    fingerprint  TEXT    NOT NULL UNIQUE,
    source       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    labels       TEXT    NOT NULL,
    annotations  TEXT    NOT NULL,
    severity     TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    resend_count INTEGER NOT NULL DEFAULT 0,
    flap_count   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_last_seen ON alerts (last_seen);
CREATE INDEX alerts_status_last_seen ON alerts (status, last_seen);

CREATE TABLE events (
    id      TEXT    PRIMARY KEY,
    kind    TEXT    NOT NULL CHECK (kind IN ('anomaly', 'change', 'forecast')),
    service TEXT,
    series  TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    score   REAL,
    payload TEXT    NOT NULL
);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_kind_at ON events (kind, at);
CREATE INDEX events_service_at ON events (service, at);

CREATE TABLE incidents (
    id              TEXT    PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    priority        INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    title           TEXT    NOT NULL,
    opened_at       INTEGER NOT NULL,
    acknowledged_at INTEGER,
    resolved_at     INTEGER,
    updated_at      INTEGER NOT NULL,
    payload         TEXT    NOT NULL
);
CREATE INDEX incidents_opened_at ON incidents (opened_at);
CREATE INDEX incidents_state_opened_at ON incidents (state, opened_at);

CREATE TABLE incident_alerts (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    alert_id    TEXT    NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX incident_alerts_alert ON incident_alerts (alert_id);

-- Append-only hash chain. `details` is the canonical JSON text that was hashed, kept as text so
-- the stored bytes are exactly the hashed bytes.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL UNIQUE
);

-- Refuse edits through the application's own connection; the hash chain catches the rest.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
