//! The pages of DESIGN.md's table, each a GET whose query holds its filters: agents, the history
//! panel, a version, compare, channels, calls, one call, stats (with its CSV).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::html::{self, Section, short};
use super::view::View;
use super::{Console, Ctx, PageError, actions, diff, respond};
use crate::calls::Record;
use crate::calls::report::Replay;
use crate::calls::report::{StatsReport, StatsRequest, parse_by, parse_compare, parse_since, version_filter};
use crate::calls::store::{Filter, Store};
use crate::names::id::{AgentId, RefSpec};
use crate::ops::log::{DraftState, Log};
use crate::routing::resolve::ChannelView;
use crate::workspace::Version;

type Shared = Arc<Console>;
type Q = Query<Vec<(String, String)>>;

/// Calls per page of the call list.
const PAGE: u64 = 50;

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().rev().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

fn answer(c: &Console, ctx: &Ctx, result: Result<(Option<String>, String, Section, Markup), PageError>) -> Response {
    match result {
        Ok((revision, title, section, main)) => respond(c, ctx, revision.as_deref(), &title, section, main),
        Err(e) => super::error_page(c, ctx.session.as_ref(), e.status, &e.message),
    }
}

/// The request's view, built off the async threads (the work tree reads files).
async fn view(c: &Shared) -> Result<Arc<dyn View>, PageError> {
    let source = c.source.clone();
    let made = tokio::task::spawn_blocking(move || source.view())
        .await
        .map_err(|_| PageError::unavailable("the page's work stopped"))?;
    made?.ok_or_else(|| PageError::unavailable("the server has no revision loaded yet; retry in a moment"))
}

/// `f` on the call store, off the async threads.
async fn store<T: Send + 'static>(
    c: &Shared,
    f: impl FnOnce(&mut Store) -> crate::Result<T> + Send + 'static,
) -> Result<T, PageError> {
    let records = c.source.records().ok_or_else(|| PageError {
        status: StatusCode::NOT_FOUND,
        message: "no call store: calls are not recorded here".into(),
    })?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    if !records.read(Box::new(move |s| {
        let _ = tx.send(f(s));
    })) {
        return Err(PageError::unavailable("the call store is busy; retry"));
    }
    Ok(rx.await.map_err(|_| PageError::unavailable("the call store stopped"))??)
}

fn agent_id(id: &str) -> Result<AgentId, PageError> {
    AgentId::new(id).map_err(|e| PageError {
        status: StatusCode::NOT_FOUND,
        message: format!("'{}' is not an agent id: {e}", id.escape_debug()),
    })
}

fn revision(v: &Arc<dyn View>) -> Option<String> {
    v.revision().map(str::to_owned)
}

/// What is only in this work tree, said on the pages that change it: a change is local until it
/// is committed (and reviewed), a version until it is pushed.
fn local_line(v: &Arc<dyn View>) -> Markup {
    let Some(state) = v.local_state() else { return html! {} };
    let list = |items: &[String]| {
        let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
        let more = items.len().saturating_sub(5);
        if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
    };
    html! {
        @if !state.changed.is_empty() || !state.unpushed.is_empty() {
            p.local role="status" {
                strong { "Only in this work tree: " }
                @if !state.changed.is_empty() {
                    (state.changed.len()) " file(s) changed since the last commit (" (list(&state.changed)) "): commit them and open a pull request. "
                }
                @if let (Some(remote), false) = (&state.remote, state.unpushed.is_empty()) {
                    (state.unpushed.len()) " version(s) not pushed to " (remote) " (" (list(&state.unpushed)) "): "
                    code { "agentver push" } "."
                }
            }
        }
    }
}

/// The tab of an agent's pages shown as current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    History,
    Edit,
    Stats,
    None,
}

