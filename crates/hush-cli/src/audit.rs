//! `hush audit`: check the audit hash chain, or export it, straight from the database (the
//! server need not run).

use anyhow::{Context, bail};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum AuditCmd {
    /// Walk the chain; on a break, name the first bad entry and exit non-zero.
    Verify(Target),
    /// Print every entry as one JSON line.
    Export(Target),
}

#[derive(clap::Args)]
pub struct Target {
    /// The server's data directory (its embedded database is `hush.db` there) [default: ./hush-data].
    #[arg(long, conflicts_with = "database")]
    data_dir: Option<PathBuf>,
    /// A database URL instead (`postgres://…` or `sqlite://…`).
    #[arg(long)]
    database: Option<String>,
}

impl Target {
    fn url(&self) -> anyhow::Result<String> {
        if let Some(u) = &self.database {
            return Ok(u.clone());
        }
        let dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./hush-data"));
        let file = dir.join("hush.db");
        // Opening would create an empty database and report a clean (empty) chain.
        if !file.is_file() {
            bail!("no database at `{}`", file.display());
        }
        Ok(format!("sqlite://{}", file.display()))
    }
}

pub fn run(cmd: AuditCmd) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start runtime")?;
    rt.block_on(async {
        let target = match &cmd {
            AuditCmd::Verify(t) | AuditCmd::Export(t) => t,
        };
        let db = hush_sql::SqlStore::open(&target.url()?)
            .await
            .context("failed to open the database")?;
        match cmd {
            AuditCmd::Verify(_) => match db.verify_audit_chain().await {
                Ok(head) => {
                    println!("audit chain ok: {} entries, head {}", head.len, head.hash);
                    Ok(())
                }
                Err(hush_sql::SqlError::AuditChainBroken(b)) => {
                    bail!("audit chain broken at entry {}: {}", b.seq, b.reason)
                }
                Err(e) => Err(e).context("failed to read the audit log"),
            },
            AuditCmd::Export(_) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let mut after = 0;
                loop {
                    let page = db.list_audit(after, 1000).await?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    for e in &page {
                        let details: serde_json::Value = serde_json::from_str(&e.details)
                            .unwrap_or(serde_json::Value::String(e.details.clone()));
                        let line = serde_json::json!({
                            "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                            "subject": e.subject, "details": details,
                            "prev_hash": e.prev_hash, "hash": e.hash,
                        });
                        writeln!(out, "{line}")?;
                    }
                }
                Ok(())
            }
        }
    })
}
