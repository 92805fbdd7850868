//! `hush cluster status`: reads the cluster's state straight from NATS, so it works while
//! nodes are down.

use anyhow::{Context, bail};
use hush_engine::config::Config;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum ClusterCmd {
    /// Nodes, shards and their owners, and each shard's consumer lag.
    Status {
        /// A node's configuration file (its `cluster` section names the NATS servers).
        #[arg(long)]
        config: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ClusterCmd) -> anyhow::Result<()> {
    let ClusterCmd::Status { config, json } = cmd;
    let cfg = Config::load(&config)?;
    let Some(cluster) = cfg.cluster else {
        bail!("`{}` has no `cluster` section", config.display());
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start runtime")?;
    let status = rt.block_on(hush_engine::cluster::status_of(&cluster))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", status.render());
    }
    Ok(())
}