/// The head of every page of one agent: its title, the agent's tabs, and Save version (in
/// `agentver console`, while the draft differs from the latest version), then what is only in
/// this work tree and a channels.toml that does not load.
pub(super) fn agent_head(c: &Console, v: &Arc<dyn View>, log: &Log, title: Markup, tab: Tab, csrf: &str) -> Markup {
    let editing = c.editor.is_some();
    let agent = &log.agent;
    let item = |href: String, text: &str, this: Tab| {
        html! { @if tab == this { a href=(href) aria-current="page" { (text) } } @else { a href=(href) { (text) } } }
    };
    html! {
        div.agenthead {
            h1 { (title) }
            nav.tabs aria-label={"Agent " (agent)} {
                (item(format!("/agents/{agent}"), "History", Tab::History))
                @if editing && log.draft.state != DraftState::Deleted { (item(format!("/agents/{agent}/edit"), "Edit the draft", Tab::Edit)) }
                (item(format!("/agents/{agent}/stats"), "Stats", Tab::Stats))
                a href={"/calls?" (html::query(&[("agent", agent)]))} { "Calls" }
            }
            @if editing {
                @match log.draft.state {
                    DraftState::Modified | DraftState::New => details.savebox {
                        summary.button.primary { "Save version" }
                        (actions::save_form(agent, log.draft.tree.as_deref(), csrf))
                    },
                    DraftState::Unchanged => p.muted.saved { "Nothing to save: the draft is v" (log.versions.first().map_or(0, |v| v.version)) "." },
                    _ => {}
                }
            }
        }
        (local_line(v))
        (channels_banner(v))
    }
}

/// [`agent_head`] for a page that has no view of its own (the editor's); the title alone when
/// the agent's history cannot be read.
pub(super) async fn head_of(c: &Shared, ctx: &Ctx, id: &str, title: Markup, tab: Tab) -> Markup {
    let csrf = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or_default();
    let log = async { Ok::<_, PageError>((view(c).await?, agent_id(id)?)) }.await;
    match log.and_then(|(v, agent)| Ok((v.log(&agent)?, v))) {
        Ok((log, v)) => agent_head(c, &v, &log, title, tab, csrf),
        Err(_) => html! { h1 { (title) } },
    }
}

/// The banner of a page while channels.toml does not load (the page shows no channel meanwhile).
fn channels_banner(v: &Arc<dyn View>) -> Markup {
    match v.channels_problem() {
        Some(why) => html::notice(
            "error",
            html! { "channels.toml does not load, so no channel is shown until it is fixed: " (why) ". "
            code { "agentver check" } " lists every problem." },
        ),
        None => html! {},
    }
}

/// Calls per agent in the last 7 days, and when they were counted.
#[derive(Default)]
pub struct WeekCache(std::sync::Mutex<Option<(std::time::Instant, Counts)>>);

type Counts = Arc<BTreeMap<String, u64>>;

/// How long the agents page's counts are kept: a count over a week need not be to the second.
const WEEK_TTL: std::time::Duration = std::time::Duration::from_secs(60);

async fn week_counts(c: &Shared) -> Arc<BTreeMap<String, u64>> {
    let cached = c.week.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some((_, counts)) = cached.filter(|(at, _)| at.elapsed() < WEEK_TTL) {
        return counts;
    }
    let Ok(week) = parse_since("7d") else { return Arc::default() };
    let counts: Arc<BTreeMap<String, u64>> = match store(c, move |s| s.calls_per_agent(&week)).await {
        Ok(list) => Arc::new(list.into_iter().collect()),
        Err(_) => return Arc::default(),
    };
    *c.week.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((std::time::Instant::now(), counts.clone()));
    counts
}

/// `/`: every agent, its latest version, its draft's state, its channels, its calls this week.
pub async fn agents(State(c): State<Shared>, ctx: Ctx) -> Response {
    let result = async {
        let v = view(&c).await?;
        let rows = v.agents()?;
        let counts = week_counts(&c).await;
        let recorded = c.source.records().is_some();
        let main = html! {
            h1 { "Agents" }
            (local_line(&v))
            (channels_banner(&v))
            @if rows.is_empty() { p { "No agents yet: add a file under " code { "agents/" } "." } }
            @else {
                div.scroll { table {
                    caption.muted { (rows.len()) " agents" }
                    thead { tr { th scope="col" { "Agent" } th scope="col" { "Latest" } th scope="col" { "Draft" } th scope="col" { "Channels" } th.num scope="col" { "Calls, 7 days" } } }
                    tbody {
                        @for r in &rows {
                            tr {
                                th scope="row" { a href={"/agents/" (r.agent)} { (r.agent) } }
                                td { (html::version_number(r.latest)) @if r.latest.is_none() { span.muted { " (none published)" } } }
                                td { (r.draft.to_string()) }
                                td { @for ch in &r.channels { span.badge { (ch) } " " } }
                                td.num { @if recorded { (counts.get(&r.agent).copied().unwrap_or(0)) } @else { "—" } }
                            }
                        }
                    }
                } }
            }
        };
        Ok((revision(&v), "Agents".to_owned(), Section::Agents, main))
    }
    .await;
    answer(&c, &ctx, result)
}

