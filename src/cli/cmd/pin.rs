//! `agentver pin <channel> <id>[@<ref>]`: point a channel at one configuration.

use agentver::format::channels::Pin;

use crate::cli::{CmdResult, Outcome, Ui};

/// Pin a channel in channels.toml, keeping the file's comments and layout.
///
/// A bare <id> freezes latest's number; @vN freezes N; @latest floats; @draft follows the
/// draft. Numbered pins also record the snapshot's tree.
#[derive(clap::Args)]
pub struct Args {
    /// An E.164 number (+14155550100) or a name (web-widget)
    channel: String,
    /// <id> or <id>@<ref>, ref = vN | N | draft | latest
    spec: String,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let spec = super::spec(&args.spec)?;
    let target = ui.workspace()?.pin(&args.channel, &spec)?;
    if ui.json {
        ui.print_json(&serde_json::json!({
            "channel": args.channel,
            "agent": target.agent,
            "version": match target.pin { Pin::Number(n) => serde_json::json!(n), other => serde_json::json!(other.to_string()) },
            "tree": target.tree,
        }))?;
    } else {
        writeln!(ui.out(), "pinned {} to {} {}", args.channel, target.agent, target.pin)?;
    }
    Ok(Outcome::Success)
}
