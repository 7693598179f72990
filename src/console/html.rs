//! The page frame (head, navigation, the mode's banner) and the small pieces every page uses.
//! Everything interpolated goes through maud, which escapes it: nothing from a repository or a
//! call record reaches a page as markup.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::assets;

/// What the frame needs besides the page's own content.
pub struct Frame<'a> {
    pub title: &'a str,
    /// `None` for the work tree; the served commit in `serve`.
    pub revision: Option<&'a str>,
    /// The session's CSRF token, for the logout form (and the actions' forms).
    pub csrf: Option<&'a str>,
    /// `serve` with a token: a logout button.
    pub logout: bool,
    /// The navigation entry to mark as current.
    pub section: Section,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Agents,
    Channels,
    Calls,
    None,
}

pub fn page(frame: &Frame<'_>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (head_common())
                // htmx must not add its own <style>: the CSP allows the console's stylesheet only.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false}"#;
                title { (frame.title) " · agentver" }
                link rel="stylesheet" href=(assets::CSS_PATH);
                script src=(assets::HTMX_PATH) defer {}
                script src=(assets::JS_PATH) defer {}
            }
            body hx-boost="false" {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    nav aria-label="Main" {
                        a.brand href="/" { "agentver" }
                        ul {
                            (nav_item("/", "Agents", frame.section == Section::Agents))
                            (nav_item("/channels", "Channels", frame.section == Section::Channels))
                            (nav_item("/calls", "Calls", frame.section == Section::Calls))
                        }
                    }
                    p.mode {
                        @match frame.revision {
                            Some(r) => { "Serving revision " code { (short(r)) } " (read-only)" }
                            None => { "Work tree (drafts are the files on disk)" }
                        }
                    }
                    @if frame.logout {
                        form method="post" action="/logout" {
                            @if let Some(t) = frame.csrf { input type="hidden" name="csrf" value=(t); }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main id="main" { (main) }
            }
        }
    }
}

/// What every page's head starts with: the encoding, a phone's width, light and dark.
fn head_common() -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        meta name="color-scheme" content="light dark";
    }
}

fn nav_item(href: &str, text: &str, current: bool) -> Markup {
    html! {
        li {
            @if current { a href=(href) aria-current="page" { (text) } } @else { a href=(href) { (text) } }
        }
    }
}

/// The first 12 hex digits of an object id.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// `v3`, or "draft" for none.
pub fn version_number(n: Option<u64>) -> String {
    n.map(|n| format!("v{n}")).unwrap_or_else(|| "draft".into())
}

/// A percentage with one decimal.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A time for people: "2 h ago" within a week, else the date (`20 Nov 2026, 09:00 UTC`), in a
/// `<time>` whose `datetime` keeps the exact time and whose title shows it (the console's script
/// puts both in the browser's time zone). A value that is not an RFC 3339 time is shown as it is.
pub fn when(at: &str) -> Markup {
    when_at(at, jiff::Timestamp::now())
}

fn when_at(at: &str, now: jiff::Timestamp) -> Markup {
    let Ok(t) = at.parse::<jiff::Timestamp>() else { return html! { (at) } };
    let exact = t.strftime("%-d %b %Y, %H:%M:%S UTC").to_string();
    match ago(now.as_second() - t.as_second()) {
        Some(text) => html! { time datetime=(at) title=(exact) { (text) } },
        None => html! { time datetime=(at) title=(exact) data-date { (t.strftime("%-d %b %Y, %H:%M UTC")) } },
    }
}

/// `seconds` ago in words, up to a week (a time ahead of the clock is shown as a date).
fn ago(seconds: i64) -> Option<String> {
    Some(match seconds {
        ..-60 => return None,
        -60..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", seconds / 60),
        3_600..86_400 => format!("{} h ago", seconds / 3_600),
        86_400..172_800 => "yesterday".to_owned(),
        172_800..604_800 => format!("{} days ago", seconds / 86_400),
        _ => return None,
    })
}

/// A duration for people: `48.2 s`, `2 min 1.6 s`, `1 h 5 min`.
pub fn duration(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    match ms {
        0..60_000 => format!("{s:.1} s"),
        60_000..3_600_000 => format!("{} min {:.1} s", ms / 60_000, (ms % 60_000) as f64 / 1000.0),
        _ => format!("{} h {} min", ms / 3_600_000, (ms % 3_600_000) / 60_000),
    }
}

/// A duration in ms as seconds with one decimal.
pub fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// A query string from pairs, each value percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            out.append_pair(k, v);
        }
    }
    out.finish()
}

/// A path segment percent-encoded (call ids come from callers).
pub fn segment(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A notice for the page's top: `kind` is `ok`, `warn` or `error`.
pub fn notice(kind: &str, text: Markup) -> Markup {
    html! { div class={"notice " (kind)} role=(if kind == "error" { "alert" } else { "status" }) { (text) } }
}

/// The login page: it is served before there is a session, so it links no asset (its style
/// is inline and allowed by its hash in the page's CSP).
pub fn login(next: &str, failed: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (head_common())
                title { "Log in · agentver" }
                style { (PreEscaped(LOGIN_STYLE)) }
            }
            body {
                main {
                    h1 { "agentver" }
                    @if failed { p role="alert" { "That token is not this server's token." } }
                    form method="post" action="/login" {
                        input type="hidden" name="next" value=(next);
                        label for="token" { "Server token" }
                        input id="token" name="token" type="password" autocomplete="current-password" required;
                        button type="submit" { "Log in" }
                    }
                    p { "The token is the one " code { "serve" } " was started with; it is exchanged for a session and never kept in the browser." }
                }
            }
        }
    }
}

/// The login page's whole style (its hash is in the CSP).
pub const LOGIN_STYLE: &str = "body{font:1rem/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}\
label,input,button{display:block;margin:.5rem 0;font:inherit}input{width:100%;padding:.4rem}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_relative_within_a_week_and_dates_after() {
        let now: jiff::Timestamp = "2026-12-08T12:00:00Z".parse().unwrap();
        let shown = |at: &str| when_at(at, now).into_string();
        assert_eq!(
            shown("2026-12-08T10:00:00Z"),
            r#"<time datetime="2026-12-08T10:00:00Z" title="8 Dec 2026, 10:00:00 UTC">2 h ago</time>"#
        );
        assert!(shown("2026-12-08T11:59:30Z").contains(">just now<"));
        assert!(shown("2026-12-08T11:15:00Z").contains(">45 min ago<"));
        assert!(shown("2026-12-07T09:00:00Z").contains(">yesterday<"));
        assert!(shown("2026-12-03T12:00:00Z").contains(">5 days ago<"));
        assert_eq!(
            shown("2026-11-20T09:00:00+00:00"),
            r#"<time datetime="2026-11-20T09:00:00+00:00" title="20 Nov 2026, 09:00:00 UTC" data-date>20 Nov 2026, 09:00 UTC</time>"#
        );
        assert!(shown("2026-12-09T12:00:00Z").contains("data-date>9 Dec 2026"), "a time ahead of the clock is a date");
        assert_eq!(shown("yesterday-ish"), "yesterday-ish");
    }
}
