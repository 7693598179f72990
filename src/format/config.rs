//! `agentver.toml`: the workspace marker, with `requires` (a semver requirement on this binary),
//! `tag_prefix`, and the sections of the call store, the platforms, `agentver test` and publish.

use serde::Deserialize;

use crate::format::FormatError;
type Result<T, E = FormatError> = std::result::Result<T, E>;
use crate::format::diagnostic::Diagnostic;
use crate::names::tagname::{DEFAULT_PREFIX, prefix_problem};

pub const FILE: &str = "agentver.toml";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub requires: Option<semver::VersionReq>,
    pub tag_prefix: String,
    pub calls: CallsConfig,
    pub platforms: PlatformsConfig,
    pub test: TestConfig,
    pub publish: PublishConfig,
}

/// `[test]`: where `agentver test` sends the agent's, the caller's and the judge's requests.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConfig {
    /// `provider/model` of the simulated caller (the provider defaults to the agent's).
    pub caller_model: Option<String>,
    /// `provider/model` of the judge.
    pub judge_model: Option<String>,
    /// Seconds one request may take (default 60).
    pub timeout: Option<u64>,
    /// Each LLM provider's OpenAI-compatible endpoint, by the name agents use in `llm.provider`.
    #[serde(default)]
    pub providers: std::collections::BTreeMap<String, ProviderConfig>,
}

/// `[test.providers.<name>]`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The API's base URL, up to and including its version (`https://api.openai.com/v1`).
    pub base_url: Option<String>,
    /// The environment variable holding the API key (never the key itself); `""` for a local
    /// server that takes none (Ollama, vLLM, llama.cpp's server).
    pub api_key_env: Option<String>,
    /// Price in the provider's currency per million input tokens, for the run's cost line.
    pub input_per_million: Option<f64>,
    /// Price per million output tokens.
    pub output_per_million: Option<f64>,
}

/// `[publish]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// Refuse to publish a tree whose tests have not all passed (`agentver test`).
    #[serde(default)]
    pub require_tests: bool,
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
            test: TestConfig::default(),
            publish: PublishConfig::default(),
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
    test: Option<TestConfig>,
    publish: Option<PublishConfig>,
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> u32 {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() as u32 + 1
}

impl Config {
    /// Parses agentver.toml and checks `requires` against `binary_version`.
    pub fn parse(text: &str, binary_version: &semver::Version) -> Result<Self> {
        let raw: Raw = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let mut config = Config {
            calls: raw.calls.unwrap_or_default(),
            platforms: raw.platforms.unwrap_or_default(),
            test: raw.test.unwrap_or_default(),
            publish: raw.publish.unwrap_or_default(),
            ..Config::default()
        };
        check_test(&config.test)?;
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

/// A TOML error as agentver.toml's diagnostic: its line, and for an unknown field what is known.
fn toml_error(text: &str, e: &toml::de::Error) -> FormatError {
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
                "test",
                "caller_model",
                "judge_model",
                "timeout",
                "providers",
                "base_url",
                "api_key_env",
                "input_per_million",
                "output_per_million",
                "publish",
                "require_tests",
            ],
        )
        .map(|c| format!("did you mean '{c}'?"));
        message = format!(
            "unknown field '{unknown}'; agentver.toml knows requires, tag_prefix, [calls] store, keep_caller_numbers, keep_transcripts, [platforms.twilio] stream_url, [test] caller_model, judge_model, timeout, [test.providers.<name>] base_url, api_key_env, input_per_million, output_per_million and [publish] require_tests"
        );
    }
    FormatError::invalid(Diagnostic::error(FILE, line, message).with_hint(hint))
}

/// `[test]`'s values that TOML's types do not check: model names and URLs.
fn check_test(test: &TestConfig) -> Result<()> {
    let bad = |message: String, hint: &str| {
        Err(FormatError::invalid(Diagnostic::error(FILE, None, message).with_hint(Some(hint.to_owned()))))
    };
    for (key, model) in [("caller_model", &test.caller_model), ("judge_model", &test.judge_model)] {
        if let Some(m) = model
            && (m.trim().is_empty() || m.chars().any(char::is_control))
        {
            return bad(
                format!("[test] {key}: '{}' is not a model", m.escape_debug()),
                "write provider/model, e.g. \"openai/gpt-4o-mini\"",
            );
        }
    }
    for (name, p) in &test.providers {
        if let Some(url) = &p.base_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return bad(
                format!("[test.providers.{name}] base_url: '{}' is not an http(s) URL", url.escape_debug()),
                "write the API's base URL up to its version, e.g. \"https://api.openai.com/v1\"",
            );
        }
        if let Some(env) = &p.api_key_env
            && !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return bad(
                format!(
                    "[test.providers.{name}] api_key_env: '{}' is not an environment variable's name",
                    env.escape_debug()
                ),
                "name the variable that holds the key, e.g. \"OPENAI_API_KEY\"; never the key itself",
            );
        }
    }
    if test.timeout == Some(0) {
        return bad(
            "[test] timeout: 0 seconds leaves no time for a reply".into(),
            "write the seconds a request may take, e.g. timeout = 60",
        );
    }
    Ok(())
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