/// What serves each version of `agent`: channel names by version.
fn serving_versions(listing: &[ChannelView], agent: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ch in listing {
        for t in ch.targets.iter().filter(|t| t.agent == agent) {
            if let Some(version) = &t.version {
                let name = match &t.variant {
                    Some(v) => format!("{} ({v})", ch.channel),
                    None => ch.channel.clone(),
                };
                out.entry(version.to_string()).or_default().push(name);
            }
        }
    }
    out
}

/// `/agents/{id}`: the history panel, the draft on top, then every version newest first.
pub async fn history(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let result = async {
        let agent = agent_id(&id)?;
        let v = view(&c).await?;
        let log = v.log(&agent)?;
        let serving = serving_versions(&v.channels_of(&agent)?, agent.as_str());
        let csrf = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or_default();
        let editing = c.editor.is_some();
        let main = html! {
            (agent_head(&c, &v, &log, html! { (log.agent) }, Tab::History, csrf))
            @if !log.versions.is_empty() {
                p.actions { a.button href={"/agents/" (log.agent) "/compare?from=latest&to=draft"} { "Compare latest with the draft" } }
            }
            h2 { "History" }
            ol.history reversed {
                (draft_item(&log, serving.get("draft")))
                @for ver in &log.versions {
                    li {
                        div.head {
                            span.num { "v" (ver.version) }
                            @if !ver.label.is_empty() { strong { (ver.label) } }
                            @if let Some(r) = ver.rollback_of { span.badge { "rollback to v" (r) } }
                            @if Some(ver.version) == log.versions.first().map(|f| f.version) { span.badge { "latest" } }
                            @if let Some(t) = ver.tests { (tests_badge(t)) }
                            @for ch in serving.get(&format!("v{}", ver.version)).into_iter().flatten() { span.badge { "serves " (ch) } }
                        }
                        @if !ver.notes.is_empty() { p { (ver.notes) } }
                        p.muted { (ver.author.name) " · " (html::when(&ver.date)) " · " code { (ver.tag) } " · tree " code { (short(&ver.tree)) } }
                        p.actions {
                            a href={"/agents/" (log.agent) "/versions/v" (ver.version)} { "View v" (ver.version) }
                            a href={"/agents/" (log.agent) "/compare?from=" (ver.version) "&to=draft"} { "Compare v" (ver.version) " with the draft" }
                        }
                        @if editing { (actions::version_forms(&log.agent, ver.version, csrf)) }
                    }
                }
            }
        };
        Ok((revision(&v), format!("{} history", log.agent), Section::Agents, main))
    }
    .await;
    answer(&c, &ctx, result)
}

/// `agentver test`'s results on a tree, as a badge.
fn tests_badge(t: crate::format::test_notes::Summary) -> Markup {
    let class = if t.passed == t.total { "badge pass" } else { "badge fail" };
    html! { span class=(class) title="the results of agentver test on this tree" { "tests " (t.passed) "/" (t.total) " passed" } }
}

