//! Runs `hush detect` without the `hush` binary: `cargo run -p hush-eval --example detect -- --input ...`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::detect::DetectArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::detect::run(Cli::parse().args)
}
