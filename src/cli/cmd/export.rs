//! `agentver export`: the deterministic deployment bundle.

use std::path::PathBuf;

use crate::cli::{CmdResult, Outcome, Ui};

/// Write a JSON bundle of every channel's resolved targets (numbers, trees, weights, sticky,
/// salt) and the full config of every version any channel can serve, at a revision. The same
/// revision always gives the same bytes; a runtime loads it with no git.
#[derive(clap::Args)]
pub struct Args {
    /// Write to FILE (atomically) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The revision to export
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    rev: String,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let bundle = agentver::ops::export::export(&ui.workspace()?, &args.rev)?;
    let mut bytes = serde_json::to_vec_pretty(&bundle).map_err(|e| crate::cli::CliError::Io(e.into()))?;
    bytes.push(b'\n');
    match args.output {
        Some(path) => {
            let path = if path.is_absolute() { path } else { ui.directory.join(path) };
            agentver::fsutil::write_atomic(&path, &bytes).map_err(agentver::Error::from)?;
            ui.status(&format!(
                "exported {} channel{} and {} config{} at {} to {}",
                bundle.channels.len(),
                if bundle.channels.len() == 1 { "" } else { "s" },
                bundle.configs.len(),
                if bundle.configs.len() == 1 { "" } else { "s" },
                &bundle.revision[..12],
                path.display()
            ));
        }
        None => ui.out().write_all(&bytes)?,
    }
    Ok(Outcome::Success)
}
