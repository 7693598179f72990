//! Who signs a version and when: the tagger from `--author`, git config or the environment.

use super::error::{GitError, Result};

/// Who signs and when.
#[derive(Clone, Debug)]
pub struct Identity(pub gix::actor::Signature);

impl Identity {
    /// `--author "Name <email>"` when given, else the committer identity git would use
    /// (`GIT_COMMITTER_NAME`/`EMAIL`, then `committer.*`, then `user.name`/`user.email`, then
    /// `EMAIL`); time from `GIT_COMMITTER_DATE` or now.
    pub fn resolve(repo: &gix::Repository, author: Option<&str>) -> Result<Self> {
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let time = match env("GIT_COMMITTER_DATE") {
            Some(date) => gix::date::parse(&date, None)
                .or_else(|_| gix::date::parse(&date, Some(gix::date::Zoned::now())))
                .map_err(|e| GitError::BadCommitterDate { date: date.to_string(), problem: e.to_string() })?,
            None => crate::git::clock::now(),
        };
        if let Some(author) = author {
            let (name, email) =
                parse_author(author).ok_or_else(|| GitError::BadAuthor { author: author.to_owned() })?;
            return Ok(Identity(gix::actor::Signature { name: name.into(), email: email.into(), time }));
        }
        let config = repo.config_snapshot();
        let setting = |key: &str| config.string(key).map(|v| v.to_string()).filter(|v| !v.is_empty());
        let name = env("GIT_COMMITTER_NAME").or_else(|| setting("committer.name")).or_else(|| setting("user.name"));
        let email = env("GIT_COMMITTER_EMAIL")
            .or_else(|| setting("committer.email"))
            .or_else(|| setting("user.email"))
            .or_else(|| env("EMAIL"));
        match (name, email) {
            (None, None) => Err(GitError::NoIdentity { missing: "a name and an email (user.name, user.email)" }),
            (Some(name), Some(email)) => {
                Ok(Identity(gix::actor::Signature { name: name.into(), email: email.into(), time }))
            }
            (name, _) => Err(GitError::NoIdentity {
                missing: if name.is_some() { "an email (user.email)" } else { "a name (user.name)" },
            }),
        }
    }
}

impl Identity {
    /// [`Identity::resolve`], or `name <email>` where git knows no identity: for agentver's own
    /// bookkeeping (notes), which a machine with no identity (a CI runner) still keeps.
    pub fn resolve_or(repo: &gix::Repository, name: &str, email: &str) -> Result<Self> {
        match Self::resolve(repo, None) {
            Err(GitError::NoIdentity { .. }) => Self::resolve(repo, Some(&format!("{name} <{email}>"))),
            other => other,
        }
    }
}

pub(super) fn parse_author(s: &str) -> Option<(&str, &str)> {
    let (name, rest) = s.split_once('<')?;
    let email = rest.strip_suffix('>')?;
    let name = name.trim();
    (!name.is_empty() && !email.is_empty() && !email.contains(['<', '>', '\n']) && !name.contains('\n'))
        .then_some((name, email))
}

/// RFC 3339 in the signer's own offset: `2026-11-22T10:15:00+01:00` (gix's strict ISO 8601).
pub fn rfc3339(time: gix::date::Time) -> String {
    time.format_or_unix(gix::date::time::format::ISO8601_STRICT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(gix::date::Time { seconds: 0, offset: 0 }), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(gix::date::Time { seconds: 1_795_000_000, offset: 3600 }), "2026-11-18T12:06:40+01:00");
        assert_eq!(rfc3339(gix::date::Time { seconds: 951_782_400, offset: -18_000 }), "2000-02-28T19:00:00-05:00");
    }

    #[test]
    fn parses_authors() {
        assert_eq!(parse_author("Ada Lovelace <ada@example.com>"), Some(("Ada Lovelace", "ada@example.com")));
        assert_eq!(parse_author("nobody"), None);
        assert_eq!(parse_author("<a@b>"), None);
    }
}
