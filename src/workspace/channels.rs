//! channels.toml as a workspace holds it: read from the work tree or a revision, its bytes
//! checked, then parsed by `format::channels`.

use crate::error::{Error, Result};
use crate::format::channels::{self, Channel, Channels, FILE, MAX_FILE_BYTES};
use crate::format::diagnostic::Diagnostic;
use crate::format::text;
use crate::workspace::{DraftAt, Workspace};

impl Workspace {
    /// channels.toml from `at`, its bytes checked (size, BOM, UTF-8), then parsed with `parse`;
    /// `None` when there is no such file. Problems are reported by their first diagnostic.
    fn read_channels<T>(
        &self,
        at: &DraftAt,
        parse: impl FnOnce(&str, &str) -> Result<T, Vec<Diagnostic>>,
    ) -> Result<Option<T>> {
        let source = self.drafts(at)?;
        let Some(bytes) = source.read_limited(FILE, MAX_FILE_BYTES)? else { return Ok(None) };
        let file = source.display(FILE);
        let first = |d: Vec<Diagnostic>| Error::invalid(d.into_iter().next().expect("at least one diagnostic"));
        let text = text::check_text_within(&bytes, MAX_FILE_BYTES).map_err(|e| first(vec![e.diagnostic(&file)]))?;
        parse(text, &file).map(Some).map_err(first)
    }

    /// channels.toml from the work tree or a revision; an absent file is an empty one.
    pub fn load_channels(&self, at: &DraftAt) -> Result<Channels> {
        Ok(self.read_channels(at, channels::parse)?.unwrap_or_default())
    }

    /// One channel from channels.toml, reading only its section when the layout allows.
    pub fn load_channel(&self, at: &DraftAt, name: &str) -> Result<Option<Channel>> {
        Ok(self.read_channels(at, |text, file| channels::parse_one(text, file, name))?.flatten())
    }

    /// (channel, agent) for every route in channels.toml.
    pub fn channel_routes(&self, at: &DraftAt) -> Result<Vec<(String, String)>> {
        Ok(channels::routes(&self.load_channels(at)?))
    }
}
