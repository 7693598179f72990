//! `pin`, `ab` and `unpin`: edit channels.toml after checking that every target exists.

use crate::error::{Error, Result};
use crate::format::channels::edit::{self, NewTarget, NewVariant};
use crate::format::channels::{FILE, Pin, Sticky, channel_problem};
use crate::names::id::{RefSpec, Spec, is_valid_id};
use crate::workspace::{DraftAt, Resolved, Workspace};

fn check_channel(channel: &str) -> Result<()> {
    match channel_problem(channel) {
        Some(problem) => Err(Error::Usage { message: problem, hint: None }),
        None => Ok(()),
    }
}

impl Workspace {
    /// What a spec pins: a bare id freezes latest's number; `@vN` freezes N; `@latest` floats;
    /// `@draft` follows the draft. Numbered pins carry their snapshot tree. The target must exist.
    pub fn pin_target(&self, spec: &Spec) -> Result<NewTarget> {
        let agent = &spec.agent;
        let (pin, tree) = match spec.reference {
            None | Some(RefSpec::Version(_)) => {
                let Resolved::Version(n) =
                    self.resolve_ref(agent, spec.reference.unwrap_or(RefSpec::Latest), &DraftAt::WorkTree)?
                else {
                    unreachable!("a version reference resolves to a version")
                };
                (Pin::Version(n), Some(self.version(agent, n)?.tree.to_string()))
            }
            Some(RefSpec::Latest) => {
                self.resolve_ref(agent, RefSpec::Latest, &DraftAt::WorkTree)?;
                (Pin::Latest, None)
            }
            Some(RefSpec::Draft) => {
                self.locate(agent, RefSpec::Draft, &DraftAt::WorkTree)?;
                (Pin::Draft, None)
            }
        };
        Ok(NewTarget { agent: agent.to_string(), pin, tree })
    }

    fn edit_channels(&self, change: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<()>) -> Result<String> {
        let lock = self.repo().common_dir().join("agentver-channels.lock");
        edit::edit_file(&self.root().join(FILE), &lock, change)
    }

    pub fn pin(&self, channel: &str, spec: &Spec) -> Result<NewTarget> {
        check_channel(channel)?;
        let target = self.pin_target(spec)?;
        self.edit_channels(|doc| edit::pin(doc, channel, &target))?;
        Ok(target)
    }

    /// Sets a split; `variants` are (name, spec, weight).
    pub fn ab(
        &self,
        channel: &str,
        variants: &[(String, Spec, u64)],
        sticky: Option<Sticky>,
        salt: Option<&str>,
    ) -> Result<Vec<NewVariant>> {
        check_channel(channel)?;
        if variants.len() < 2 {
            return Err(Error::Usage {
                message: "a split needs at least two variants".into(),
                hint: Some("to send every call to one version, use `agentver pin`".into()),
            });
        }
        let mut out: Vec<NewVariant> = Vec::new();
        for (name, spec, weight) in variants {
            if !is_valid_id(name) {
                return Err(Error::usage(format!(
                    "variant name '{}' must match [a-z0-9][a-z0-9_-]{{0,62}}",
                    name.escape_debug()
                )));
            }
            if out.iter().any(|v| &v.name == name) {
                return Err(Error::usage(format!("variant name '{name}' is used twice")));
            }
            out.push(NewVariant { name: name.clone(), target: self.pin_target(spec)?, weight: *weight });
        }
        if out.iter().all(|v| v.weight == 0) {
            return Err(Error::usage("the weights add up to 0; give at least one variant a positive weight"));
        }
        self.edit_channels(|doc| edit::split(doc, channel, &out, sticky, salt))?;
        Ok(out)
    }

    pub fn unpin(&self, channel: &str) -> Result<()> {
        check_channel(channel)?;
        self.edit_channels(|doc| edit::unpin(doc, channel))?;
        Ok(())
    }
}
