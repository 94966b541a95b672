//! The `sales_exporter` command: parses flags, sets up logging, loads the configuration and
//! runs the exporter (or one of its one-shot modes), mapping failures to exit codes.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Parser;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing_subscriber::EnvFilter;

use sales_exporter::config::{Config, ConfigError, EXAMPLE_CONFIG};
use sales_exporter::refresh::{Clock, Refresher};
use sales_exporter::signal::{self, SignalTo, Signals};
use sales_exporter::source::SalesSource;
use sales_exporter::{demo, http, indicators, report};

/// Exit code for an unusable configuration (EX_CONFIG from sysexits.h).
const EXIT_CONFIG: u8 = 78;

/// Serves sales performance indicators computed in the sales database to Prometheus.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML). Without it, `--demo` uses the bundled example config.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Address to serve on, overriding `web.listen_address` (e.g. 0.0.0.0:9745).
    #[arg(long = "web.listen-address", value_name = "ADDR")]
    listen_address: Option<SocketAddr>,

    /// Web config (exporter-toolkit YAML) enabling TLS and basic auth on the endpoints.
    #[arg(long = "web.config.file", value_name = "FILE")]
    web_config_file: Option<PathBuf>,

    /// Validate the configuration (and its secrets) and exit.
    #[arg(long)]
    check_config: bool,

    /// Run one refresh, print the exposition to stdout and exit.
    #[arg(long, conflicts_with = "report")]
    once: bool,

    /// Print the indicators as a table (scope, rep, team, window, values) and exit.
    #[arg(long)]
    report: bool,

    /// Print the SQL a refresh sends (one or two statements per relation, values inlined)
    /// and exit; on PostgreSQL it connects to read the types of the opportunity ids.
    #[arg(long, conflicts_with_all = ["once", "report"])]
    print_sql: bool,

    /// Evaluate the windows at this instant (RFC 3339, e.g. 2017-12-15T12:00:00Z) instead of now.
    #[arg(long, value_name = "INSTANT")]
    as_of: Option<Timestamp>,

    /// Write the demo sales database (dated relative to now) at the config's SQLite path first.
    #[arg(long)]
    demo: bool,

    /// Log filter, e.g. `info`, `debug` or `sales_exporter=trace` (default: RUST_LOG or info).
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
}

fn main() -> ExitCode {
    sales_exporter::allocator::limit_arenas();
    let cli = Cli::parse();
    init_logging(cli.log_level.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = error_chain(&err);
            eprintln!("error: {message}");
            if err.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The error and its causes joined by `: `, leaving out a cause whose text the message
/// already holds (several errors print their source themselves).
fn error_chain(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain().map(ToString::to_string) {
        if message.contains(&cause) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&cause);
    }
    message
}

fn init_logging(filter: Option<&str>) {
    let filter = match filter {
        Some(filter) => EnvFilter::new(filter),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Colours only on a terminal: under systemd stderr goes to the journal.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = load_config(&cli)?;
    let web = http::Web::load(cli.web_config_file.as_deref())?;
    if cli.check_config {
        let unavailable: Vec<&str> = (config.indicators.iter())
            .filter(|indicator| !indicators::is_available(**indicator, &config.model))
            .map(|indicator| indicator.name())
            .collect();
        if !unavailable.is_empty() {
            println!(
                "note: the mapping lacks what these indicators need, so they will have no series: {}",
                unavailable.join(", ")
            );
        }
        println!(
            "config OK: {} database, {} windows, {} indicators, {} targets",
            config.database.dialect.name(),
            2 * (config.periods.len() + config.rolling_days.len()),
            config.indicators.len(),
            config.targets.len()
        );
        return Ok(());
    }
    if cli.demo {
        write_demo(&config, cli.as_of.unwrap_or_else(Timestamp::now)).await?;
    }

    let clock = cli.as_of.map_or(Clock::Now, Clock::Fixed);
    let config = Arc::new(config);
    let source = SalesSource::connect_lazy(&config.database)
        .context("cannot prepare the database connection")?;
    if cli.print_sql {
        let windows = config
            .calendar
            .windows(clock.now(), &config.periods, &config.rolling_days)
            .context("cannot compute the windows")?;
        let mut out = String::new();
        let statements = source
            .statements(&config.queried_model(), &windows)
            .await
            .context("cannot print the statements")?;
        for (relation, sql) in statements {
            out.push_str(&format!("-- {relation}\n{sql};\n\n"));
        }
        source.close().await;
        std::io::stdout()
            .write_all(out.as_bytes())
            .context("cannot write to stdout")?;
        return Ok(());
    }
    if cli.report {
        let report = report::build(&config, &source, clock.now())
            .await
            .context("cannot compute the report")?;
        std::io::stdout()
            .write_all(report.render().as_bytes())
            .context("cannot write to stdout")?;
        return Ok(());
    }
    let mut refresher = Refresher::new(Arc::clone(&config), source, clock)?;
    if cli.once {
        refresher.refresh().await.context("the refresh failed")?;
        let exposition = refresher
            .published()
            .read()
            .map(|p| p.exposition.clone())
            .unwrap_or_default();
        std::io::stdout()
            .write_all(&exposition)
            .context("cannot write to stdout")?;
        return Ok(());
    }
    serve(&cli, config, refresher, web).await
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    if cli.config.is_none() && !cli.demo {
        bail!("no configuration: pass --config FILE, or --demo to try the bundled demo");
    }
    Ok(read_config(cli)?)
}

/// Reads the configuration the flags name (at start and on SIGHUP), with the flags'
/// overrides applied.
fn read_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::from_toml(EXAMPLE_CONFIG, Path::new("config.example.toml"))?,
    };
    if let Some(address) = cli.listen_address {
        config.listen_address = address;
    }
    Ok(config)
}

