//! The command line: clap types, dispatch, and the shared output context.
//!
//! Each subcommand is one file in `cmd/` holding its arguments (whose doc comments are the help)
//! and one function that calls the library once and renders the result.

mod cmd;
pub mod error;
mod render;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use agentver::format::diagnostic::Diagnostic;
use agentver::{DraftAt, Workspace};

pub use error::CliError;

/// Version voice-AI agent configurations as code, in git.
///
/// Drafts are YAML files (agents/<id>.yaml); each publish is an annotated tag agent/<id>/v<N>
/// over a snapshot commit. Pins and A/B splits live in channels.toml.
#[derive(Parser)]
#[command(name = "agentver", version, about, max_term_width = 100)]
struct Cli {
    /// Run as if started in DIR (like git -C)
    #[arg(short = 'C', value_name = "DIR", global = true)]
    directory: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(cmd::init::Args),
    New(cmd::new::Args),
    Status(cmd::status::Args),
    Publish(cmd::publish::Args),
    #[command(alias = "versions")]
    Log(cmd::log::Args),
    Show(cmd::show::Args),
    Diff(cmd::diff::Args),
    Restore(cmd::restore::Args),
    Rollback(cmd::rollback::Args),
    Pin(cmd::pin::Args),
    Ab(cmd::ab::Args),
    Unpin(cmd::unpin::Args),
    Channels(cmd::channels::Args),
    Resolve(cmd::resolve::Args),
    Check(cmd::check::Args),
    Plan(cmd::plan::Args),
    Export(cmd::export::Args),
    Push(cmd::push::Args),
    Fetch(cmd::fetch::Args),
    Verify(cmd::verify::Args),
    Serve(cmd::serve::Args),
    Console(cmd::console::Args),
    Calls(cmd::calls::Args),
    Stats(cmd::stats::Args),
    Replay(cmd::replay::Args),
    Schema(cmd::schema::Args),
    Test(cmd::test::Args),
    Render(cmd::render::Args),
    Import(cmd::import::Args),
}

impl Command {
    /// Whether `--json` was given (a flag of each command that reports data).
    fn json(&self) -> bool {
        match self {
            Command::Ab(a) => a.json_flag.json,
            Command::Channels(a) => a.json_flag.json,
            Command::Check(a) => a.json_flag.json,
            Command::Diff(a) => a.json_flag.json,
            Command::Fetch(a) => a.json_flag.json,
            Command::Import(a) => a.json_flag.json,
            Command::Init(a) => a.json_flag.json,
            Command::Log(a) => a.json_flag.json,
            Command::New(a) => a.json_flag.json,
            Command::Pin(a) => a.json_flag.json,
            Command::Plan(a) => a.json_flag.json,
            Command::Publish(a) => a.json_flag.json,
            Command::Push(a) => a.json_flag.json,
            Command::Render(a) => a.json_flag.json,
            Command::Replay(a) => a.json_flag.json,
            Command::Resolve(a) => a.json_flag.json,
            Command::Restore(a) => a.json_flag.json,
            Command::Rollback(a) => a.json_flag.json,
            Command::Schema(a) => a.json_flag.json,
            Command::Show(a) => a.json_flag.json,
            Command::Stats(a) => a.json_flag.json,
            Command::Status(a) => a.json_flag.json,
            Command::Test(a) => a.json_flag.json,
            Command::Unpin(a) => a.json_flag.json,
            Command::Verify(a) => a.json_flag.json,
            Command::Calls(a) => a.json(),
            Command::Export(_) | Command::Serve(_) | Command::Console(_) => false,
        }
    }
}

/// What a command returns when it did not fail: 0, or 1 for a negative answer (`--exit-code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Negative,
    /// A command-specific exit code (`plan --detailed-exitcode`).
    Code(u8),
}

pub type CmdResult = Result<Outcome, CliError>;

/// Where a command writes, and how.
pub struct Ui {
    pub json: bool,
    /// Colour on stdout: a terminal, and NO_COLOR unset.
    pub color: bool,
    pub directory: PathBuf,
    /// Buffered: pretty JSON is thousands of lines, and a locked stdout flushes at each newline.
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
}

