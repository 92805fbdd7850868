#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 with a `test` database reachable without a
# password, as the SQL store's test suite expects (override with HUSH_TEST_POSTGRES_URL).
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  cluster_version=$(ls /etc/postgresql | head -n1)
  pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  # A fresh Debian install: trust loopback and create the test database.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
  grep -q "127.0.0.1/32 *trust" "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main reload
  sleep 1
  su postgres -c "createdb -h 127.0.0.1 test" 2>/dev/null || true
fi
psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null
echo "PostgreSQL ready on 127.0.0.1:5432"
