//! The one place that turns failures into stderr lines and exit codes.
//!
//! 0 success, 1 a refusal or negative answer, 2 an error. A closed stdout (`agentver log | head`)
//! is not an error.

use std::io::Write;
use std::process::ExitCode;

use agentver::error::{
    CallsError, Error, FormatError, GitError, OpsError, PlatformError, RoutingError, ServeError, WorkspaceError,
};

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
        Error::Ops(
            OpsError::NothingToPublish { .. }
            | OpsError::TestsRequired { .. }
            | OpsError::NothingToRollBack { .. }
            | OpsError::DraftExists { .. }
            | OpsError::ImportOverwrites { .. }
            | OpsError::ChannelsBusy
            | OpsError::ChannelsChanged
            | OpsError::ChangedDuringRestore { .. }
            | OpsError::UnsavedWork { .. }
            | OpsError::ForeignEntries { .. }
            | OpsError::RolledBackNotRestored { .. }
            | OpsError::TagsMissing { .. }
            | OpsError::PushRaces { .. }
            | OpsError::MovedOnRemote { .. }
            | OpsError::SourceNotShared { .. }
            | OpsError::PushUnverified { .. },
        ) => 1,
        Error::Workspace(WorkspaceError::SilentRevert { .. })
        | Error::Routing(
            RoutingError::TreeMismatch { .. }
            | RoutingError::VersionUnservable { .. }
            | RoutingError::NotPublished { .. },
        ) => 1,
        Error::Routing(RoutingError::InChannel { source, .. }) => exit_code(source),
        _ => 2,
    }
}

/// What to do about a library error, in command-line terms.
fn hint(e: &Error) -> Option<String> {
    match e {
        Error::Format(e) => format_hint(e),
        Error::Git(e) => git_hint(e),
        Error::Workspace(e) => workspace_hint(e),
        Error::Routing(RoutingError::InChannel { source, .. }) => hint(source),
        Error::Routing(RoutingError::TreeMismatch { .. }) => {
            Some("`agentver verify` audits the tags; re-pin only after checking what changed".into())
        }
        Error::Routing(RoutingError::NotPublished { agent, .. }) => {
            Some(format!("publish it (agentver publish {agent}); in CI, merging does: publish --changed"))
        }
        Error::Routing(RoutingError::VersionUnservable { .. }) => {
            Some("`agentver verify` names what is wrong with the tag".into())
        }
        Error::Routing(RoutingError::DraftUnavailable { .. }) => None,
        Error::Ops(e) => ops_hint(e),
        Error::Calls(e) => calls_hint(e),
        Error::Serve(e) => serve_hint(e),
        Error::Platform(PlatformError::NotAnAgent { .. }) => Some(
            "give the object as the platform's API returns it (for Retell: the agent, and its LLM with --llm)".into(),
        ),
        Error::Platform(PlatformError::WrongPlatform { looks, .. }) => {
            Some(format!("if it is, import it as one: agentver import {} FILE", looks.name()))
        }
        Error::Io(_) | Error::BadValue { .. } | Error::Internal { .. } => None,
    }
}

fn serve_hint(e: &ServeError) -> Option<String> {
    match e {
        ServeError::InsecureBind { .. } => Some(
            "give a token (--token-file FILE or AGENTVER_TOKEN), bind 127.0.0.1, or accept the risk with --insecure-no-auth"
                .into(),
        ),
        ServeError::ShortToken { .. } => Some("generate one with: openssl rand -hex 32".into()),
        ServeError::NoCommits { .. } => Some("commit the configuration first: git add -A && git commit".into()),
        ServeError::UnknownFollow { suggestion: Some(s), .. } => Some(format!("did you mean {s}?")),
        ServeError::UnknownFollow { .. } => Some("give a branch, tag or commit id that exists in this repository".into()),
        ServeError::TreeNotServed { .. } => None,
    }
}

fn format_hint(e: &FormatError) -> Option<String> {
    match e {
        FormatError::Invalid(d) => d.hint.clone(),
        FormatError::UnknownChannel { .. } => {
            Some("`agentver channels` lists the channels; `agentver pin` adds one".into())
        }
        FormatError::Requires { .. } => {
            Some("install a matching agentver, or change `requires` in agentver.toml".into())
        }
    }
}

