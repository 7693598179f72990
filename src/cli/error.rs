//! The one place that turns failures into stderr lines and exit codes.
//!
//! 0 success, 1 a refusal or negative answer, 2 an error. A closed stdout (`agentver log | head`)
//! is not an error.

use std::io::Write;
use std::process::ExitCode;

use agentver::Error;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Lib(#[from] agentver::Error),
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl CliError {
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        CliError::Usage { message: message.into(), hint }
    }
}

/// The one map from a library error to an exit code: refusals and negative answers exit 1,
/// everything else 2.
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::NothingToPublish { .. }
        | Error::SilentRevert { .. }
        | Error::TreeMismatch { .. }
        | Error::NothingToRollBack { .. }
        | Error::DraftExists { .. }
        | Error::ChannelsBusy
        | Error::ChannelsChanged
        | Error::ChangedDuringRestore { .. }
        | Error::UnsavedWork { .. }
        | Error::ForeignEntries { .. }
        | Error::RolledBackNotRestored { .. }
        | Error::TagsMissing { .. }
        | Error::PushRaces { .. }
        | Error::PushUnverified { .. } => 1,
        Error::InChannel { source, .. } => exit_code(source),
        _ => 2,
    }
}

/// What to do about a library error, in command-line terms.
fn hint(e: &Error) -> Option<String> {
    match e {
        Error::Invalid(d) => d.hint.clone(),
        Error::UnknownAgent { suggestion: Some(s), .. } | Error::NoVersions { suggestion: Some(s), .. } => {
            Some(format!("did you mean '{s}'?"))
        }
        Error::UnknownAgent { agent, .. } => Some(format!("create it with: agentver new {agent}")),
        Error::VersionNotFound { latest: Some(l), .. } => Some(format!("versions run from v1 to v{l}")),
        Error::VersionNotFound { latest: None, agent, .. } | Error::NoVersions { agent, .. } => Some(format!(
            "publish it first (agentver publish {agent}), or fetch tags if this is a fresh clone: git fetch --tags"
        )),
        Error::SilentRevert { missing: true, .. } => Some(
            "fetch the branch it was published from (git fetch; git pull), or pass --force to publish anyway".into(),
        ),
        Error::SilentRevert { .. } => {
            Some("merge or rebase onto that commit first (git pull), or pass --force to publish anyway".into())
        }
        Error::Unsupported { hint, .. } => Some(hint.clone()),
        Error::InsecureBind { .. } => Some(
            "give a token (--token-file FILE or AGENTVER_TOKEN), bind 127.0.0.1, or accept the risk with --insecure-no-auth"
                .into(),
        ),
        Error::UnknownRevision { .. } => Some("give a branch, tag or commit id that exists in this repository".into()),
        Error::UnnamedRemote { .. } => Some("`git remote -v` lists the remotes".into()),
        Error::BadRemote { .. } => Some("name a remote from `git remote -v`, or a URL".into()),
        Error::MessageTooLong { .. } => Some("keep long text in the repository and link to it from the notes".into()),
        Error::DraftExists { id, .. } => Some(format!("edit it, or pick another id than '{id}'")),
        Error::ChannelsBusy => Some("wait for it to finish, then run the command again".into()),
        Error::ChannelsChanged => Some("run the command again".into()),
        Error::ChangedDuringRestore { .. } => Some("run the command again once the file is saved".into()),
        Error::UnsavedWork { agent, .. } => Some(format!(
            "publish or commit them first, or pass --force to overwrite them; `agentver diff {agent}` shows them"
        )),
        Error::ForeignEntries { .. } => Some("`agentver verify` audits the tags; the tag may be forged".into()),
        Error::RolledBackNotRestored { agent, number } => Some(format!("run: agentver restore {agent}@v{number}")),
        Error::SplitTooSmall => Some("to send every call to one version, use `agentver pin`".into()),
        Error::BadLabel => Some("put longer text in --notes".into()),
        Error::RestoreDraft { agent } => Some(format!("agentver restore {agent}@latest")),
        Error::NothingToRollBack { agent, target, .. } => {
            Some(format!("to reset the draft, run: agentver restore {agent}@v{target}"))
        }
        Error::TagsMissing { .. } => {
            Some("fetch the tags first: agentver fetch (or publish --push, which fetches them)".into())
        }
        Error::PushRaces { .. } => Some("the remote is busy with other publishers; run `agentver push` again".into()),
        Error::PushUnverified { .. } => Some("`agentver verify` lists every finding; nothing was pushed".into()),
        Error::BadTime { .. } => {
            Some("give an RFC 3339 time (2026-11-30T09:00:00Z) or a duration back from now (7d, 24h, 30m)".into())
        }
        Error::BadStore { .. } => Some("a call store is sqlite:PATH or postgres://USER@HOST/DB".into()),
        Error::UnknownCall { .. } => Some("`agentver calls` lists the calls recorded".into()),
        Error::TreeNotFound { .. } => Some(
            "fetch the agent tags (agentver fetch); a draft's tree exists only once the draft was published".into(),
        ),
        Error::VariantsNeedChannel => Some("add --channel C: the split's weights come from that channel".into()),
        Error::UnknownChannel { .. } => Some("`agentver channels` lists the channels; `agentver pin` adds one".into()),
        Error::TreeMismatch { .. } => {
            Some("`agentver verify` audits the tags; re-pin only after checking what changed".into())
        }
        Error::Locked { path } => {
            Some(format!("if no git command is running in this repository, remove the file: rm '{path}'"))
        }
        Error::NothingToPublish { .. } => Some("edit the draft first; `agentver status` shows what changed".into()),
        Error::NoIdentity { .. } => Some(
            "set one with: git config user.name \"Your Name\" && git config user.email you@example.com, or pass --author \"Name <email>\"".into(),
        ),
        Error::NotARepository { .. } => Some("run `agentver init` to create a config repository here".into()),
        Error::Requires { .. } => Some("install a matching agentver, or change `requires` in agentver.toml".into()),
        Error::InChannel { source, .. } => hint(source),
        _ => None,
    }
}

pub fn report(error: CliError) -> ExitCode {
    if matches!(&error, CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe) {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(print(&error))
}

/// Prints the error line and its hint; returns the exit code it maps to.
pub fn print(error: &CliError) -> u8 {
    let (code, hint) = match error {
        CliError::Lib(e) => (exit_code(e), hint(e)),
        CliError::Usage { hint, .. } => (2, hint.clone()),
        CliError::Io(_) => (2, None),
    };
    let mut err = std::io::stderr().lock();
    // One line: newlines inside a message (from a foreign error) are folded.
    let message = error.to_string().replace('\n', " ");
    let _ = writeln!(err, "error: {message}");
    if let Some(hint) = hint {
        let _ = writeln!(err, "hint: {hint}");
    }
    code
}
