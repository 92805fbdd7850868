-- Pollers (remediation) ask for incidents changed since a time; keep that an index range scan.
CREATE INDEX incidents_updated_at ON incidents (updated_at);
