//! `agentver resolve <channel>`: which exact configuration serves one call.

use agentver::routing::resolve::{Call, Resolver};

use crate::cli::{CmdResult, Outcome, Ui, draft_at};

/// Answer, for one call, exactly which configuration serves it. Prints JSON: channel, variant,
/// agent, version, tag, tree, bucket and the full config, so a call record can store exactly what
/// served it and replay it.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// An E.164 number or a name
    channel: String,
    /// The caller's number (the bucketing key for sticky = "caller")
    #[arg(long)]
    caller: Option<String>,
    /// The call's id (the bucketing key for sticky = "call")
    #[arg(long)]
    call_id: Option<String>,
    /// Serve this version instead of the pin, for this call only
    #[arg(long, value_name = "N")]
    agent_version: Option<u64>,
    /// Read channels.toml and drafts from this commit (deployment) instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    if args.agent_version == Some(0) {
        return Err(crate::cli::CliError::usage("--agent-version: versions start at 1", None));
    }
    // A version asked for by number is checked against every channel's pinned trees, so the
    // whole channels.toml is read; otherwise the one channel's section is enough.
    let resolver = match args.agent_version {
        Some(_) => Resolver::new(ui.workspace()?, draft_at(&args.rev))?,
        None => Resolver::for_channel(ui.workspace()?, draft_at(&args.rev), &args.channel)?,
    };
    if let Some(id) = args.call_id.as_deref().filter(|id| !id.is_empty()) {
        agentver::calls::limits::call_id(id, "--call-id").map_err(|e| crate::cli::CliError::usage(e.0, None))?;
    }
    // An empty value is an absent one (an empty caller is no bucketing key).
    let caller = args.caller.as_deref().filter(|v| !v.is_empty());
    let call_id = args.call_id.as_deref().filter(|v| !v.is_empty());
    let call = Call { caller, call_id, agent_version: args.agent_version };
    let resolution = resolver.resolve(&args.channel, &call)?;
    ui.print_json(&resolution)?;
    Ok(Outcome::Success)
}
