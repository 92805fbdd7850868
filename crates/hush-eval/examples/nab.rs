//! Runs `hush eval nab` without the `hush` binary: `cargo run -p hush-eval --example nab -- --data ...`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::nab::NabArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::nab::run(Cli::parse().args)
}
