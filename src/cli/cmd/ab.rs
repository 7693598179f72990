//! `agentver ab <channel> <name>=<spec>:<weight>...`: split a channel's calls between configurations.

use agentver::format::channels::Sticky;

use crate::cli::{CliError, CmdResult, Outcome, Ui};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum StickyArg {
    Caller,
    Call,
}

/// Split a channel between variants: `ab +14155550199 control=sales@v3:80 test=sales@draft:20`.
///
/// Each call lands in a variant by sticky bucketing: the same caller (or call id, with
/// --sticky call) always gets the same variant. Re-running `ab` on a split keeps its salt and
/// sticky setting unless given, so reweighting does not reshuffle callers.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// An E.164 number or a name
    channel: String,
    /// <name>=<spec>:<weight>, two or more
    #[arg(value_name = "NAME=SPEC:WEIGHT", required = true, num_args = 2..)]
    variants: Vec<String>,
    /// What keeps a variant: the caller's number (default) or the call id
    #[arg(long, value_enum)]
    sticky: Option<StickyArg>,
    /// Bucketing salt (default: the channel name); a new salt reshuffles callers
    #[arg(long)]
    salt: Option<String>,
}

fn parse_variant(s: &str) -> Result<(String, agentver::names::id::Spec, u64), CliError> {
    let bad =
        || CliError::usage(format!("'{s}' is not NAME=SPEC:WEIGHT"), Some("for example control=sales@v3:80".into()));
    let (name, rest) = s.split_once('=').ok_or_else(bad)?;
    let (spec, weight) = rest.rsplit_once(':').ok_or_else(bad)?;
    let weight: u64 = weight.parse().map_err(|_| {
        CliError::usage(
            format!("weight '{weight}' in '{s}' is not a whole number"),
            Some("weights are integers ≥ 0".into()),
        )
    })?;
    if weight > agentver::format::channels::MAX_WEIGHT {
        return Err(CliError::usage(
            format!("weight {weight} is above {}", agentver::format::channels::MAX_WEIGHT),
            None,
        ));
    }
    Ok((name.to_owned(), super::spec(spec)?, weight))
}

/// `ab --json`: the split as written.
#[derive(serde::Serialize)]
struct Split<'a> {
    channel: &'a str,
    variants: Vec<Variant<'a>>,
}

#[derive(serde::Serialize)]
struct Variant<'a> {
    name: &'a str,
    agent: &'a str,
    /// A number, "latest" or "draft", as channels.toml holds it.
    version: agentver::format::channels::Pin,
    weight: u64,
    tree: Option<&'a str>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let variants = args.variants.iter().map(|v| parse_variant(v)).collect::<Result<Vec<_>, _>>()?;
    let sticky = args.sticky.map(|s| match s {
        StickyArg::Caller => Sticky::Caller,
        StickyArg::Call => Sticky::Call,
    });
    let written = agentver::ops::pin::ab(&ui.workspace()?, &args.channel, &variants, sticky, args.salt.as_deref())?;
    let total: u64 = written.iter().map(|v| v.weight).sum();
    if ui.json {
        let variants = written
            .iter()
            .map(|v| Variant {
                name: &v.name,
                agent: v.target.agent.as_str(),
                version: v.target.pin,
                weight: v.weight,
                tree: v.target.tree.as_deref(),
            })
            .collect();
        ui.print_json(&Split { channel: &args.channel, variants })?;
    } else {
        writeln!(ui.out(), "split {}:", args.channel)?;
        for v in &written {
            let share = v.weight as f64 * 100.0 / total as f64;
            writeln!(ui.out(), "  {:10} {share:5.1}%  {} {}", v.name, v.target.agent, v.target.pin)?;
        }
    }
    Ok(Outcome::Success)
}
