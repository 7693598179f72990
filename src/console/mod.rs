//! The web console (DESIGN.md "The console"): the platforms' screens as HTML pages over git,
//! served read-only beside `serve`'s API and with the editor's actions by `agentver console`.
//! Both modes run the same handlers over a [`view::View`]; the pages read the structs the CLI
//! prints (`log`, `diff`, `channels`, `calls`, `stats`), never a second source of truth.

pub mod actions;
pub mod assets;
pub mod chart;
mod diff;
mod editor;
mod fields;
mod html;
mod pages;
mod pages_stats;
pub mod server;
pub mod session;
mod stamp;
pub mod unread;
pub mod view;
mod watch;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use self::html::{Frame, Section};
use self::session::{Session, Sessions};
use self::view::Source;
use crate::error::Error;

/// Who may see the pages.
pub enum Access {
    /// `agentver console` on loopback, or `serve` with no token: anyone who reaches the port.
    Open,
    /// `serve` with a token: a session from the login page (SHA-256 of the token).
    Token([u8; 32]),
}

pub struct Console {
    pub source: Arc<dyn Source>,
    pub access: Access,
    pub sessions: Sessions,
    /// Cookies marked `Secure` (behind https).
    pub secure: bool,
    /// The editor's actions (`agentver console`): the work tree they change.
    pub editor: Option<actions::Editor>,
    /// The agents page's calls per agent in the last 7 days, counted at most once a minute.
    pub week: pages::WeekCache,
    /// The stats pages' reports, kept while the store has no new commit.
    pub stats: pages_stats::StatsCache,
    /// Wrong tokens at the login, throttled.
    pub logins: session::LoginThrottle,
}

type Shared = Arc<Console>;

/// Every page's route, as DESIGN.md lists them.
pub const PAGES: &[&str] = &[
    "/",
    "/agents/{id}",
    "/agents/{id}/versions/{reference}",
    "/agents/{id}/compare",
    "/agents/{id}/stats",
    "/channels",
    "/calls",
    "/calls/{call_id}",
];

/// The console's routes (pages, assets, login), for a router whose state is `S`.
pub fn router<S: Clone + Send + Sync + 'static>(console: Shared) -> Router<S> {
    let mut r = Router::new()
        .route("/", get(pages::agents))
        .route("/agents/{id}", get(pages::history))
        .route("/agents/{id}/versions/{reference}", get(pages::version))
        .route("/agents/{id}/compare", get(pages::compare))
        .route("/agents/{id}/stats", get(pages::stats))
        .route("/agents/{id}/stats.csv", get(pages::stats_csv))
        .route("/channels", get(pages::channels))
        .route("/calls", get(pages::calls))
        .route("/calls/{call_id}", get(pages::call))
        .route("/assets/{file}", get(asset))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout));
    if console.editor.is_some() {
        // `agentver console` alone: serve's router has its own fallback (the API's JSON 404).
        r = actions::routes(r).fallback(not_found);
    }
    r.layer(middleware::from_fn_with_state(console.clone(), gate)).with_state(console)
}

/// A page that is not there: the console's own page, with the way back.
async fn not_found(State(c): State<Shared>, session: Option<axum::Extension<Session>>) -> Response {
    let session = session.map(|axum::Extension(s)| s);
    error_page(&c, session.as_ref(), StatusCode::NOT_FOUND, "there is no page at this address")
}

async fn asset(request: Request) -> Response {
    assets::serve(request.uri().path())
}

/// The CSP of every page: the console's own script and stylesheet, nothing inline, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn security_headers(headers: &mut HeaderMap, csp: &str) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(csp).expect("ASCII"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}

