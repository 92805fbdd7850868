//! The store's conformance suite, written once and run against every backend: a temporary SQLite
//! file, and the PostgreSQL server CI starts (`HUSH_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). An unreachable PostgreSQL fails the run unless
//! `HUSH_SKIP_POSTGRES=1` says to skip it on purpose.

mod alerts;
mod audit;
mod concurrency;
mod events;
mod incidents;

use std::str::FromStr;

use hush_sql::{Backend, SqlStore};
use sqlx::Connection;

/// What a check needs besides the store: the URL (to reopen it, or to reach it as an outsider
/// would, for tampering).
pub struct Ctx {
    pub url: String,
    pub backend: Backend,
}

impl Ctx {
    /// Runs `sql` with string `binds` on a fresh connection outside the store.
    pub async fn raw(&self, sql: &str, binds: &[&str]) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)?;
                let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
                let mut query = sqlx::query(sql);
                for b in binds {
                    query = query.bind(b.to_string());
                }
                Ok(query.execute(&mut conn).await?.rows_affected())
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await?;
                let mut query = sqlx::query(sql);
                for b in binds {
                    query = query.bind(b.to_string());
                }
                Ok(query.execute(&mut conn).await?.rows_affected())
            }
        }
    }
}

/// Every check, in an order where later ones may rely on earlier rows but never on counts the
/// others leave behind. Tampering with the audit log comes last.
async fn suite(store: SqlStore, ctx: Ctx) {
    schema(&store, &ctx).await;
    alerts::check(&store).await;
    events::check(&store).await;
    incidents::check(&store).await;
    concurrency::check(&store, &ctx).await;
    audit::check(&store, &ctx).await;
}

async fn schema(store: &SqlStore, ctx: &Ctx) {
    assert_eq!(store.backend(), ctx.backend);
    let version = store.schema_version().await.unwrap();
    assert!(version >= 1, "migrations ran: version {version}");
    assert_eq!(version, store.expected_schema_version());
    if ctx.backend == Backend::Sqlite {
        // WAL is a property of the file, so an outside connection sees it too.
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&ctx.url).unwrap();
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
    // Opening again finds the schema current and changes nothing.
    let again = SqlStore::open(&ctx.url).await.unwrap();
    assert_eq!(again.schema_version().await.unwrap(), version);
    again.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hush.db").display());
    let store = SqlStore::open(&url).await.unwrap();
    suite(
        store.clone(),
        Ctx {
            url,
            backend: Backend::Sqlite,
        },
    )
    .await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conforms() {
    if std::env::var("HUSH_SKIP_POSTGRES").as_deref() == Ok("1") {
        eprintln!("postgres_conforms skipped: HUSH_SKIP_POSTGRES=1");
        return;
    }
    let base = std::env::var("HUSH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {base} is unreachable ({e}); start it (CI does), point \
             HUSH_TEST_POSTGRES_URL at one, or set HUSH_SKIP_POSTGRES=1 to skip on purpose"
            )
        });
    // A schema of its own per run, so parallel and repeated runs never see each other's rows.
    let schema = format!("hush_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={schema}");

    let run = tokio::spawn(async move {
        let store = SqlStore::open(&url).await.unwrap();
        suite(
            store.clone(),
            Ctx {
                url,
                backend: Backend::Postgres,
            },
        )
        .await;
        store.close().await;
    })
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(e) = run {
        std::panic::resume_unwind(e.into_panic());
    }
}