fn draft_item(log: &Log, serving: Option<&Vec<String>>) -> Markup {
    html! {
        li.draft {
            div.head {
                span.num { "Draft" }
                span.badge { (log.draft.state.to_string()) }
                @if let Some(t) = log.draft.tests { (tests_badge(t)) }
                @for ch in serving.into_iter().flatten() { span.badge { "serves " (ch) } }
            }
            @match log.draft.state {
                DraftState::Modified => p { "Changed since v" (log.versions.first().map_or(0, |v| v.version)) ". "
                    a href={"/agents/" (log.agent) "/compare?from=latest&to=draft"} { "See what changed" } }
                DraftState::Unchanged => p { "The same as the latest version." }
                DraftState::New => p { "Not published yet." }
                DraftState::Deleted => p { "The draft's file is gone; its versions remain." }
                DraftState::Invalid => p { "The draft does not validate: " (log.draft.error.clone().unwrap_or_default()) }
            }
            @if log.draft.state != DraftState::Deleted && log.draft.state != DraftState::Invalid {
                p.actions { a href={"/agents/" (log.agent) "/versions/draft"} { "View the draft" } }
            }
        }
    }
}

fn reference(text: &str) -> Result<RefSpec, PageError> {
    RefSpec::parse(text).map_err(|e| PageError::bad(format!("'{}' is no version: {e}", text.escape_debug())))
}

/// `/agents/{id}/versions/{ref}`: one configuration as published, readable.
pub async fn version(State(c): State<Shared>, ctx: Ctx, Path((id, r)): Path<(String, String)>) -> Response {
    let result = async {
        let agent = agent_id(&id)?;
        let want = reference(&r)?;
        let v = view(&c).await?;
        let served = v.configuration(&agent, want)?;
        let name = format!("{} {}", agent, served.version);
        let log = v.log(&agent)?;
        let csrf = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or_default();
        let main = html! {
            (agent_head(&c, &v, &log, html! { (name) }, Tab::None, csrf))
            p.muted {
                @if let Some(t) = &served.tag { "tag " code { (t) } " · " }
                "tree " code { (served.tree) }
            }
            p.actions {
                a href={"/agents/" (agent)} { "History" }
                @if let Version::Number(n) = served.version { a href={"/agents/" (agent) "/compare?from=" (n) "&to=draft"} { "Compare with the draft" } }
            }
            (diff::config(&served.config))
        };
        Ok((revision(&v), name, Section::Agents, main))
    }
    .await;
    answer(&c, &ctx, result)
}

/// `/agents/{id}/compare?from=A&to=B`: `diff` between two versions or a version and the draft.
pub async fn compare(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>, Query(q): Q) -> Response {
    let result = async {
        let agent = agent_id(&id)?;
        let from_text = param(&q, "from").unwrap_or("latest").to_owned();
        let to_text = param(&q, "to").unwrap_or("draft").to_owned();
        let (from, to) = (reference(&from_text)?, reference(&to_text)?);
        let v = view(&c).await?;
        let log = v.log(&agent)?;
        let old = v.configuration(&agent, from)?;
        let new = v.configuration(&agent, to)?;
        let changes = crate::format::diff::diff(&old.config, &new.config);
        let formatting_only = changes.is_empty() && old.tree != new.tree;
        let title = format!("{agent}: {} → {}", old.version, new.version);
        let options = |selected: &str| {
            let mut all: Vec<(String, String)> = vec![("draft".into(), "draft".into())];
            all.extend(log.versions.iter().map(|v| (v.version.to_string(), format!("v{} {}", v.version, v.label))));
            html! { @for (value, text) in all { option value=(value) selected[value == selected || format!("v{value}") == selected] { (text) } } }
        };
        let csrf = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or_default();
        let main = html! {
            (agent_head(&c, &v, &log, html! { (title) }, Tab::None, csrf))
            form.filters method="get" action={"/agents/" (agent) "/compare"} hx-get={"/agents/" (agent) "/compare"} hx-target="#main" hx-push-url="true" {
                label { "From" select name="from" { (options(old.version.to_string().trim_start_matches('v'))) } }
                label { "To" select name="to" { (options(new.version.to_string().trim_start_matches('v'))) } }
                button type="submit" { "Compare" }
            }
            p.muted { "tree " code { (short(&old.tree)) } " → " code { (short(&new.tree)) } }
            @if formatting_only { p { "The files differ in formatting or comments only." } }
            @else { (diff::changes(&changes)) }
        };
        Ok((revision(&v), title, Section::Agents, main))
    }
    .await;
    answer(&c, &ctx, result)
}

