//! `agentver.toml`: the workspace marker, with `requires` (a semver requirement on this binary)
//! and `tag_prefix`.

use serde::Deserialize;

use crate::format::FormatError;
type Result<T, E = FormatError> = std::result::Result<T, E>;
use crate::format::diagnostic::Diagnostic;
use crate::names::tagname::{DEFAULT_PREFIX, prefix_problem};

pub const FILE: &str = "agentver.toml";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub requires: Option<semver::VersionReq>,
    pub tag_prefix: String,
    pub calls: CallsConfig,
    pub platforms: PlatformsConfig,
}

/// `[platforms]`: what the call-start hooks need beyond secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformsConfig {
    #[serde(default)]
    pub twilio: TwilioConfig,
}

/// `[platforms.twilio]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// The bot's WebSocket URL (`wss://…`) that Twilio's `<Stream>` connects a call to.
    pub stream_url: Option<String>,
}

/// `[calls]`: where call records are kept and whether callers' numbers are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsConfig {
    /// `sqlite:PATH` or `postgres://…`; default `sqlite:` in the git directory.
    pub store: Option<String>,
    /// Keep callers' numbers as given instead of a keyed hash.
    #[serde(default)]
    pub keep_caller_numbers: bool,
    /// Keep transcripts in the raw bodies of reports (they are stripped by default).
    #[serde(default)]
    pub keep_transcripts: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            requires: None,
            tag_prefix: DEFAULT_PREFIX.to_owned(),
            calls: CallsConfig::default(),
            platforms: PlatformsConfig::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    requires: Option<toml::Spanned<String>>,
    tag_prefix: Option<toml::Spanned<String>>,
    calls: Option<CallsConfig>,
    platforms: Option<PlatformsConfig>,
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> u32 {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() as u32 + 1
}

impl Config {
    /// Parses agentver.toml and checks `requires` against `binary_version`.
    pub fn parse(text: &str, binary_version: &semver::Version) -> Result<Self> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let mut message = e.message().trim().to_owned();
            let mut hint = None;
            if let Some(unknown) = message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
                hint = crate::format::diagnostic::closest(
                    unknown,
                    [
                        "requires",
                        "tag_prefix",
                        "calls",
                        "store",
                        "keep_caller_numbers",
                        "keep_transcripts",
                        "platforms",
                        "twilio",
                        "stream_url",
                    ],
                )
                .map(|c| format!("did you mean '{c}'?"));
                message = format!(
                    "unknown field '{unknown}'; agentver.toml knows requires, tag_prefix, [calls] store, keep_caller_numbers, keep_transcripts and [platforms.twilio] stream_url"
                );
            }
            FormatError::invalid(Diagnostic::error(FILE, line, message).with_hint(hint))
        })?;
        let mut config = Config {
            calls: raw.calls.unwrap_or_default(),
            platforms: raw.platforms.unwrap_or_default(),
            ..Config::default()
        };
        if let Some(url) = &config.platforms.twilio.stream_url
            && !(url.starts_with("wss://") || url.starts_with("ws://"))
        {
            return Err(FormatError::invalid(
                Diagnostic::error(
                    FILE,
                    None,
                    format!("[platforms.twilio] stream_url: '{}' is not a WebSocket URL", url.escape_debug()),
                )
                .with_hint(Some("write the bot's wss:// URL, e.g. stream_url = \"wss://bot.example.com/ws\"".into())),
            ));
        }
        if let Some(req) = raw.requires {
            let parsed = semver::VersionReq::parse(req.get_ref()).map_err(|e| {
                FormatError::invalid(
                    Diagnostic::error(FILE, Some(line_of(text, req.span().start)), format!("requires: {e}"))
                        .with_hint(Some("write a semver requirement such as \">=0.2\"".to_owned())),
                )
            })?;
            if !parsed.matches(binary_version) {
                return Err(FormatError::Requires {
                    file: format!("{FILE}:{}", line_of(text, req.span().start)),
                    requirement: req.get_ref().clone(),
                    version: binary_version.to_string(),
                });
            }
            config.requires = Some(parsed);
        }
        if let Some(prefix) = raw.tag_prefix {
            if let Some(problem) = prefix_problem(prefix.get_ref()) {
                return Err(FormatError::invalid(Diagnostic::error(
                    FILE,
                    Some(line_of(text, prefix.span().start)),
                    problem,
                )));
            }
            config.tag_prefix = prefix.into_inner();
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> semver::Version {
        semver::Version::new(0, 2, 0)
    }

    #[test]
    fn parses() {
        let c = Config::parse("requires = \">=0.2\"\ntag_prefix = \"voice\"\n", &v()).unwrap();
        assert_eq!(c.tag_prefix, "voice");
        assert_eq!(Config::parse("", &v()).unwrap(), Config::default());
    }

    #[test]
    fn refuses() {
        assert!(matches!(Config::parse("requires = \">=9\"", &v()), Err(FormatError::Requires { .. })));
        let Err(FormatError::Invalid(d)) = Config::parse("\ntag_prefx = \"x\"", &v()) else { panic!() };
        assert_eq!((d.line, d.hint.as_deref()), (Some(2), Some("did you mean 'tag_prefix'?")));
        assert!(matches!(Config::parse("requires = \"nonsense!\"", &v()), Err(FormatError::Invalid(_))));
        assert!(matches!(Config::parse("tag_prefix = \"../x\"", &v()), Err(FormatError::Invalid(_))));
    }
}