impl Ui {
    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Status lines for people go to stderr, so stdout stays data. Buffered stdout is flushed
    /// first, so the two streams read in order on a terminal or in a merged log.
    pub fn status(&mut self, line: &str) {
        let _ = self.out.flush();
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    pub fn warn(&mut self, d: &Diagnostic) {
        let _ = self.out.flush();
        let mut err = std::io::stderr();
        let _ = writeln!(err, "warning: {d}");
        if let Some(hint) = &d.hint {
            let _ = writeln!(err, "hint: {hint}");
        }
    }

    pub fn print_json<T: serde::Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        serde_json::to_writer_pretty(&mut self.out, value).map_err(|e| CliError::Io(e.into()))?;
        writeln!(self.out)?;
        Ok(())
    }

    pub fn workspace(&self) -> Result<Workspace, CliError> {
        Ok(Workspace::discover(&self.directory)?)
    }
}

pub fn draft_at(rev: &Option<String>) -> DraftAt {
    match rev {
        Some(r) => DraftAt::Rev(r.clone()),
        None => DraftAt::WorkTree,
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let directory = match cli.directory {
        Some(dir) => dir,
        None => PathBuf::from("."),
    };
    let mut ui = Ui {
        json: cli.command.json(),
        color: !no_color && std::io::stdout().is_terminal(),
        directory,
        out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
    };
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(&mut ui, args),
        Command::New(args) => cmd::new::run(&mut ui, args),
        Command::Status(args) => cmd::status::run(&mut ui, args),
        Command::Publish(args) => cmd::publish::run(&mut ui, args),
        Command::Log(args) => cmd::log::run(&mut ui, args),
        Command::Show(args) => cmd::show::run(&mut ui, args),
        Command::Diff(args) => cmd::diff::run(&mut ui, args),
        Command::Restore(args) => cmd::restore::run(&mut ui, args),
        Command::Rollback(args) => cmd::rollback::run(&mut ui, args),
        Command::Pin(args) => cmd::pin::run(&mut ui, args),
        Command::Ab(args) => cmd::ab::run(&mut ui, args),
        Command::Unpin(args) => cmd::unpin::run(&mut ui, args),
        Command::Channels(args) => cmd::channels::run(&mut ui, args),
        Command::Resolve(args) => cmd::resolve::run(&mut ui, args),
        Command::Check(args) => cmd::check::run(&mut ui, args),
        Command::Plan(args) => cmd::plan::run(&mut ui, args),
        Command::Export(args) => cmd::export::run(&mut ui, args),
        Command::Push(args) => cmd::push::run(&mut ui, args),
        Command::Fetch(args) => cmd::fetch::run(&mut ui, args),
        Command::Verify(args) => cmd::verify::run(&mut ui, args),
        Command::Serve(args) => cmd::serve::run(&mut ui, args),
        Command::Console(args) => cmd::console::run(&mut ui, args),
        Command::Calls(args) => cmd::calls::run(&mut ui, args),
        Command::Stats(args) => cmd::stats::run(&mut ui, args),
        Command::Replay(args) => cmd::replay::run(&mut ui, args),
        Command::Schema(args) => cmd::schema::run(&mut ui, args),
        Command::Test(args) => cmd::test::run(&mut ui, args),
        Command::Render(args) => cmd::render::run(&mut ui, args),
        Command::Import(args) => cmd::import::run(&mut ui, args),
    };
    let flushed = ui.out.flush();
    match (result, flushed) {
        (Ok(Outcome::Success), Ok(())) => ExitCode::SUCCESS,
        (Ok(Outcome::Negative), Ok(())) => ExitCode::from(1),
        (Ok(Outcome::Code(code)), Ok(())) => ExitCode::from(code),
        (Err(e), _) => error::report(e, ui.json),
        (Ok(_), Err(e)) => error::report(CliError::Io(e), ui.json),
    }
}