fn target_text(t: &crate::routing::resolve::TargetView) -> Markup {
    html! {
        a href={"/agents/" (t.agent)} { (t.agent) } " " (t.pin.to_string())
        @if let Some(v) = &t.version { span.muted { " → " (v.to_string()) } }
        @if let Some(e) = &t.error { " " span.badge { "refused: " (e) } }
    }
}

/// Channels on one page of `/channels`.
const CHANNELS_PAGE: usize = 100;

/// `/channels?q=&page=`: each channel's version, or its split with each variant's weight; a
/// hundred a page, in channels.toml's order, `q` keeping those whose channel or agent holds it.
pub async fn channels(State(c): State<Shared>, ctx: Ctx, Query(q): Q) -> Response {
    let result = async {
        let find = param(&q, "q").unwrap_or_default().trim().to_owned();
        let page = page_number(&q)? as usize;
        let v = view(&c).await?;
        let listing = v.channels()?;
        let needle = find.to_lowercase();
        let matches = |ch: &&ChannelView| {
            needle.is_empty()
                || ch.channel.to_lowercase().contains(&needle)
                || ch.targets.iter().any(|t| t.agent.to_lowercase().contains(&needle))
        };
        let total = listing.iter().filter(matches).count();
        let shown: Vec<&ChannelView> =
            listing.iter().filter(matches).skip((page - 1) * CHANNELS_PAGE).take(CHANNELS_PAGE).collect();
        let first = (page - 1) * CHANNELS_PAGE + 1;
        let link = |p: usize| {
            let page = p.to_string();
            let mut pairs = Vec::new();
            if !find.is_empty() {
                pairs.push(("q", find.as_str()));
            }
            pairs.push(("page", &page));
            format!("/channels?{}", html::query(&pairs))
        };
        let csrf = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or_default().to_owned();
        let choices = if c.editor.is_some() { Some(actions::Choices::of(v.as_ref())?) } else { None };
        let main = html! {
            h1 { "Channels" }
            (local_line(&v))
            (channels_banner(&v))
            form.filters method="get" action="/channels" hx-get="/channels" hx-target="#main" hx-push-url="true" {
                label { "Channel or agent" input name="q" type="search" value=(find) size="16"; }
                button type="submit" { "Find" }
            }
            @if listing.is_empty() { p { "No channel is pinned yet." } }
            @else if shown.is_empty() { p { "No channel matches." } }
            @else {
                p.muted { "Channels " (first) "–" (first + shown.len() - 1) " of " (total)
                    @if !find.is_empty() { " holding “" (find) "”" } }
                (channel_table(&shown, choices.as_ref(), &csrf))
            }
            @if total > CHANNELS_PAGE {
                nav.pages aria-label="Pages" {
                    @if page > 1 { a href=(link(page - 1)) rel="prev" { "Previous" } }
                    span { "Page " (page) " of " (total.div_ceil(CHANNELS_PAGE)) }
                    @if page * CHANNELS_PAGE < total { a href=(link(page + 1)) rel="next" { "Next" } }
                }
            }
            @if let Some(choices) = &choices { (actions::new_pin_form(choices, &csrf)) }
        };
        Ok((revision(&v), "Channels".to_owned(), Section::Channels, main))
    }
    .await;
    answer(&c, &ctx, result)
}

