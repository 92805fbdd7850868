//! `hush serve`: load config, open the engine, serve HTTP(S) until SIGINT/SIGTERM, then stop
//! background work and sync the WAL.

use anyhow::{Context, bail};
use hush_engine::Engine;
use hush_engine::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// YAML configuration file (every key is optional; see docs/configuration.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Directory for the embedded store [default: ./hush-data, or `data_dir` from the config].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9650, or `listen` from the config].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Allow a non-loopback listen address without API tokens.
    #[arg(long)]
    insecure: bool,
    /// Log format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    // One TLS crypto provider for the process (ring: no C toolchain beyond a small core).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    if let Some(l) = args.listen {
        config.listen.value = l;
    }
    if let Err(e) = config.check_exposure(args.insecure) {
        bail!(e);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start runtime")?;
    rt.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.listen.value;
    let tls = config.tls.clone();
    let engine = tokio::task::spawn_blocking(move || Engine::open(config)).await??;
    let tasks = engine.start();
    let app = hush_api::router(engine.clone());
    tracing::info!(%addr, data_dir = %engine.config.data_dir.display(), "hush serving");
    match tls {
        None => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("failed to listen on {addr}"))?;
            hush_api::serve(listener, app, shutdown_signal()).await?;
        }
        Some(tls) => {
            let cfg =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert_file, &tls.key_file)
                    .await
                    .with_context(|| {
                        format!(
                            "failed to load TLS certificate `{}`",
                            tls.cert_file.display()
                        )
                    })?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            axum_server::bind_rustls(addr, cfg)
                .handle(handle)
                .serve(app.into_make_service())
                .await?;
        }
    }
    tracing::info!("shutting down: stopping tasks and syncing the write-ahead log");
    engine.shutdown(tasks).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn init_logging(format: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("HUSH_LOG").unwrap_or_else(|_| "info".into());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}