fn git_hint(e: &GitError) -> Option<String> {
    match e {
        GitError::Unsupported { hint, .. } => Some(hint.clone()),
        GitError::UnknownRevision { .. } => {
            Some("give a branch, tag or commit id that exists in this repository".into())
        }
        GitError::BadRemote { .. } => Some("name a remote from `git remote -v`, or a URL".into()),
        GitError::Locked { path } => {
            Some(format!("if no git command is running in this repository, remove the file: rm '{path}'"))
        }
        GitError::NoIdentity { .. } => Some(
            "set one with: git config user.name \"Your Name\" && git config user.email you@example.com, or pass --author \"Name <email>\"".into(),
        ),
        GitError::NotARepository { .. } => Some("run `agentver init` to create a config repository here".into()),
        _ => None,
    }
}

fn workspace_hint(e: &WorkspaceError) -> Option<String> {
    match e {
        WorkspaceError::UnknownAgent { suggestion: Some(s), .. }
        | WorkspaceError::NoVersions { suggestion: Some(s), .. } => Some(format!("did you mean '{s}'?")),
        WorkspaceError::UnknownAgent { agent, .. } => Some(format!("create it with: agentver new {agent}")),
        WorkspaceError::VersionNotFound { latest: Some(l), .. } => Some(format!("versions run from v1 to v{l}")),
        WorkspaceError::VersionNotFound { latest: None, agent, .. } | WorkspaceError::NoVersions { agent, .. } => {
            Some(format!(
                "publish it first (agentver publish {agent}), or, in a clone that never fetched them, bring the versions: agentver fetch"
            ))
        }
        WorkspaceError::SilentRevert { missing: true, .. } => Some(
            "fetch the branch it was published from (git fetch; git pull), or pass --force to publish anyway".into(),
        ),
        WorkspaceError::SilentRevert { .. } => {
            Some("merge or rebase onto that commit first (git pull), or pass --force to publish anyway".into())
        }
        WorkspaceError::NotASnapshot { .. } => {
            Some("the call record names a tree no version has; `agentver verify` audits the tags".into())
        }
        WorkspaceError::TreeNotFound { .. } => Some(
            "fetch the agent tags (agentver fetch); a draft's tree exists only once the draft was published".into(),
        ),
    }
}

fn ops_hint(e: &OpsError) -> Option<String> {
    match e {
        OpsError::UnnamedRemote { .. } => Some("`git remote -v` lists the remotes".into()),
        OpsError::TestsRequired { agent, .. } => Some(format!(
            "run its tests on the draft first (agentver test {agent}), or write one in tests/ if it has none (agentver schema --for test); --skip-tests publishes anyway and says so in the tag"
        )),
        OpsError::MessageTooLong { .. } => {
            Some("keep long text in the repository and link to it from the notes".into())
        }
        OpsError::DraftExists { id, .. } => Some(format!("edit it, or pick another id than '{id}'")),
        OpsError::ImportInvalid { .. } => Some(
            "this is a bug in the field map, or a value agentver cannot hold: please report it with the file".into(),
        ),
        OpsError::ImportOverwrites { .. } => Some(
            "--dry-run shows what would be written; --force replaces the files (commit or stash them first)".into(),
        ),
        OpsError::ChannelsBusy => Some("wait for it to finish, then run the command again".into()),
        OpsError::ChannelsChanged => Some("run the command again".into()),
        OpsError::ChangedDuringRestore { .. } => Some("run the command again once the file is saved".into()),
        OpsError::UnsavedWork { agent, .. } => Some(format!(
            "publish or commit them first, or pass --force to overwrite them; `agentver diff {agent}` shows them"
        )),
        OpsError::ForeignEntries { .. } => Some("`agentver verify` audits the tags; the tag may be forged".into()),
        OpsError::RolledBackNotRestored { agent, number } => Some(format!("run: agentver restore {agent}@v{number}")),
        OpsError::SplitTooSmall => Some("to send every call to one version, use `agentver pin`".into()),
        OpsError::BadLabel => Some("write the label as one line of plain text; put longer text in --notes".into()),
        OpsError::BadNotes => Some("remove the control characters from the notes".into()),
        OpsError::RestoreDraft { agent } => Some(format!("agentver restore {agent}@latest")),
        OpsError::NothingToRollBack { agent, target, .. } => {
            Some(format!("to reset the draft, run: agentver restore {agent}@v{target}"))
        }
        OpsError::TagsMissing { .. } => {
            Some("fetch the tags first: agentver fetch (or publish --push, which fetches them)".into())
        }
        OpsError::PushRaces { .. } => {
            Some("the remote is busy with other publishers; run `agentver push` again".into())
        }
        OpsError::PushUnverified { .. } => Some("`agentver verify` lists every finding; nothing was pushed".into()),
        OpsError::DetachedHead => Some("check out the branch to push first: git switch <branch>".into()),
        OpsError::SourceNotShared { remote, .. } => Some(format!(
            "push your branch first (git push {remote} HEAD), or both at once: agentver push {remote} --with-branch"
        )),
        OpsError::MovedOnRemote { remote, .. } => Some(format!(
            "nothing was pushed; find out who moved it: if {remote}'s is genuine, `agentver fetch {remote} --reset` takes it and saves yours under refs/agentver/dropped/"
        )),
        OpsError::NothingToPublish { .. } => Some("edit the draft first; `agentver status` shows what changed".into()),
        OpsError::BadChannel { .. } | OpsError::BadBranch { .. } => None,
    }
}

