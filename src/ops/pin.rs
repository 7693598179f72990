//! `pin`, `ab` and `unpin`: edit channels.toml after checking that every target exists.

use std::path::Path;
use std::time::Duration;

use toml_edit::DocumentMut;

use crate::error::{Error, Result};
use crate::format::FormatError;
use crate::format::channels::edit::{self, NewTarget, NewVariant};
use crate::format::channels::{FILE, Pin, Sticky, channel_problem};
use crate::fsutil::Staged;
use crate::names::id::{RefSpec, Spec, is_valid_id};
use crate::ops::OpsError;
use crate::workspace::{DraftAt, Version, Workspace};

/// How long to wait for another agentver's lock before refusing.
const LOCK_WAIT: Duration = Duration::from_secs(3);

fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(FILE, e)),
    }
}

/// Applies `change` to the channels.toml at `path`, holding the advisory lock at `lock` (in the
/// git directory, so it never shows in the work tree and dies with its process); returns the
/// new text. If the file changed underneath (a hand edit while we worked), nothing is written.
pub fn edit_file(
    path: &Path,
    lock: &Path,
    change: impl FnOnce(&mut DocumentMut) -> Result<(), FormatError>,
) -> Result<String> {
    let Some(_held) = crate::git::lock::exclusive_within(lock, LOCK_WAIT)? else {
        return Err(OpsError::ChannelsBusy.into());
    };
    let before = read(path)?;
    let new_text = edit::edit_text(before.as_deref(), change)?;
    let staged = Staged::write(path, new_text.as_bytes())?;
    if read(path)? != before {
        return Err(OpsError::ChannelsChanged.into());
    }
    staged.commit()?;
    Ok(new_text)
}

fn check_channel(channel: &str) -> Result<()> {
    match channel_problem(channel) {
        Some(problem) => Err(OpsError::BadChannel { problem }.into()),
        None => Ok(()),
    }
}

/// What a spec pins: a bare id freezes latest's number; `@vN` freezes N; `@latest` floats;
/// `@draft` follows the draft. Numbered pins carry their snapshot tree. The target must exist.
pub fn pin_target(ws: &Workspace, spec: &Spec) -> Result<NewTarget> {
    let agent = &spec.agent;
    let (pin, tree) = match spec.reference {
        None | Some(RefSpec::Version(_)) => {
            let Version::Number(n) =
                ws.version_named(agent, spec.reference.unwrap_or(RefSpec::Latest), &DraftAt::WorkTree)?
            else {
                unreachable!("a version reference resolves to a version")
            };
            (Pin::Version(n), Some(ws.version(agent, n)?.tree.to_string()))
        }
        Some(RefSpec::Latest) => {
            match ws.version_named(agent, RefSpec::Latest, &DraftAt::WorkTree) {
                Ok(_) => {}
                // An agent added in the same pull request: its draft is enough, the merge's
                // publish makes v1 (the command warns).
                Err(Error::Workspace(crate::workspace::WorkspaceError::NoVersions { .. })) => {
                    ws.locate(agent, RefSpec::Draft, &DraftAt::WorkTree)?;
                }
                Err(e) => return Err(e),
            }
            (Pin::Latest, None)
        }
        Some(RefSpec::Draft) => {
            ws.locate(agent, RefSpec::Draft, &DraftAt::WorkTree)?;
            (Pin::Draft, None)
        }
    };
    Ok(NewTarget { agent: agent.to_string(), pin, tree })
}

fn edit_channels(
    ws: &Workspace,
    change: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<(), FormatError>,
) -> Result<String> {
    let lock = ws.repo().common_dir().join("agentver-channels.lock");
    edit_file(&ws.root().join(FILE), &lock, change)
}

pub fn pin(ws: &Workspace, channel: &str, spec: &Spec) -> Result<NewTarget> {
    check_channel(channel)?;
    let target = pin_target(ws, spec)?;
    edit_channels(ws, |doc| edit::pin(doc, channel, &target))?;
    Ok(target)
}

/// Sets a split; `variants` are (name, spec, weight).
pub fn ab(
    ws: &Workspace,
    channel: &str,
    variants: &[(String, Spec, u64)],
    sticky: Option<Sticky>,
    salt: Option<&str>,
) -> Result<Vec<NewVariant>> {
    check_channel(channel)?;
    if variants.len() < 2 {
        return Err(OpsError::SplitTooSmall.into());
    }
    let mut out: Vec<NewVariant> = Vec::new();
    for (name, spec, weight) in variants {
        if !is_valid_id(name) {
            return Err(OpsError::BadChannel {
                problem: format!("variant name '{}' must match [a-z0-9][a-z0-9_-]{{0,62}}", name.escape_debug()),
            }
            .into());
        }
        if out.iter().any(|v| &v.name == name) {
            return Err(OpsError::BadChannel { problem: format!("variant name '{name}' is used twice") }.into());
        }
        out.push(NewVariant { name: name.clone(), target: pin_target(ws, spec)?, weight: *weight });
    }
    if out.iter().all(|v| v.weight == 0) {
        return Err(OpsError::BadChannel {
            problem: "the weights add up to 0; give at least one variant a positive weight".into(),
        }
        .into());
    }
    edit_channels(ws, |doc| edit::split(doc, channel, &out, sticky, salt))?;
    Ok(out)
}

pub fn unpin(ws: &Workspace, channel: &str) -> Result<()> {
    check_channel(channel)?;
    edit_channels(ws, |doc| edit::unpin(doc, channel))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMENTED: &str = "# Pins.\n\n# Main line.\n[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 1\n";

    #[test]
    fn a_file_changed_underneath_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let (path, lock) = (dir.path().join(FILE), dir.path().join("lock"));
        std::fs::write(&path, COMMENTED).unwrap();
        let target = NewTarget { agent: "sales".into(), pin: Pin::Latest, tree: None };
        let err = edit_file(&path, &lock, |doc| {
            // Someone saves the file by hand while the edit is being made.
            std::fs::write(&path, "# hand edit\n").unwrap();
            edit::pin(doc, "x", &target)
        })
        .unwrap_err();
        assert!(
            matches!(err, crate::Error::Ops(OpsError::ChannelsChanged))
                && err.to_string().contains("changed while it was being edited"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# hand edit\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left");
        edit_file(&path, &lock, |doc| edit::pin(doc, "x", &target)).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("# hand edit\n"));
    }
}
