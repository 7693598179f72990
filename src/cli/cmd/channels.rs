//! `agentver channels`: every channel and what it resolves to now.

use agentver::format::channels::Pin;
use agentver::routing::resolve::Resolver;

use crate::cli::{CmdResult, Outcome, Ui, draft_at};

/// List channels and what each resolves to now (splits with each variant's share).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Read channels.toml and drafts from this commit instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let resolver = Resolver::new(ui.workspace()?, draft_at(&args.rev))?;
    let listing = resolver.listing();
    if ui.json {
        ui.print_json(&listing)?;
        return Ok(Outcome::Success);
    }
    let width = listing.iter().map(|c| c.channel.len()).max().unwrap_or(7);
    for c in &listing {
        if let (Some(sticky), Some(salt)) = (&c.sticky, &c.salt) {
            let sticky = serde_json::to_value(sticky).unwrap_or_default();
            writeln!(ui.out(), "{:width$}  split by {}, salt {salt}", c.channel, sticky.as_str().unwrap_or_default())?;
        }
        for t in &c.targets {
            let pinned = match (t.pin, &t.version) {
                (Pin::Latest, Some(v)) => format!("latest → {v}"),
                (pin, _) => pin.to_string(),
            };
            let now = match (&t.error, &t.tree) {
                (Some(e), _) => format!("  (cannot serve: {e})"),
                (None, Some(tree)) => format!("  tree {}", &tree[..12]),
                _ => String::new(),
            };
            match (&t.variant, t.share) {
                (Some(name), Some(share)) => {
                    writeln!(ui.out(), "{:width$}    {name:10} {:5.1}%  {} {pinned}{now}", "", share * 100.0, t.agent)?
                }
                _ => writeln!(ui.out(), "{:width$}  {} {pinned}{now}", c.channel, t.agent)?,
            }
        }
    }
    Ok(Outcome::Success)
}