/// Sessions and access: with a token, nothing but the login page without a session; in the
/// open modes a session is made on the first request (its CSRF token guards the forms).
/// Every POST must come from this origin.
async fn gate(State(c): State<Shared>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let is_login = path == "/login";
    if c.editor.is_some() && !loopback_host(request.headers()) {
        // A page that changes the work tree answers loopback names only (no DNS rebinding).
        return error_page(
            &c,
            None,
            StatusCode::FORBIDDEN,
            "the console answers requests for 127.0.0.1 or localhost only",
        );
    }
    if request.method() == Method::POST && !same_origin(request.headers(), c.secure) {
        return error_page(&c, None, StatusCode::FORBIDDEN, "this form was not sent from this console's own page");
    }
    let found = c.sessions.find(request.headers());
    let mut made = None;
    let session = match (&c.access, found) {
        (_, Some(s)) => Some(s),
        // Only the editor's forms need a session (for their CSRF token): serve's open pages
        // make none, so a client without cookies does not fill the table.
        (Access::Open, None) if c.editor.is_some() => {
            let s = c.sessions.create();
            made = Some(s.clone());
            Some(s)
        }
        (Access::Open, None) => None,
        (Access::Token(_), None) if is_login => None,
        (Access::Token(_), None) => return to_login(&request),
    };
    if let Some(s) = &session {
        request.extensions_mut().insert(s.clone());
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(s) = made {
        headers.append(header::SET_COOKIE, c.sessions.set_cookie(Some(&s), c.secure));
    }
    security_headers(headers, if is_login { &LOGIN_CSP } else { CSP });
    response
}

fn loopback_host(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// `Origin` (or, without it, `Referer`) names the scheme and host the request was sent to: https
/// behind `--public-url https://…` (`secure`), else http.
fn same_origin(headers: &HeaderMap, secure: bool) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let sent = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|h| h.to_str().ok());
    let Some(sent) = sent else { return false };
    let scheme = if secure { "https://" } else { "http://" };
    let rest = sent.strip_prefix(scheme).unwrap_or("");
    let origin_host = rest.split('/').next().unwrap_or("");
    !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

fn to_login(request: &Request) -> Response {
    if request.method() != Method::GET || request.uri().path().starts_with("/assets/") {
        return (StatusCode::UNAUTHORIZED, "log in first: /login").into_response();
    }
    let next = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let location = format!("/login?{}", html::query(&[("next", next)]));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

static LOGIN_CSP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(html::LOGIN_STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
});

/// Where a login may send the browser next: a path of this site only.
fn safe_next(next: Option<&str>) -> String {
    match next {
        // A browser drops tabs and newlines from a URL ("/\t/evil.example" is "//evil.example"),
        // so no control character passes.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login")
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".into(),
    }
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_page(axum::extract::Query(q): axum::extract::Query<LoginQuery>) -> Response {
    page_response(html::login(&safe_next(q.next.as_deref()), false), StatusCode::OK)
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn login(
    State(c): State<Shared>,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return page_response(html::login("/", true), StatusCode::BAD_REQUEST);
    };
    let next = safe_next(form.next.as_deref());
    if let Some(wait) = c.logins.refused() {
        tracing::warn!("a console login refused: too many wrong tokens");
        let message = format!("too many wrong tokens: try again in {} s", wait.as_secs().max(1));
        return error_page(&c, None, StatusCode::TOO_MANY_REQUESTS, &message);
    }
    let good = match &c.access {
        Access::Open => true,
        Access::Token(hash) => {
            let sent: [u8; 32] = Sha256::digest(form.token.as_bytes()).into();
            bool::from(sent.ct_eq(hash))
        }
    };
    if !good {
        c.logins.failed();
        tracing::warn!("a console login with a wrong token");
        return page_response(html::login(&next, true), StatusCode::UNAUTHORIZED);
    }
    let session = c.sessions.create();
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_str(&next).unwrap_or(HeaderValue::from_static("/")))],
        [(header::SET_COOKIE, c.sessions.set_cookie(Some(&session), c.secure))],
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn logout(
    State(c): State<Shared>,
    session: Option<axum::Extension<Session>>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let Some(axum::Extension(s)) = session else {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
    };
    if !session::csrf_ok(&s, form.csrf.as_deref()) {
        return error_page(&c, Some(&s), StatusCode::FORBIDDEN, "the form's CSRF token is not this session's");
    }
    c.sessions.end(&s.id);
    let to = if matches!(c.access, Access::Token(_)) { "/login" } else { "/" };
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)], [(header::SET_COOKIE, c.sessions.set_cookie(None, c.secure))])
        .into_response()
}

/// An HTML answer with the headers every page has.
fn page_response(markup: Markup, status: StatusCode) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::VARY, "HX-Request, Cookie")],
        markup.into_string(),
    )
        .into_response()
}

/// What one request knows about itself.
pub struct Ctx {
    /// htmx asked: answer the main content only.
    pub hx: bool,
    pub session: Option<Session>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx {
            hx: parts.headers.get("hx-request").is_some_and(|v| v == "true")
                && parts.headers.get("hx-history-restore-request").is_none(),
            session: parts.extensions.get::<Session>().cloned(),
        })
    }
}

/// A page: the whole document, or for htmx the main content alone.
fn respond(c: &Console, ctx: &Ctx, revision: Option<&str>, title: &str, section: Section, main: Markup) -> Response {
    // The outcome of the action that led here, shown once, above the page.
    let flash = ctx.session.as_ref().and_then(|s| c.sessions.take_flash(&s.id));
    let main = html! { @if let Some((kind, text)) = &flash { (html::notice(kind, html! { (text) })) } (main) };
    if ctx.hx {
        return page_response(html! { title { (title) " · agentver" } (main) }, StatusCode::OK);
    }
    let frame = Frame {
        title,
        revision,
        csrf: ctx.session.as_ref().map(|s| s.csrf.as_str()),
        logout: matches!(c.access, Access::Token(_)),
        section,
    };
    page_response(html::page(&frame, main), StatusCode::OK)
}

fn error_page(c: &Console, session: Option<&Session>, status: StatusCode, message: &str) -> Response {
    if status.is_server_error() {
        tracing::error!("answered {}: {message}", status.as_u16());
    }
    let frame = Frame {
        title: "Error",
        revision: None,
        csrf: session.map(|s| s.csrf.as_str()),
        logout: matches!(c.access, Access::Token(_)),
        section: Section::None,
    };
    let main = html! {
        h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
        (html::notice("error", html! { (message) }))
        p { a href="/" { "Back to the agents" } }
    };
    page_response(html::page(&frame, main), status)
}

/// A failure as a page: what the CLI would say, with the status the API would give.
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn bad(message: impl Into<String>) -> Self {
        PageError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        PageError { status: StatusCode::SERVICE_UNAVAILABLE, message: message.into() }
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        use crate::calls::CallsError;
        use crate::error::WorkspaceError as W;
        let status = match &e {
            Error::Workspace(W::UnknownAgent { .. } | W::VersionNotFound { .. } | W::NoVersions { .. })
            | Error::Workspace(W::TreeNotFound { .. } | W::NotASnapshot { .. })
            | Error::Calls(CallsError::UnknownCall { .. }) => StatusCode::NOT_FOUND,
            Error::Calls(CallsError::CallStore { operation, .. }) => {
                tracing::warn!("call store: {e}");
                return PageError::unavailable(format!("the call store failed while {operation}"));
            }
            Error::BadValue { .. } | Error::Format(_) | Error::Calls(_) | Error::Routing(_) => StatusCode::BAD_REQUEST,
            Error::Ops(_) => StatusCode::CONFLICT,
            _ => {
                tracing::warn!("a console page failed: {e}");
                return PageError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: "the page could not be made; the server's log says why".into(),
                };
            }
        };
        PageError { status, message: e.to_string() }
    }
}
