//! Sessions: a random id in an `HttpOnly; SameSite=Strict` cookie, each with its own CSRF token,
//! expiring after a fixed time. `serve` makes one at login (the token is never kept in the
//! browser); `agentver console` makes one on the first page, for its forms' CSRF tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "agentver_session";
/// How long a session lasts from its start.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most; the oldest goes first (a client cannot grow the table without end).
const MAX_SESSIONS: usize = 10_000;

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub csrf: String,
}

struct Entry {
    csrf: String,
    expires: Instant,
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    crate::calls::hex(&bytes)
}

impl Sessions {
    pub fn create(&self) -> Session {
        self.create_with(LIFETIME)
    }

    pub fn create_with(&self, lifetime: Duration) -> Session {
        let session = Session { id: random_token(), csrf: random_token() };
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, e| e.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.expires).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(session.id.clone(), Entry { csrf: session.csrf.clone(), expires: now + lifetime });
        session
    }

    /// The live session the request's cookie names.
    pub fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers)?;
        let map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (key, entry) = map.get_key_value(id)?;
        (entry.expires > Instant::now()).then(|| Session { id: key.clone(), csrf: entry.csrf.clone() })
    }

    pub fn end(&self, id: &str) {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }
}

/// The session id in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value for `session` (`None`: one that clears the cookie).
pub fn set_cookie(session: Option<&Session>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = match session {
        Some(s) => {
            format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", s.id, LIFETIME.as_secs())
        }
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).expect("a cookie of hex digits")
}

/// Whether `sent` is the session's CSRF token (constant time).
pub fn csrf_ok(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|s| s.as_bytes().ct_eq(session.csrf.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(&format!("other=1; {COOKIE}={value}")).unwrap());
        h
    }

    #[test]
    fn a_session_is_found_until_it_expires_or_ends() {
        let sessions = Sessions::default();
        let live = sessions.create();
        let found = sessions.find(&with_cookie(&live.id)).expect("a live session");
        assert_eq!(found.csrf, live.csrf);
        assert!(csrf_ok(&found, Some(&live.csrf)));
        assert!(!csrf_ok(&found, Some(&live.id)) && !csrf_ok(&found, None));
        let expired = sessions.create_with(Duration::ZERO);
        assert!(sessions.find(&with_cookie(&expired.id)).is_none(), "an expired session is no session");
        sessions.end(&live.id);
        assert!(sessions.find(&with_cookie(&live.id)).is_none(), "an ended session is no session");
        assert!(sessions.find(&with_cookie("not-hex")).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_https() {
        let s = Session { id: "a".repeat(64), csrf: "b".repeat(64) };
        let plain = set_cookie(Some(&s), false);
        assert!(
            plain.to_str().unwrap().contains("HttpOnly; SameSite=Strict")
                && !plain.to_str().unwrap().contains("Secure")
        );
        assert!(set_cookie(Some(&s), true).to_str().unwrap().ends_with("; Secure"));
        assert!(set_cookie(None, false).to_str().unwrap().contains("Max-Age=0"));
    }
}
