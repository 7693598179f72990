//! The OpenAI-compatible Chat Completions client `agentver test` talks through: one POST per
//! request to `<base_url>/chat/completions` with the key as a bearer token, a timeout per
//! request (a request that times out is not sent again: the provider is stalled, not busy), 429,
//! 5xx and failed connections retried with backoff (a `Retry-After` honoured, up to 30 s), and
//! an error as one line with the provider's status and message. It never follows a redirect.

use std::time::Duration;

use serde_json::Value as Json;

/// Where one provider's requests go.
#[derive(Clone, Debug)]
pub struct Provider {
    pub name: String,
    pub base_url: String,
    /// The key's variable, named in errors; the key itself is never printed or recorded.
    pub key_env: String,
    pub key: Option<String>,
    /// Prices per million tokens (input, output), when configured.
    pub prices: Option<(f64, f64)>,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{provider} answered {status}: {message}")]
    Status { provider: String, status: u16, message: String },
    #[error("{provider}: {message}")]
    Transport { provider: String, message: String },
    #[error("{provider} sent no answer within {seconds} s")]
    Timeout { provider: String, seconds: u64 },
    #[error("{provider}'s answer is not a chat completion: {message}")]
    BadAnswer { provider: String, message: String },
    #[error("{provider}: no API key (set {env})")]
    NoKey { provider: String, env: String },
}

/// Attempts per request (the first and three retries).
const ATTEMPTS: u32 = 4;
/// The longest wait before a retry, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// The largest answer read.
const MAX_ANSWER: u64 = 16 << 20;

pub struct Client {
    agent: ureq::Agent,
    timeout: Duration,
}

impl Client {
    pub fn new(timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("agentver/", env!("CARGO_PKG_VERSION")))
            .build();
        Client { agent: ureq::Agent::new_with_config(config), timeout }
    }

    /// Sends `body` to `provider`'s chat completions and returns the answer's JSON.
    pub fn complete(&self, provider: &Provider, body: &Json) -> Result<Json, ChatError> {
        let Some(key) = &provider.key else {
            return Err(ChatError::NoKey { provider: provider.name.clone(), env: provider.key_env.clone() });
        };
        let url = format!("{}/chat/completions", provider.base_url.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(provider, &url, key, body) {
                Err(Retry { error, after }) if attempt < ATTEMPTS => {
                    let backoff = Duration::from_millis(500 << (attempt - 1));
                    std::thread::sleep(after.unwrap_or(backoff).min(MAX_WAIT));
                    let _ = error;
                }
                Err(Retry { error, .. }) => return Err(error),
                Ok(answer) => return answer,
            }
        }
    }

    /// One attempt: the answer (or a final error), or an error worth retrying.
    fn once(&self, provider: &Provider, url: &str, key: &str, body: &Json) -> Result<Result<Json, ChatError>, Retry> {
        let name = || provider.name.clone();
        let mut request = self.agent.post(url).header("Content-Type", "application/json");
        if !key.is_empty() {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let sent = request.send(serde_json::to_vec(body).expect("JSON serializes"));
        let mut response = match sent {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => {
                return Ok(Err(ChatError::Timeout { provider: name(), seconds: self.timeout.as_secs() }));
            }
            Err(e) => {
                return Err(Retry {
                    error: ChatError::Transport { provider: name(), message: e.to_string() },
                    after: None,
                });
            }
        };
        let status = response.status().as_u16();
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = response.body_mut().with_config().limit(MAX_ANSWER).read_to_string().unwrap_or_default();
        if status == 429 || status >= 500 {
            return Err(Retry {
                error: ChatError::Status { provider: name(), status, message: message(&text) },
                after,
            });
        }
        if !(200..300).contains(&status) {
            return Ok(Err(ChatError::Status { provider: name(), status, message: message(&text) }));
        }
        Ok(serde_json::from_str::<Json>(&text)
            .map_err(|e| ChatError::BadAnswer { provider: name(), message: e.to_string() })
            .and_then(|j| {
                if j["choices"][0]["message"].is_object() {
                    Ok(j)
                } else {
                    Err(ChatError::BadAnswer { provider: name(), message: "no choices[0].message".into() })
                }
            }))
    }
}

struct Retry {
    error: ChatError,
    after: Option<Duration>,
}

/// The provider's error message (OpenAI's `{"error": {"message"}}`), else the body's start, on one line.
fn message(text: &str) -> String {
    let parsed = serde_json::from_str::<Json>(text).ok();
    let said = parsed.as_ref().and_then(|j| j["error"]["message"].as_str().or_else(|| j["message"].as_str()));
    let one: String = said.unwrap_or(text).chars().filter(|c| !c.is_control()).take(300).collect();
    if one.is_empty() { "(no message)".into() } else { one }
}
