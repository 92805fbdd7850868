//! Runs `hush logs parse` before the binary wires it: `cargo run -p hush-eval --example logs_parse -- --help`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::logs::ParseArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::logs::run(Cli::parse().args)
}
