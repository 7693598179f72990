//! `agentver render <spec> --platform P`: a version as the platform's own agent object, and the
//! drift check against the platform's current one.

use agentver::names::id::RefSpec;
use agentver::platforms::{self, Platform};
use serde_json::Value;

use crate::cli::{CliError, CmdResult, Outcome, Ui, draft_at};

/// Print a version (default latest; <id>@draft for the draft) as a Vapi assistant, a Retell
/// {"agent", "llm"} or an ElevenLabs agent. With --against FILE: the differences from the
/// platform's current object, by JSON path; exit 1 when they differ.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// <id> or <id>@<ref>, ref = vN | N | draft | latest
    spec: String,
    /// vapi, retell or elevenlabs
    #[arg(long, value_parser = ["vapi", "retell", "elevenlabs"])]
    platform: String,
    /// The platform's current object (as its API returns it), to compare with
    #[arg(long, value_name = "FILE")]
    against: Option<std::path::PathBuf>,
    /// Write the object to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Read the draft from this commit instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let spec = super::spec(&args.spec)?;
    let platform = Platform::parse(&args.platform).expect("clap checked the name");
    let ws = ui.workspace()?;
    let located = ws.locate(&spec.agent, spec.reference_or(RefSpec::Latest), &draft_at(&args.rev))?;
    let rendered = platforms::render(platform, &located.bundle.config);
    for warning in &rendered.warnings {
        ui.status(&format!("warning: {warning}"));
    }
    let mut bytes = serde_json::to_vec_pretty(&rendered.object).map_err(|e| CliError::Io(e.into()))?;
    bytes.push(b'\n');
    if let Some(path) = &args.output {
        agentver::fsutil::write_atomic(path, &bytes).map_err(agentver::Error::from)?;
    }
    match &args.against {
        Some(file) => drift(ui, platform, &rendered.object, file),
        None => {
            if args.output.is_none() {
                ui.out().write_all(&bytes)?;
            }
            Ok(Outcome::Success)
        }
    }
}

fn drift(ui: &mut Ui, platform: Platform, rendered: &Value, file: &std::path::Path) -> CmdResult {
    let text = std::fs::read(file).map_err(|e| CliError::usage(format!("--against {}: {e}", file.display()), None))?;
    let current: Value = serde_json::from_slice(&text)
        .map_err(|e| CliError::usage(format!("--against {}: not JSON: {e}", file.display()), None))?;
    let changes = platforms::drift(platform, rendered, &current);
    if ui.json {
        ui.print_json(&changes)?;
    } else if changes.is_empty() {
        ui.status(&format!("no drift: {} matches the render", file.display()));
    } else {
        // The platform's object is the old side, the render the new: what applying it would do.
        let title = format!("{} (on {}) → render", file.display(), platform.title());
        let color = ui.color;
        crate::cli::render::text(ui.out(), &title, &changes, color)?;
        ui.status(&format!("{} field(s) drifted from the render", changes.len()));
    }
    Ok(if changes.is_empty() { Outcome::Success } else { Outcome::Negative })
}
