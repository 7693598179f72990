//! Sessions: a random id in an `HttpOnly; SameSite=Strict` cookie, each with its own CSRF token,
//! expiring after a fixed time. `serve` makes one at login (the token is never kept in the
//! browser); `agentver console` makes one on the first page, for its forms' CSRF tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq;

/// The cookie name of [`Sessions::default`]. A server names its own with
/// [`Sessions::for_server`] (`agentver_console_8701`, `agentver_serve_8700`): cookies ignore
/// ports, so a console and a server on one host, each with its own name, never log each other out.
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
    /// What the last action did (a notice's kind, its text), shown once by the page it lands on.
    flash: Option<(&'static str, String)>,
}

pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
    /// The cookie that carries this server's session ids.
    name: String,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::named(COOKIE)
    }
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    crate::calls::hex(&bytes)
}

impl Sessions {
    /// Sessions carried in the cookie `name` (letters, digits and `_`).
    pub fn named(name: &str) -> Sessions {
        debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        Sessions { map: Mutex::default(), name: name.to_owned() }
    }

    /// The cookie name of a console (`console`) or a server (`serve`) listening on `port`;
    /// behind https (`secure`) with the `__Host-` prefix, which browsers set only from a secure
    /// page, for the whole host and no domain beyond it.
    pub fn for_server(kind: &str, port: u16, secure: bool) -> Sessions {
        let prefix = if secure { "__Host-" } else { "" };
        Sessions::named(&format!("{prefix}agentver_{kind}_{port}"))
    }

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
        map.insert(session.id.clone(), Entry { csrf: session.csrf.clone(), expires: now + lifetime, flash: None });
        session
    }

    /// The live session the request's cookie names.
    pub fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, &self.name)?;
        let map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (key, entry) = map.get_key_value(id)?;
        (entry.expires > Instant::now()).then(|| Session { id: key.clone(), csrf: entry.csrf.clone() })
    }

    /// Keeps `text` for the session's next page (an action's outcome, after its redirect).
    /// `kind` is the notice's: `ok`, or `error` for a refusal.
    pub fn set_flash(&self, id: &str, kind: &'static str, text: String) {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = map.get_mut(id) {
            entry.flash = Some((kind, text));
        }
    }

    /// The outcome kept for this page, once.
    pub fn take_flash(&self, id: &str) -> Option<(&'static str, String)> {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get_mut(id).and_then(|e| e.flash.take())
    }

    pub fn end(&self, id: &str) {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }
}

/// The session id in the request's `Cookie` headers, under the cookie `name`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Sessions {
    /// The `Set-Cookie` value for `session` (`None`: one that clears the cookie).
    pub fn set_cookie(&self, session: Option<&Session>, secure: bool) -> HeaderValue {
        let (name, secure) = (&self.name, if secure { "; Secure" } else { "" });
        let text = match session {
            Some(s) => {
                format!("{name}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", s.id, LIFETIME.as_secs())
            }
            None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
        };
        HeaderValue::from_str(&text).expect("a cookie of hex digits")
    }
}

/// Wrong tokens at the login: after [`LoginThrottle::ALLOWED`] within a minute, every login is
/// refused (429) until that minute is over, so a token cannot be guessed at the server's speed.
#[derive(Default)]
pub struct LoginThrottle {
    /// When the current minute began, and the wrong tokens since.
    window: Mutex<Option<(Instant, u32)>>,
}

impl LoginThrottle {
    pub const ALLOWED: u32 = 10;
    const WINDOW: Duration = Duration::from_secs(60);

    /// How long until logins are taken again, while they are refused.
    pub fn refused(&self) -> Option<Duration> {
        let window = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, failures) = (*window)?;
        let left = Self::WINDOW.checked_sub(start.elapsed())?;
        (failures >= Self::ALLOWED).then_some(left)
    }

    pub fn failed(&self) {
        let mut window = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match window.as_mut() {
            Some((start, failures)) if start.elapsed() < Self::WINDOW => *failures += 1,
            _ => *window = Some((Instant::now(), 1)),
        }
    }
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
        let sessions = Sessions::for_server("serve", 8700, false);
        let set_cookie = |s: Option<&Session>, secure| sessions.set_cookie(s, secure);
        let plain = set_cookie(Some(&s), false);
        assert!(plain.to_str().unwrap().starts_with("agentver_serve_8700="));
        assert!(
            plain.to_str().unwrap().contains("HttpOnly; SameSite=Strict")
                && !plain.to_str().unwrap().contains("Secure")
        );
        assert!(set_cookie(Some(&s), true).to_str().unwrap().ends_with("; Secure"));
        assert!(set_cookie(None, false).to_str().unwrap().contains("Max-Age=0"));
        let https = Sessions::for_server("serve", 8700, true).set_cookie(Some(&s), true);
        let https = https.to_str().unwrap();
        assert!(
            https.starts_with("__Host-agentver_serve_8700=")
                && https.contains("; Path=/;")
                && https.ends_with("; Secure")
        );
    }
}
