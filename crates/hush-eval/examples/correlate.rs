//! Runs `hush correlate` and `hush eval correlation` without the `hush` binary:
//! `cargo run -p hush-eval --example correlate -- replay --input alerts.jsonl --output out.jsonl`
//! or `cargo run --release -p hush-eval --example correlate -- eval --seeds 10`.
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// `hush correlate`
    Replay(hush_eval::correlate::CorrelateArgs),
    /// `hush eval correlation`
    Eval(hush_eval::correlate::eval::CorrelationArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Replay(a) => hush_eval::correlate::run(a),
        Cmd::Eval(a) => hush_eval::correlate::eval::run(a),
    }
}
