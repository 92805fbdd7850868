//! The `hush` binary: a thin layer of argument parsing over the library crates.

mod audit;
mod bench;
mod cluster;
mod demo;
mod import;
mod runbooks;
mod serve;

use clap::{Parser, Subcommand};

/// Ingest allocates and frees many small strings per request; glibc's allocator spent close to
/// half of decode+append time in malloc/free under `hush bench store`, mimalloc far less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hush",
    version,
    about = "Hush: turn telemetry floods into a few explained incidents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server on the embedded store.
    Serve(serve::ServeArgs),
    /// Run the server fed by a simulated shop that misbehaves, naming each incident's root cause.
    Demo(demo::DemoArgs),
    /// The tamper-evident audit log: verify the chain, export it.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Cluster tools (cluster mode on NATS JetStream).
    #[command(subcommand)]
    Cluster(cluster::ClusterCmd),
    /// Load a CSV (`timestamp,value`) or Prometheus exposition file into the store.
    Import(import::ImportArgs),
    /// Backtest the anomaly detector over NAB-style CSV files.
    Detect(hush_eval::detect::DetectArgs),
    /// Write a simulated estate's telemetry and ground truth to files.
    Simulate(hush_eval::simulate::SimulateArgs),
    /// Forecast a `timestamp,value` CSV (or an M4-layout file with `--m4`) with intervals.
    Forecast(hush_eval::forecast::ForecastArgs),
    /// Replay Alertmanager alerts (JSON lines) through the correlator; one assignment per alert.
    Correlate(hush_eval::correlate::CorrelateArgs),
    /// Log tools.
    #[command(subcommand)]
    Logs(LogsCmd),
    /// Benchmarks of the metric path on a fixed dataset.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Score Hush on public benchmarks.
    #[command(subcommand)]
    Eval(EvalCmd),
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Check a configuration file (and its runbooks); errors name the line and column.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum LogsCmd {
    /// Mine templates from a log file into `LineId,EventId,EventTemplate,ParameterList`.
    Parse(hush_eval::logs::ParseArgs),
}

#[derive(Subcommand)]
enum EvalCmd {
    /// NAB anomaly benchmark.
    Nab(hush_eval::nab::NabArgs),
    /// Loghub-2k log parsing benchmark.
    Loghub(hush_eval::loghub::LoghubArgs),
    /// M4 hourly and weekly forecasting benchmark.
    M4(hush_eval::m4::M4Args),
    /// PetShop root-cause benchmark.
    Petshop(hush_eval::petshop::PetshopArgs),
    /// The demo's pipeline over simulated scenarios × seeds, scored against their truth.
    Scenarios(demo::eval::ScenariosArgs),
    /// Alert grouping on the simulator's alert storms.
    Correlation(hush_eval::correlate::eval::CorrelationArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Config(ConfigCmd::Check { file }) => {
            match hush_engine::config::Config::load(&file) {
                Ok(cfg) => runbooks::check(&cfg).map(|()| println!("{}: ok", file.display())),
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Import(a) => import::run(a),
        Command::Cluster(c) => cluster::run(c),
        Command::Audit(c) => audit::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Detect(a) => hush_eval::detect::run(a),
        Command::Simulate(a) => hush_eval::simulate::run(a),
        Command::Forecast(a) => hush_eval::forecast::run(a),
        Command::Correlate(a) => hush_eval::correlate::run(a),
        Command::Logs(LogsCmd::Parse(a)) => hush_eval::logs::run(a),
        Command::Eval(EvalCmd::Nab(a)) => hush_eval::nab::run(a),
        Command::Eval(EvalCmd::Loghub(a)) => hush_eval::loghub::run(a),
        Command::Eval(EvalCmd::M4(a)) => hush_eval::m4::run(a),
        Command::Eval(EvalCmd::Petshop(a)) => hush_eval::petshop::run(a),
        Command::Eval(EvalCmd::Scenarios(a)) => demo::eval::run(a),
        Command::Eval(EvalCmd::Correlation(a)) => hush_eval::correlate::eval::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
