//! What each remote has shown of the version tags (fetched from it or pushed to it), kept as refs
//! under `refs/agentver/remotes/<remote>/`: the evidence that tells a tag someone moved on the
//! remote (tampering) from a version this clone has not pushed yet.

use std::collections::BTreeMap;

use sha2::Digest;

use super::error::Result;
use super::{ObjectId, RefChange, list_refs};

/// The ref folder for `remote`: its name where that is a plain name, else (a URL or a path) a
/// digest of it, so any remote string makes a valid ref name.
pub fn prefix(remote: &str) -> String {
    let plain = !remote.is_empty()
        && !remote.starts_with('.')
        && remote.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !remote.contains("..")
        && !remote.ends_with(".lock");
    if plain {
        format!("refs/agentver/remotes/{remote}/")
    } else {
        let digest = sha2::Sha256::digest(remote.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("refs/agentver/remotes/url-{hex}/")
    }
}

/// The remembered ref of the full tag name `refs/tags/…`.
fn remembered_name(remote: &str, tag: &str) -> String {
    format!("{}{}", prefix(remote), tag.strip_prefix("refs/").unwrap_or(tag))
}

/// Every version tag `remote` has shown, by full tag name, with the object it named then.
pub fn remembered(repo: &gix::Repository, remote: &str) -> Result<BTreeMap<String, ObjectId>> {
    let prefix = prefix(remote);
    Ok(list_refs(repo, &prefix)?
        .into_iter()
        .filter_map(|(name, id)| Some((format!("refs/{}", name.strip_prefix(&prefix)?), id?)))
        .collect())
}

/// The ref changes that remember `seen` (full tag name → the object the remote showed), given
/// what is remembered now.
pub fn remember(remote: &str, now: &BTreeMap<String, ObjectId>, seen: &[(&String, ObjectId)]) -> Vec<RefChange> {
    seen.iter()
        .filter(|(name, id)| now.get(*name) != Some(id))
        .map(|(name, id)| RefChange {
            name: remembered_name(remote, name),
            from: now.get(*name).copied(),
            to: Some(*id),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn any_remote_string_makes_a_valid_ref_folder() {
        assert_eq!(super::prefix("origin"), "refs/agentver/remotes/origin/");
        for odd in ["file:///tmp/x.git", "../up", "a b", "x.lock", ".hidden"] {
            let p = super::prefix(odd);
            assert!(
                p.starts_with("refs/agentver/remotes/url-") && p.len() == "refs/agentver/remotes/url-/".len() + 16,
                "{p}"
            );
        }
    }
}
