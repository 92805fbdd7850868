//! Runs `hush forecast` before the command is wired into the `hush` binary:
//! `cargo run --release -p hush-eval --example forecast -- --input in.csv --horizon 48 --output out.csv`.

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::forecast::ForecastArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::forecast::run(Cli::parse().args)
}
