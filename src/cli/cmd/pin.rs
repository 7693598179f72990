//! `agentver pin <channel> <id>[@<ref>]`: point a channel at one configuration.

use agentver::format::channels::Pin;

use crate::cli::{CmdResult, Outcome, Ui};

/// Pin a channel in channels.toml, keeping the file's comments and layout.
///
/// A bare <id> freezes latest's number; @vN freezes N; @latest floats; @draft follows the
/// draft. Numbered pins also record the snapshot's tree.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// An E.164 number (+14155550100) or a name (web-widget)
    channel: String,
    /// <id> or <id>@<ref>, ref = vN | N | draft | latest
    spec: String,
}

/// `pin --json`: the channel and what it now serves.
#[derive(serde::Serialize)]
struct Pinned<'a> {
    channel: &'a str,
    agent: &'a str,
    /// A number, "latest" or "draft", as channels.toml holds it.
    version: Pin,
    tree: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let spec = super::spec(&args.spec)?;
    let ws = ui.workspace()?;
    let target = agentver::ops::pin::pin(&ws, &args.channel, &spec)?;
    if target.pin == agentver::format::channels::Pin::Latest && ws.latest(&spec.agent)?.is_none() {
        ui.status(&format!(
            "warning: {} has no version yet; the merge's publish makes v1, and {} serves nothing until then",
            spec.agent, args.channel
        ));
    }
    if ui.json {
        ui.print_json(&Pinned {
            channel: &args.channel,
            agent: target.agent.as_str(),
            version: target.pin,
            tree: target.tree,
        })?;
    } else {
        writeln!(ui.out(), "pinned {} to {} {}", args.channel, target.agent, target.pin)?;
    }
    Ok(Outcome::Success)
}
