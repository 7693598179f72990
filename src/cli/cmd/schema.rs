//! `agentver schema [--for agent|tool|channels|test]`: the JSON Schema of a file format, for editors.

use crate::cli::{CmdResult, Outcome, Ui};

/// Print a JSON Schema (draft 2020-12) of agents/<id>.yaml (the default), tools/<name>.yaml,
/// channels.toml or tests/<name>.yaml, for editor completion and checks.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Which file's schema: agent, tool, channels or test
    #[arg(long = "for", value_name = "FILE", default_value = "agent", value_parser = ["agent", "tool", "channels", "test"])]
    of: String,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let schema = match args.of.as_str() {
        "tool" => agentver::format::model::schema::tool_json_schema(),
        "channels" => agentver::format::channels::schema::json_schema(),
        "test" => agentver::format::model::schema::test_json_schema(),
        _ => agentver::format::model::schema::json_schema(),
    };
    ui.print_json(&schema)?;
    Ok(Outcome::Success)
}
