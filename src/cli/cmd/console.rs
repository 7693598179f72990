//! `agentver console`: the web console over the work tree, with the editor's actions.

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Serve the console (history, compare, restore, channels, calls, stats) over the work tree on
/// a loopback address, with the draft editor, Save version, Restore, Roll back, pins and splits.
#[derive(clap::Args)]
pub struct Args {
    /// The loopback address and port to listen on
    #[arg(long, value_name = "ADDR", default_value = agentver::console::server::DEFAULT_LISTEN)]
    listen: String,
    /// Open the console in the default browser
    #[arg(long)]
    open: bool,
    /// The call store to read (sqlite:PATH or postgres://...; default: agentver.toml's [calls]
    /// store, else .git/agentver/calls.sqlite)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    ui.workspace()?;
    let root = ui.directory.clone();
    // What fails on a page (a 500 on Save version, a failed call store) is logged on stderr.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    let logger = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    tracing::subscriber::set_global_default(logger)
        .map_err(|e| CliError::usage(format!("installing the logger: {e}"), None))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("starting the console's runtime: {e}"), None))?;
    runtime.block_on(async {
        let listener = agentver::console::server::bind(&args.listen).await?;
        let url = match listener.local_addr() {
            Ok(a) => format!("http://{a}/"),
            Err(_) => format!("http://{}/", args.listen),
        };
        ui.status(&format!("console at {url} (Ctrl-C stops it)"));
        if args.open {
            open(ui, &url);
        }
        agentver::console::server::serve(listener, root, args.calls, agentver::serve::shutdown_signal()).await?;
        Ok::<_, CliError>(())
    })?;
    Ok(Outcome::Success)
}

/// Opens `url` with the desktop's opener; says so when there is none.
fn open(ui: &mut Ui, url: &str) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    let started = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if started.is_err() {
        ui.status(&format!("warning: could not run {opener}; open {url} yourself"));
    }
}
