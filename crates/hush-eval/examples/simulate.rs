//! Runs `hush simulate` without the `hush` binary: `cargo run -p hush-eval --example simulate -- --list`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::simulate::SimulateArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::simulate::run(Cli::parse().args)
}
