//! `agentver serve`: answer voice runtimes over HTTP from the revision a ref names, following it.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Serve "which configuration answers this call" over HTTP to voice runtimes and platform
/// webhooks, from the commit REF names, re-checked every interval and swapped in whole.
#[derive(clap::Args)]
pub struct Args {
    /// The address and port to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8700")]
    listen: String,
    /// The ref whose commit is served (channels.toml and drafts come from it)
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    follow: String,
    /// Before each check, fetch REF's branch and the agent tags from REMOTE
    #[arg(long, value_name = "REMOTE")]
    fetch: Option<String>,
    /// Seconds between checks of the followed ref and the tags
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    interval: u64,
    /// The call store to record decisions in (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
    /// Read the bearer token every /v1 request must carry from FILE (else AGENTVER_TOKEN)
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Allow listening beyond loopback with no token
    #[arg(long)]
    insecure_no_auth: bool,
    /// The URL the platforms reach this server at (https://agentver.example.com): Twilio signs
    /// it, so /hooks/twilio needs it
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// How each log line on stderr is written
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn token(ui: &mut Ui, args: &Args) -> Result<Option<String>, CliError> {
    let Some(file) = &args.token_file else {
        return Ok(std::env::var("AGENTVER_TOKEN").ok().filter(|t| !t.is_empty()));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::usage(format!("--token-file {}: {e}", file.display()), None))?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(file) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            ui.status(&format!(
                "warning: --token-file {}: others can read the token (mode {:o})\nhint: chmod 600 {}",
                file.display(),
                mode & 0o777,
                file.display()
            ));
        }
    }
    let token = text.trim_end_matches(['\n', '\r']);
    if token.is_empty() || token.contains(|c: char| c.is_control() || c == ' ') {
        return Err(CliError::usage(
            format!("--token-file {}: the token must be one line of visible characters", file.display()),
            Some("generate one with: openssl rand -hex 32".into()),
        ));
    }
    Ok(Some(token.to_owned()))
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let token = token(ui, &args)?;
    if let Some(url) = &args.public_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(CliError::usage(
            format!("--public-url '{}' is not an http(s) URL", url.escape_debug()),
            Some("give the URL the platforms call, e.g. --public-url https://agentver.example.com".into()),
        ));
    }
    let ws = ui.workspace()?;
    let store = agentver::serve::StoreOptions {
        location: agentver::calls::report::location(&ws, args.calls.as_deref())?,
        privacy: agentver::calls::report::privacy(&ws)?,
        spool: agentver::calls::report::spool_dir(&ws),
    };
    let (writer, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_target(false);
    let installed = match args.log_format {
        LogFormat::Text => tracing::subscriber::set_global_default(builder.finish()),
        LogFormat::Json => tracing::subscriber::set_global_default(builder.json().finish()),
    };
    installed.map_err(|e| CliError::usage(format!("installing the logger: {e}"), None))?;
    agentver::serve::run(agentver::serve::Options {
        root: ui.directory.clone(),
        listen: args.listen,
        follow: args.follow,
        fetch: args.fetch,
        interval: Duration::from_secs(args.interval),
        token,
        insecure_no_auth: args.insecure_no_auth,
        recorder: None,
        store: Some(store),
        hooks: agentver::serve::hooks::HookSecrets::from_env(),
        max_connections: None,
        public_url: args.public_url,
        twilio_stream_url: ws.config().platforms.twilio.stream_url.clone(),
    })?;
    Ok(Outcome::Success)
}