/// The channels page's table; with `choices` (the editor), each row's forms.
fn channel_table(shown: &[&ChannelView], choices: Option<&actions::Choices>, csrf: &str) -> Markup {
    html! {
        div.scroll { table.stacked {
            thead { tr { th scope="col" { "Channel" } th scope="col" { "Serves" } th scope="col" { "Sticky" } th scope="col" { "Salt" }
                @if choices.is_some() { th scope="col" { "Change" } } } }
            tbody {
                @for ch in shown {
                    tr {
                        th scope="row" { (ch.channel) }
                        td {
                            @if ch.targets.len() == 1 && ch.targets[0].variant.is_none() { (target_text(&ch.targets[0])) }
                            @else {
                                ul { @for t in &ch.targets { li {
                                    strong { (t.variant.clone().unwrap_or_default()) } ": " (target_text(t)) " "
                                    meter min="0" max="1" value=(t.share.unwrap_or(0.0)) aria-label={"share of " (t.variant.clone().unwrap_or_default())} {}
                                    " " (t.weight.unwrap_or(0)) " (" (html::percent(t.share.unwrap_or(0.0))) ")"
                                } } }
                            }
                        }
                        td data-label="Sticky" { (ch.sticky.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default()) }
                        td data-label="Salt" { (ch.salt.clone().unwrap_or_default()) }
                        @if let Some(choices) = choices { td data-label="Change" { (actions::channel_forms(ch, choices, csrf)) } }
                    }
                }
            }
        } }
    }
}

/// A listing's `page=` (1 when absent), up to a million.
fn page_number(q: &[(String, String)]) -> Result<u64, PageError> {
    match param(q, "page") {
        None => Ok(1),
        Some(p) => p
            .parse::<u64>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| PageError::bad("page must be a number from 1")),
    }
}

/// The calls page's filter from its query; the page number apart.
fn call_filter(q: &[(String, String)]) -> Result<(Filter, u64), PageError> {
    let version = match param(q, "version") {
        None => None,
        Some(v) => Some(
            version_filter(v)
                .ok_or_else(|| PageError::bad(format!("version: '{}' is not a version", v.escape_debug())))?,
        ),
    };
    let time = |k: &str| param(q, k).map(parse_since).transpose();
    let success = match param(q, "success") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(PageError::bad("success must be true or false")),
    };
    let page = page_number(q)?;
    let agent = param(q, "agent").map(|a| agent_id(a).map(|a| a.to_string())).transpose()?;
    Ok((
        Filter {
            agent,
            version,
            variant: param(q, "variant").map(str::to_owned),
            channel: param(q, "channel").map(str::to_owned),
            since: time("since")?,
            until: time("until")?,
            success,
            limit: Some(PAGE + 1),
            offset: Some((page - 1) * PAGE),
        },
        page,
    ))
}

const FILTER_KEYS: &[&str] = &["agent", "version", "variant", "channel", "success", "since", "until"];

/// `/calls?…`: the call list, newest first, filtered and paged.
pub async fn calls(State(c): State<Shared>, ctx: Ctx, Query(q): Q) -> Response {
    let result = async {
        let (filter, page) = call_filter(&q)?;
        let v = view(&c).await?;
        let mut found = store(&c, move |s| s.list(&filter)).await?;
        let more = found.len() as u64 > PAGE;
        found.truncate(PAGE as usize);
        let kept: Vec<(&str, &str)> = FILTER_KEYS.iter().filter_map(|k| param(&q, k).map(|v| (*k, v))).collect();
        let link = |p: u64| {
            let page = p.to_string();
            let mut pairs = kept.clone();
            pairs.push(("page", &page));
            format!("/calls?{}", html::query(&pairs))
        };
        let main = html! {
            h1 { "Calls" }
            (local_line(&v))
            (filters_form(&q))
            @if found.is_empty() { p { "No call matches." } } @else { (call_table(&found)) }
            nav.pages aria-label="Pages" {
                @if page > 1 { a href=(link(page - 1)) rel="prev" { "Newer" } }
                span { "Page " (page) }
                @if more { a href=(link(page + 1)) rel="next" { "Older" } }
            }
        };
        Ok((revision(&v), "Calls".to_owned(), Section::Calls, main))
    }
    .await;
    answer(&c, &ctx, result)
}

fn filters_form(q: &[(String, String)]) -> Markup {
    let value = |k: &str| param(q, k).unwrap_or_default().to_owned();
    html! {
        form.filters method="get" action="/calls" hx-get="/calls" hx-target="#main" hx-push-url="true" {
            label { "Agent" input name="agent" value=(value("agent")) size="12"; }
            label { "Version" input name="version" value=(value("version")) size="6" placeholder="v2"; }
            label { "Variant" input name="variant" value=(value("variant")) size="10"; }
            label { "Channel" input name="channel" value=(value("channel")) size="14"; }
            label { "Outcome" select name="success" {
                option value="" selected[value("success").is_empty()] { "any" }
                option value="true" selected[value("success") == "true"] { "success" }
                option value="false" selected[value("success") == "false"] { "failure" }
            } }
            label { "Since" input name="since" value=(value("since")) size="10" placeholder="7d"; }
            label { "Until" input name="until" value=(value("until")) size="10"; }
            button type="submit" { "Filter" }
        }
    }
}