fn calls_hint(e: &CallsError) -> Option<String> {
    match e {
        CallsError::BadTime { .. } => {
            Some("give an RFC 3339 time (2026-11-30T09:00:00Z) or a duration back from now (7d, 24h, 30m)".into())
        }
        CallsError::BadStore { .. } => Some("a call store is sqlite:PATH or postgres://USER@HOST/DB".into()),
        CallsError::CallerKeyMismatch { .. } => Some(
            "give every server of this store the same AGENTVER_CALLER_KEY (to change keys for good, docs/calls.md, \"Changing the caller key\", says how)".into(),
        ),
        CallsError::UnknownCall { .. } => Some("`agentver calls` lists the calls recorded".into()),
        CallsError::VariantsNeedChannel => Some("add --channel C: the split's weights come from that channel".into()),
        CallsError::NoCalls { .. } => {
            Some("--source names what each line is: generic, vapi, retell or elevenlabs".into())
        }
        CallsError::ImportInterrupted { .. } => {
            Some("import the file again once the store is back: what is stored already is not stored twice".into())
        }
        CallsError::VariantAndByVariant { .. } => {
            Some("drop --variant to compare the variants, or --by variant to see one variant's calls".into())
        }
        CallsError::OtherAgent { agent, .. } => Some(format!("give the agent once: agentver stats {agent}")),
        CallsError::SameVersion { .. } => Some("compare two versions: --compare v1 v2".into()),
        _ => None,
    }
}

pub fn report(error: CliError, json: bool) -> ExitCode {
    if matches!(&error, CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe) {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(print(&error, json))
}

/// Prints the error line and its hint (as JSON under `--json`); returns the exit code it maps to.
/// Control characters from the input are shown escaped: an error naming a hostile value cannot
/// rewrite the terminal.
pub fn print(error: &CliError, json: bool) -> u8 {
    let (code, hint) = match error {
        CliError::Lib(e) => (exit_code(e), hint(e)),
        CliError::Usage { hint, .. } => (2, hint.clone()),
        CliError::Io(_) => (2, None),
    };
    let mut err = std::io::stderr().lock();
    // One line: newlines inside a message (from a foreign error) are folded.
    let message = error.to_string().replace('\n', " ");
    if json {
        let body = serde_json::json!({"error": {
            "kind": if code == 1 { "refused" } else { "error" }, "message": message, "hint": hint, "exit_code": code}});
        let _ = writeln!(err, "{body}");
        return code;
    }
    let _ = writeln!(err, "error: {}", super::render::printable(&message));
    if let Some(hint) = hint {
        let _ = writeln!(err, "hint: {}", super::render::printable(&hint));
    }
    code
}
