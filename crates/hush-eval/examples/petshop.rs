//! Runs `hush eval petshop` without the `hush` binary:
//! `cargo run -p hush-eval --example petshop -- --data ../shared/datasets/petshop`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: hush_eval::petshop::PetshopArgs,
}

fn main() -> anyhow::Result<()> {
    hush_eval::petshop::run(Cli::parse().args)
}