async fn write_demo(config: &Config, now: Timestamp) -> anyhow::Result<()> {
    let Some(path) = sales_exporter::source::sqlite_path(&config.database.url) else {
        bail!(
            "--demo needs a sqlite: database URL to write the demo data to, not {}",
            config.database.dialect.name()
        );
    };
    // The demo's own errors already name the file and the step that failed.
    let summary = demo::write_demo_database(&path, now).await?;
    tracing::info!(
        path = %path.display(),
        reps = summary.reps,
        opportunities = summary.opportunities,
        activities = summary.activities,
        costs = summary.costs,
        "Wrote the demo sales database"
    );
    Ok(())
}

/// Reloads that may wait while a refresh runs; more SIGHUPs than this are dropped.
const PENDING_RELOADS: usize = 4;

async fn serve(
    cli: &Cli,
    config: Arc<Config>,
    refresher: Refresher,
    web: http::Web,
) -> anyhow::Result<()> {
    // Before anything slow: SIGHUP's default action would end the process.
    let mut signals = Signals::install().context("cannot install the signal handlers")?;
    let listener = TcpListener::bind(config.listen_address)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another process using it?",
                config.listen_address
            )
        })?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        listen_address = %config.listen_address,
        config = %cli.config.as_deref().unwrap_or(Path::new("(bundled example)")).display(),
        database = config.database.dialect.name(),
        refresh_interval_secs = config.refresh_interval.as_secs(),
        "Serving sales indicators"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let (reload_tx, reload_rx) = mpsc::channel(PENDING_RELOADS);
    let published = refresher.published();
    let refresh_loop = tokio::spawn(refresher.run(stopped(stop_rx.clone()), reload_rx));
    let server = tokio::spawn(http::serve(listener, published, web, stopped(stop_rx)));
    signal::notify_ready("serving /metrics");

    loop {
        match signals.next().await {
            SignalTo::Reload => {
                signal::notify_reloading();
                tracing::info!(signal = "SIGHUP", "Reloading the configuration");
                if reload_tx.try_send(read_config(cli)).is_err() {
                    tracing::warn!("Too many reloads waiting for a refresh; this one is dropped");
                }
                signal::notify_ready("serving /metrics");
            }
            SignalTo::Shutdown(name) => {
                tracing::info!(signal = name, "Shutting down");
                break;
            }
        }
    }
    signal::notify_stopping();
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = refresh_loop.await;
    tracing::info!("Stopped");
    Ok(())
}
