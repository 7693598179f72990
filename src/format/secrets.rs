//! Literal secrets in config files: API keys, bearer tokens, passwords in URLs, credentials in
//! query strings and under secret-sounding keys. `${env:NAME}` placeholders are what belongs there;
//! the platforms' own references (`{{VAPI_SERVER_SECRET}}`, `${NAME}`) are placeholders too.

/// (1-based line, what was found) for every literal secret in `text`.
pub fn scan(text: &str) -> Vec<(u32, &'static str)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(kind) = scan_line(line) {
            found.push((i as u32 + 1, kind));
        }
    }
    found
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '~' | '+' | '/' | '=')
}

/// Length of the run of token characters at the start of `s`.
fn token_len(s: &str) -> usize {
    s.chars().take_while(|c| token_char(*c)).count()
}

/// True when `prefix` occurs in `line` followed by at least `min` token characters, and not as
/// the tail of a longer word.
fn keyed(line: &str, prefix: &str, min: usize) -> bool {
    line.match_indices(prefix).any(|(at, _)| {
        let before_ok = line[..at].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        before_ok && token_len(&line[at + prefix.len()..]) >= min
    })
}

/// A reference to a secret kept elsewhere: `${env:NAME}`, `${NAME}`, or a platform's template
/// variable `{{NAME}}` (Vapi's credential placeholders), whole or at the value's start.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    v.is_empty()
        || v.starts_with("${")
        || v.strip_prefix("{{").and_then(|rest| rest.split_once("}}")).is_some_and(|(name, _)| {
            let name = name.trim();
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        })
}

/// The part of `user:password` after the first colon that is not inside a `${…}` placeholder.
fn password_part(userinfo: &str) -> Option<&str> {
    let mut depth = 0usize;
    let bytes = userinfo.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'$' if bytes.get(i + 1) == Some(&b'{') => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => return Some(&userinfo[i + 1..]),
            _ => {}
        }
    }
    None
}

/// Every secret in `bytes` (a file shown as `file`) as the error `check` and `publish` report.
pub fn diagnostics(file: &str, bytes: &[u8]) -> Vec<crate::format::diagnostic::Diagnostic> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Vec::new() };
    scan(text)
        .into_iter()
        .map(|(line, kind)| {
            crate::format::diagnostic::Diagnostic::error(file, Some(line), format!("{kind} is written in the file"))
                .with_hint(Some(
                    "secrets never live in config: write ${env:NAME} and let the runtime fill it in".into(),
                ))
        })
        .collect()
}

/// Key names that hold credentials: `api_key`, and any name ending in one (`xi_api_key`,
/// `openai_api_key`, `x-api-key`, `deepgram_token`).
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.iter().any(|k| key == *k || key.strip_suffix(k).is_some_and(|head| head.ends_with('_') || k.len() > 6))
}

/// `key: value` / `"key": "value"` / `key=value` pairs anywhere on a line, flow style included
/// (`{api_key: "…", model: x}`): (key, literal value).
fn pairs(line: &str) -> Vec<(&str, &str)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let is_key = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut i = 0;
    while i < bytes.len() {
        if !is_key(bytes[i]) || (i > 0 && is_key(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_key(bytes[i]) {
            i += 1;
        }
        let key = &line[start..i];
        let mut j = i;
        if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
            j += 1;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b':' | b'=') {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let rest = &line[j..];
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &rest[1..];
                &inner[..inner.find(q).unwrap_or(inner.len())]
            }
            _ => &rest[..rest.find([',', '}', ']', ' ', '&', '#']).unwrap_or(rest.len())],
        };
        out.push((key, value));
    }
    out
}

/// `prefix` at a word start followed by at least `min` hex digits.
fn hex_keyed(line: &str, prefix: &str, min: usize) -> bool {
    line.match_indices(prefix).any(|(at, _)| {
        let before_ok = line[..at].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        before_ok && line[at + prefix.len()..].chars().take_while(char::is_ascii_hexdigit).count() >= min
    })
}