fn outcome(r: &Record) -> &'static str {
    match r.success {
        Some(true) => "success",
        Some(false) => "failure",
        None => "—",
    }
}

fn call_table(found: &[Record]) -> Markup {
    html! {
        div.scroll { table {
            thead { tr { th scope="col" { "Call" } th scope="col" { "When" } th scope="col" { "Agent" } th scope="col" { "Version" }
                th scope="col" { "Variant" } th scope="col" { "Channel" } th scope="col" { "Outcome" } th.num scope="col" { "Duration" } } }
            tbody { @for r in found { tr {
                td { a.mono href={"/calls/" (html::segment(&r.call_id))} { (r.call_id) } }
                td { (html::when(r.started_at.as_deref().or(r.resolved_at.as_deref()).unwrap_or_default())) }
                td { (r.agent.clone().unwrap_or_default()) }
                td { @if r.agent.is_some() { (html::version_number(r.version)) } }
                td { (r.variant.clone().unwrap_or_default()) }
                td { (r.channel.clone().unwrap_or_default()) }
                td { (outcome(r)) }
                td.num { (r.duration_ms.map(|d| html::seconds(d as f64)).unwrap_or_default()) }
            } } }
        } }
    }
}

/// `/calls/{id}`: the record and the exact configuration that served it.
pub async fn call(State(c): State<Shared>, ctx: Ctx, Path(call_id): Path<String>) -> Response {
    let result = async {
        let v = view(&c).await?;
        let reader = v.clone();
        let id = call_id.clone();
        let replay: Replay = store(&c, move |s| reader.replay(s, &id)).await?;
        let record = serde_json::to_value(&replay.call).unwrap_or_default();
        let title = format!("Call {call_id}");
        let main = html! {
            h1 { "Call " code { (call_id) } }
            (local_line(&v))
            @if let (Some(agent), true) = (&replay.call.agent, replay.config.is_some()) {
                p { "Served by " a href={"/agents/" (agent)} { (agent) } " " (html::version_number(replay.call.version))
                    @if let Some(t) = &replay.call.tree { ", tree " code { (short(t)) } } }
            }
            (call_summary(&replay.call))
            details {
                summary { "The whole record" }
                (diff::config(&record))
            }
            h2 { "Configuration that served it" }
            @match &replay.config {
                Some(config) => (diff::config(config)),
                None => p { "None: " (crate::calls::report::unreplayable(&replay).map(|e| e.to_string()).unwrap_or_default()) },
            }
        };
        Ok((revision(&v), title, Section::Calls, main))
    }
    .await;
    answer(&c, &ctx, result)
}

