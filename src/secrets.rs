//! Literal secrets in config files: API keys, bearer tokens, passwords in URLs, credentials in
//! query strings and under secret-sounding keys. `${env:NAME}` placeholders are what belongs there.

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

fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    v.starts_with("${") || v.is_empty()
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

const SECRET_KEYS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
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
];

fn scan_line(line: &str) -> Option<&'static str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return None;
    }
    let prefixes: &[(&str, usize, &str)] = &[
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
    ];
    for (prefix, min, kind) in prefixes {
        if keyed(line, prefix, *min) {
            return Some(kind);
        }
    }
    let lower = line.to_ascii_lowercase();
    if let Some(at) = lower.find("bearer ") {
        let rest = &line[at + 7..];
        if token_len(rest) >= 16 && !is_placeholder(rest) {
            return Some("a bearer token");
        }
    }
    // scheme://user:password@host
    if let Some(at) = line.find("://") {
        let authority = &line[at + 3..];
        let authority = &authority[..authority.find(['/', '?', '#', ' ', '"', '\'']).unwrap_or(authority.len())];
        if let Some((userinfo, _host)) = authority.rsplit_once('@')
            && let Some(password) = password_part(userinfo)
            && !password.is_empty()
            && !password.starts_with("${")
        {
            return Some("a password in a URL");
        }
    }
    // ?token=… / &api_key=… in a URL
    for sep in ['?', '&'] {
        for (at, _) in line.match_indices(sep) {
            let param = &line[at + 1..];
            if let Some((name, value)) = param.split_once('=') {
                let name = name.to_ascii_lowercase();
                let value = &value[..value.find(['&', '#', ' ', '"', '\'']).unwrap_or(value.len())];
                if SECRET_KEYS.contains(&name.as_str()) && value.len() >= 8 && !is_placeholder(value) {
                    return Some("a credential in a URL query");
                }
            }
        }
    }
    // api_key: literal   (YAML) or "api_key": "literal" (JSON)
    if let Some((key, value)) = trimmed.split_once(':') {
        let key = key.trim().trim_matches(['"', '\'', '-', ' ']).to_ascii_lowercase();
        let value = value.trim().trim_end_matches(',');
        let literal = value.trim_matches(['"', '\'']);
        if SECRET_KEYS.contains(&key.as_str()) && literal.len() >= 8 && !is_placeholder(value) && !literal.contains(' ')
        {
            return Some("a literal secret");
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
        ] {
            assert_eq!(scan_line(line), None, "{line}");
        }
        assert_eq!(scan("a: 1\nurl: https://u:pw12345678@x.example\n"), vec![(2, "a password in a URL")]);
    }
}