const SECRET_KEYS: &[&str] = &[
    "api_key",
    "apikey",
    "secret",
    "client_secret",
    "secret_key",
    "password",
    "passwd",
    "token",
    "auth_token",
    "access_token",
    "refresh_token",
    "bearer_token",
    "private_key",
    "authorization",
    "signing_key",
    "webhook_secret",
    "credentials",
];

fn scan_line(line: &str) -> Option<&'static str> {
    if line.trim_start().starts_with('#') {
        return None;
    }
    vendor_key(line).or_else(|| credential_in_text(line)).or_else(|| credential_in_url(line)).or_else(|| {
        // api_key: literal (YAML), "api_key": "literal" (JSON), {xi_api_key: "literal"} (flow style)
        pairs(line)
            .into_iter()
            .any(|(key, value)| {
                is_secret_key(key) && value.len() >= 8 && !is_placeholder(value) && !value.contains(' ')
            })
            .then_some("a literal secret")
    })
}

/// The platforms' and model vendors' key formats, wherever they stand: OpenAI `sk-`/`sk-proj-`,
/// Anthropic `sk-ant-`, ElevenLabs `sk_<hex>`, Retell `key_<hex>`, Twilio `SK<32 hex>`, Google
/// `AIza…`/`ya29.`, and others'.
fn vendor_key(line: &str) -> Option<&'static str> {
    if line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    const PREFIXES: &[(&str, usize, &str)] = &[
        ("sk-ant-", 20, "an Anthropic API key"),
        ("sk-", 20, "an API key (sk-…)"),
        ("sk_live_", 16, "a Stripe secret key"),
        ("rk_live_", 16, "a Stripe restricted key"),
        ("AKIA", 16, "an AWS access key"),
        ("ghp_", 30, "a GitHub token"),
        ("gho_", 30, "a GitHub token"),
        ("ghs_", 30, "a GitHub token"),
        ("github_pat_", 30, "a GitHub token"),
        ("xoxb-", 10, "a Slack token"),
        ("xoxp-", 10, "a Slack token"),
        ("AIza", 30, "a Google API key"),
        ("ya29.", 30, "a Google OAuth token"),
    ];
    const HEX: &[(&str, usize, &str)] =
        &[("sk_", 32, "an ElevenLabs API key"), ("key_", 20, "a Retell API key"), ("SK", 32, "a Twilio API key")];
    let prefixed = PREFIXES.iter().find(|(prefix, min, _)| keyed(line, prefix, *min));
    let hex = || HEX.iter().find(|(prefix, min, _)| hex_keyed(line, prefix, *min));
    prefixed.or_else(hex).map(|(_, _, kind)| *kind)
}

/// Tokens in header-like text: `Bearer <token>`, Deepgram's `Token <40 hex>`.
fn credential_in_text(line: &str) -> Option<&'static str> {
    if let Some(at) = line.find("Token ")
        && line[at + 6..].chars().take_while(char::is_ascii_hexdigit).count() >= 32
    {
        return Some("a Deepgram API key");
    }
    let at = line.to_ascii_lowercase().find("bearer ")?;
    let rest = &line[at + 7..];
    (token_len(rest) >= 16 && !is_placeholder(rest)).then_some("a bearer token")
}