/// A call's record for people: what happened, who served it and what it cost, each field named
/// in words and shown in its unit; fields the call has no value for are left out.
fn call_summary(r: &Record) -> Markup {
    let outcome = match r.success {
        Some(true) => "Succeeded",
        Some(false) => "Failed",
        None => "Not reported yet",
    };
    let served = match (&r.agent, r.version, &r.tree) {
        (Some(a), Some(v), _) => format!("{a} v{v}"),
        (Some(a), None, Some(_)) => format!("{a}, its draft"),
        _ => "nobody known".into(),
    };
    html! {
        dl.config {
            dt { "Outcome" } dd { (outcome) @if let Some(why) = &r.ended_reason { " (" (why) ")" } }
            @if let Some(t) = r.started_at.as_deref().or(r.resolved_at.as_deref()) { dt { "Started" } dd { (html::when(t)) } }
            @if let Some(t) = &r.ended_at { dt { "Ended" } dd { (html::when(t)) } }
            @if let Some(ms) = r.duration_ms { dt { "Duration" } dd { (html::duration(ms)) } }
            @if let Some(ch) = &r.channel { dt { "Channel" } dd { (ch) } }
            @if let Some(caller) = &r.caller { dt { "Caller" } dd { @if caller.starts_with("h:") { "a hashed number " code { (short(caller)) } } @else { (caller) } } }
            dt { "Served by" } dd { (served)
                @if let Some(v) = &r.variant { ", variant " strong { (v) } }
                @if r.overridden { " (a version asked for by the call)" } }
            @if let Some(a) = r.attribution { dt { "Attribution" } dd { (a.as_str())
                @if let Some(why) = &r.attribution_reason { ": " (why) } } }
            @if let Some(s) = r.sentiment { dt { "Sentiment" } dd { (s.as_str()) } }
            @if let Some(c) = r.cost { dt { "Cost" } dd { (format!("{c:.4}")) " " (r.cost_unit.map_or("", |u| u.as_str())) } }
            @if let Some(s) = &r.summary { dt { "Summary" } dd { (s) } }
            @for (name, value) in r.analysis.iter().flatten() {
                dt { (name) } dd { @match value { serde_json::Value::String(s) => (s), other => (other.to_string()) } }
            }
            @if !r.warnings.is_empty() { dt { "Warnings" } dd { ul { @for w in &r.warnings { li { (w) } } } } }
        }
    }
}

/// The stats request from the page's query, as `/v1/stats` reads it.
fn stats_request(q: &[(String, String)]) -> Result<StatsRequest, PageError> {
    let compare = param(q, "compare").map(parse_compare).transpose().map_err(PageError::bad)?;
    let by_variant = parse_by(param(q, "by")).map_err(PageError::bad)?;
    let (mut filter, _) =
        call_filter(&q.iter().filter(|(k, _)| k != "agent" && k != "page").cloned().collect::<Vec<_>>())?;
    filter.limit = None;
    filter.offset = None;
    Ok(StatsRequest { filter, compare, by_variant })
}

async fn stats_data(
    c: &Shared,
    id: &str,
    q: &[(String, String)],
) -> Result<(Arc<dyn View>, AgentId, Arc<StatsReport>), PageError> {
    let agent = agent_id(id)?;
    let request = stats_request(q)?;
    let v = view(c).await?;
    // The versions are in the key: which arms a default comparison takes, and which exist.
    let versions: Vec<u64> = v.log(&agent)?.versions.iter().map(|v| v.version).collect();
    let key = format!("{agent}\n{request:?}\n{versions:?}");
    let (reader, who, shared) = (v.clone(), agent.clone(), c.clone());
    let report = store(c, move |s| shared.stats.get_or_make(s, key, |s| reader.stats(s, &who, &request))).await?;
    Ok((v, agent, report))
}

/// `/agents/{id}/stats?…`: per-arm rates with intervals, durations, calls per day, the tests.
pub async fn stats(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>, Query(q): Q) -> Response {
    let result = async {
        let (v, agent, report) = stats_data(&c, &id, &q).await?;
        let keys = ["compare", "by", "variant", "channel", "version", "since", "until", "success"];
        let kept: Vec<(&str, &str)> = keys.iter().filter_map(|k| param(&q, k).map(|v| (*k, v))).collect();
        let csrf = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or_default();
        let title = html! { (agent) ": stats by " (report.by) };
        let head = agent_head(&c, &v, &*v.log(&agent)?, title, Tab::Stats, csrf);
        let main = super::pages_stats::page(&agent, &report, &kept, &q, head);
        Ok((revision(&v), format!("{agent} stats"), Section::Agents, main))
    }
    .await;
    answer(&c, &ctx, result)
}

/// `/agents/{id}/stats.csv?…`: the figures of the stats page.
pub async fn stats_csv(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>, Query(q): Q) -> Response {
    match stats_data(&c, &id, &q).await {
        Ok((_, agent, report)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{agent}-stats.csv\"")),
            ],
            super::pages_stats::csv(&report),
        )
            .into_response(),
        Err(e) => super::error_page(&c, ctx.session.as_ref(), e.status, &e.message),
    }
}
