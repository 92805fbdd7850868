//! Runs `hush eval m4` before the command is wired into the `hush` binary:
//! `cargo run --release -p hush-eval --example m4 -- --data ../shared/datasets/m4_subset`.

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::m4::M4Args,
}

fn main() -> anyhow::Result<()> {
    hush_eval::m4::run(Cli::parse().args)
}