/// `scheme://user:password@host`, and `?token=…` / `&api_key=…` / `?key=…` in a URL.
fn credential_in_url(line: &str) -> Option<&'static str> {
    if let Some(at) = line.find("://") {
        let authority = &line[at + 3..];
        let authority = &authority[..authority.find(['/', '?', '#', ' ', '"', '\'']).unwrap_or(authority.len())];
        if let Some((userinfo, _host)) = authority.rsplit_once('@')
            && let Some(password) = password_part(userinfo)
            && !password.is_empty()
            && !is_placeholder(password)
        {
            return Some("a password in a URL");
        }
    }
    for sep in ['?', '&'] {
        for (at, _) in line.match_indices(sep) {
            let Some((name, value)) = line[at + 1..].split_once('=') else { continue };
            let name = name.to_ascii_lowercase();
            let value = &value[..value.find(['&', '#', ' ', '"', '\'']).unwrap_or(value.len())];
            if (is_secret_key(&name) || name == "key") && value.len() >= 8 && !is_placeholder(value) {
                return Some("a credential in a URL query");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literal_secrets() {
        let cases = [
            ("url: https://api.example.com/x?token=abcd1234efgh", "a credential in a URL query"),
            ("url: https://admin:hunter22@hooks.example.com/book", "a password in a URL"),
            ("  api_key: sk-proj-abcdefghijklmnopqrstuvwx", "an API key (sk-…)"),
            ("  api_key: 9f8e7d6c5b4a39281706", "a literal secret"),
            ("headers: {Authorization: \"Bearer eyJhbGciOiJIUzI1NiIs\"}", "a bearer token"),
            ("\"password\": \"correct-horse\",", "a literal secret"),
            ("key: AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
            ("x: ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token"),
            ("x: AIzaSyA-abcdefghijklmnopqrstuvwxyz012345", "a Google API key"),
            // Flow style, vendor-prefixed key names, and each vendor's key format.
            ("llm: {provider: openai, api_key: \"9f8e7d6c5b4a3928\"}", "a literal secret"),
            ("  xi_api_key: 0123456789abcdef0123", "a literal secret"),
            ("  voice: {xi-api-key: abcdef0123456789}", "a literal secret"),
            ("  vapi_private_key: 3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c", "a literal secret"),
            ("  key: sk_0123456789abcdef0123456789abcdef0123456789abcdef", "an ElevenLabs API key"),
            ("url: wss://api.retellai.com/audio?key=key_0123456789abcdef01234567", "a Retell API key"),
            ("x: sk-proj-abcdefghijklmnopqrstuvwxyz0123", "an API key (sk-…)"),
            ("x: sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "an Anthropic API key"),
            ("headers: {Authorization: \"Token 0123456789abcdef0123456789abcdef01234567\"}", "a Deepgram API key"),
            ("  sid: SK0123456789abcdef0123456789abcdef", "a Twilio API key"),
            ("url: https://AC0123:0123456789abcdef@api.twilio.com/x", "a password in a URL"),
            ("x: ya29.a0AfH6SMBabcdefghijklmnopqrstuvwxyz", "a Google OAuth token"),
            ("\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\"", "a private key"),
            ("url: https://maps.example.com/api?key=AbCdEf0123456789", "a credential in a URL query"),
        ];
        for (line, want) in cases {
            assert_eq!(scan_line(line), Some(want), "{line}");
        }
    }

    #[test]
    fn placeholders_and_ordinary_text_are_fine() {
        for line in [
            "url: https://hooks.example.com/book?token=${env:BOOKING_TOKEN}",
            "url: https://${env:USER}:${env:PASS}@hooks.example.com/",
            "  api_key: ${env:OPENAI_API_KEY}",
            "  max_tokens: 400",
            "  token: short",
            "# token: sk-abcdefghijklmnopqrstuvwxyz (a comment)",
            "  system: Ask for the caller's password reset code, never their password.",
            "  description: Books a demo slot in the sales calendar.",
            "url: https://hooks.example.com/book?date=2026-11-01",
            "  model: task-specific-sk-model",
            "  max_tokens: 400000000",
            "  xi_api_key: ${env:ELEVENLABS_API_KEY}",
            "llm: {provider: openai, api_key: \"${env:OPENAI_API_KEY}\"}",
            "  voice_id: 21m00Tcm4TlvDq8ikWAM",
            "  tree: 9f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6",
            "  secret: \"{{VAPI_SERVER_SECRET}}\"",
            "  api_key: ${OPENAI_API_KEY}",
            "  Authorization: Bearer {{ CRM_TOKEN }}",
        ] {
            assert_eq!(scan_line(line), None, "{line}");
        }
        assert_eq!(scan("a: 1\nurl: https://u:pw12345678@x.example\n"), vec![(2, "a password in a URL")]);
    }
}
