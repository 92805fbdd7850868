//! Runs `hush eval loghub` before the binary wires it: `cargo run -p hush-eval --example loghub -- --help`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::loghub::LoghubArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::loghub::run(Cli::parse().args)
}
