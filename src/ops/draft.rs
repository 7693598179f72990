//! The console editor's save of a draft: the text is checked as `check` would check the work tree
//! holding it, then written atomically, and refused when the file changed since it was shown.
//! The headline-fields form's save sets single values in the file ([`crate::format::edit`]) and
//! is then saved the same way.

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::format::diagnostic::{Diagnostic, Severity};
use crate::format::edit::{self, EditError, Scalar};
use crate::fsutil::Staged;
use crate::names::id::AgentId;
use crate::workspace::Workspace;
use crate::workspace::source::Source;

/// What the editor's save did.
#[derive(Debug)]
pub enum Saved {
    /// The file now holds the text.
    Written,
    /// Nothing written: the file changed on disk since the editor showed it (it holds `now`).
    Changed { now: Option<Vec<u8>> },
    /// Nothing written: the text has errors (the problems `check` finds in this file).
    Refused { problems: Vec<Diagnostic> },
    /// Nothing written: a field cannot be set in place in this file's layout.
    NotInPlace(EditError),
}

/// The digest an editor keeps of the bytes it showed (as git stores them: clean filters applied).
pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The draft file of `agent` as the editor shows it, and its digest; `None` when there is none.
pub fn load(ws: &Workspace, agent: &AgentId) -> Result<Option<(Vec<u8>, String)>> {
    let bytes = ws.work_tree()?.read(&agent.draft_path())?;
    Ok(bytes.map(|b| {
        let d = digest(&b);
        (b, d)
    }))
}

/// Writes `text` as `agent`'s draft if the file still holds what `shown` (a [`digest`]) names and
/// `check` finds no error in it. Line endings are as a browser sends them (CRLF) turned to LF,
/// then written as `git checkout` would write them.
pub fn save(ws: &Workspace, agent: &AgentId, shown: &str, text: &str) -> Result<Saved> {
    let rel = agent.draft_path();
    let work_tree = ws.work_tree()?;
    let now = work_tree.read(&rel)?;
    if now.as_deref().map(digest).as_deref() != Some(shown) {
        return Ok(Saved::Changed { now });
    }
    let bytes = text.replace("\r\n", "\n").into_bytes();
    let report = crate::ops::check::check_with(ws, &rel, &bytes)?;
    let shown_as = work_tree.display(&rel);
    let problems: Vec<Diagnostic> = report.problems.into_iter().filter(|d| d.file.starts_with(&shown_as)).collect();
    if problems.iter().any(|d| d.severity == Severity::Error) {
        return Ok(Saved::Refused { problems });
    }
    let staged = Staged::write(&work_tree.checked_path(&rel)?, &work_tree.checkout_bytes(&rel, &bytes)?)?;
    // An editor elsewhere may have saved while this was checked: its write is not lost.
    let again = work_tree.read(&rel)?;
    if again != now {
        drop(staged);
        return Ok(Saved::Changed { now: again });
    }
    staged.commit()?;
    Ok(Saved::Written)
}
/// Sets each `(path, value)` of `changes` in `agent`'s draft, keeping the rest of the file as it
/// is, then saves it as [`save`] does (against the file `shown` names, after `check`).
pub fn set_fields(ws: &Workspace, agent: &AgentId, shown: &str, changes: &[(&[&str], Scalar)]) -> Result<Saved> {
    let now = ws.work_tree()?.read(&agent.draft_path())?;
    let Some(bytes) = now.as_deref().filter(|b| digest(b) == shown) else { return Ok(Saved::Changed { now }) };
    let Ok(mut text) = String::from_utf8(bytes.to_vec()) else {
        let why = EditError { path: agent.draft_path(), reason: "the file is not UTF-8".into() };
        return Ok(Saved::NotInPlace(why));
    };
    for (path, value) in changes {
        text = match edit::set(&text, path, value) {
            Ok(t) => t,
            Err(e) => return Ok(Saved::NotInPlace(e)),
        };
    }
    save(ws, agent, shown, &text)
}
