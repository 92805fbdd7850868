//! Opening a store: picking the backend from the URL, connection settings, migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::{OpContext, SqlError};

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, WAL journal.
    Sqlite,
    /// A shared PostgreSQL server.
    Postgres,
}

/// Pool settings; [`StoreOptions::default`] suits a single Hush node.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before failing as unavailable.
    pub acquire_timeout: Duration,
    /// How long SQLite waits on a locked database before failing.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(10),
        }
    }
}

// An enum over the two native pools rather than `sqlx::Any`: `Any` carries only the types both
// drivers share, so JSON would have to be text on PostgreSQL too (no JSONB to index labels by
// later), and per-backend settings (WAL, busy timeout, search_path) go through URL strings.
// With native pools every query is still written once — both dialects accept `$N` placeholders,
// `ON CONFLICT … DO UPDATE`, `RETURNING` and `CASE` — and `with_pool!` expands the one text for
// each driver, so each arm is type-checked against its own driver.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever native pool the store holds.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.inner.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) pool: Pool,
}

/// Hush's relational store: alerts, events, incidents and the audit chain.
///
/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) inner: Arc<Inner>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Opens `url` with default options and brings its schema up to date.
    ///
    /// `sqlite://path?mode=rwc` creates the file if missing; `postgres://user@host/db` connects
    /// to a server (add `?options[search_path]=schema` to keep Hush's tables in a schema).
    pub async fn open(url: &str) -> Result<Self, SqlError> {
        Self::open_with(url, &StoreOptions::default()).await
    }

    /// Opens `url` with `options` and brings its schema up to date.
    pub async fn open_with(url: &str, options: &StoreOptions) -> Result<Self, SqlError> {
        let shown = redact(url);
        let pool = match backend_of(url) {
            Some(Backend::Sqlite) => {
                let connect = SqliteConnectOptions::from_str(url)
                    .map_err(|source| SqlError::InvalidUrl {
                        url: shown.clone(),
                        source,
                    })?
                    // WAL lets readers run beside the one writer; NORMAL sync is durable in WAL
                    // mode except for the last transactions on power loss, not on a crash.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(options.busy_timeout)
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|source| SqlError::Connect {
                        url: shown.clone(),
                        source,
                    })?;
                SQLITE_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(|source| SqlError::Migrate {
                        url: shown.clone(),
                        source,
                    })?;
                Pool::Sqlite(pool)
            }
            Some(Backend::Postgres) => {
                let connect =
                    PgConnectOptions::from_str(url).map_err(|source| SqlError::InvalidUrl {
                        url: shown.clone(),
                        source,
                    })?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|source| SqlError::Connect {
                        url: shown.clone(),
                        source,
                    })?;
                POSTGRES_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(|source| SqlError::Migrate {
                        url: shown.clone(),
                        source,
                    })?;
                Pool::Postgres(pool)
            }
            None => return Err(SqlError::UnsupportedUrl { url: shown }),
        };
        Ok(Self {
            inner: Arc::new(Inner { pool }),
        })
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        match self.inner.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The highest migration applied to the database (0 before any).
    pub async fn schema_version(&self) -> Result<i64, SqlError> {
        const SQL: &str = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await)
            .op("read schema version")
    }

    /// The migration version this build expects; equal to [`Self::schema_version`] after open.
    pub fn expected_schema_version(&self) -> i64 {
        let migrator = match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Closes every pooled connection; later calls on any clone fail.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// The backend a URL names, by scheme.
pub fn backend_of(url: &str) -> Option<Backend> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
    match scheme.as_str() {
        "sqlite" => Some(Backend::Sqlite),
        "postgres" | "postgresql" => Some(Backend::Postgres),
        _ => None,
    }
}

/// `url` with the password of its user-info replaced by `***`, for error messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            backend_of("sqlite://hush.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(backend_of("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://u@h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("PostgreSQL://u@h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("mysql://u@h/db"), None);
        assert_eq!(backend_of("hush.db"), None);
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://a/b.db"), "sqlite://a/b.db");
    }
}
