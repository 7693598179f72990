//! The editor's actions in `agentver console`: Save version, Restore (the nothing-lost refusal
//! shown, the overwrite offered), Roll back, the channel's version dropdown and split weights.
//! Each is the library call its command makes, with the same refusals; each is a POST that
//! must carry the session's CSRF token (the origin is checked before it gets here).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::html::{self, Section};
use super::session::{self, Session};
use super::view::View;
use super::{Console, Ctx, PageError, respond};
use crate::names::id::{AgentId, RefSpec, Spec};
use crate::ops::publish::{PublishOptions, Selection};
use crate::ops::restore::RestoreOptions;
use crate::ops::rollback::RollbackOptions;
use crate::routing::resolve::ChannelView;
use crate::workspace::{DraftAt, Workspace};

/// The work tree the actions change.
pub struct Editor {
    pub root: PathBuf,
}

type Shared = Arc<Console>;
pub(super) type Form = axum::Form<Vec<(String, String)>>;

pub fn routes(r: Router<Shared>) -> Router<Shared> {
    use axum::routing::{get, post};
    let editor = get(super::editor::open).post(super::editor::save);
    r.route("/agents/{id}/edit", editor.layer(axum::extract::DefaultBodyLimit::max(super::editor::BODY_LIMIT)))
        .route("/agents/{id}/fields", post(super::fields::save))
        .route("/agents/{id}/publish", post(publish))
        .route("/agents/{id}/restore", post(restore))
        .route("/agents/{id}/rollback", post(rollback))
        .route("/channels/pin", post(pin))
        .route("/channels/ab", post(ab))
        .route("/channels/unpin", post(unpin))
}

pub(super) fn field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// The draft's Save version form, carrying the draft it was made from (its tree id): a draft
/// changed on disk since is not published unseen.
pub fn save_form(agent: &str, draft_tree: Option<&str>, csrf: &str) -> Markup {
    html! {
        form.save method="post" action={"/agents/" (agent) "/publish"} aria-label="Save version" {
            (csrf_input(csrf))
            input type="hidden" name="draft" value=(draft_tree.unwrap_or(""));
            label { "Label" input name="label" maxlength="200" placeholder="What changed"; }
            label { "Notes" textarea name="notes" rows="1" {} }
            button.primary type="submit" { "Save version" }
        }
    }
}

/// A version's Restore and Roll back buttons.
pub fn version_forms(agent: &str, version: u64, csrf: &str) -> Markup {
    html! {
        div.actions {
            form method="post" action={"/agents/" (agent) "/restore"} {
                (csrf_input(csrf))
                input type="hidden" name="version" value=(version);
                button type="submit" { "Restore v" (version) " into the draft" }
            }
            form method="post" action={"/agents/" (agent) "/rollback"} {
                (csrf_input(csrf))
                input type="hidden" name="version" value=(version);
                button type="submit" { "Roll back to v" (version) }
            }
        }
    }
}

/// What a channel can be pinned to, per agent: latest (floating), each version newest first, the
/// draft. Made from the agents page's figures, so no agent's history is read for it.
pub struct Choices {
    /// Each agent's latest version, in the agents page's order.
    latest: Vec<(String, Option<u64>)>,
    /// Where each agent is in `latest`.
    at: HashMap<String, usize>,
}

impl Choices {
    pub fn of(view: &dyn View) -> Result<Choices, PageError> {
        let latest: Vec<(String, Option<u64>)> = view.agents()?.into_iter().map(|r| (r.agent, r.latest)).collect();
        let at = latest.iter().enumerate().map(|(i, (a, _))| (a.clone(), i)).collect();
        Ok(Choices { latest, at })
    }

    /// The specs of `agent` (a channel's dropdown lists its own agent's versions).
    pub fn for_agent(&self, agent: &str) -> Vec<(String, String)> {
        let latest = self.at.get(agent).and_then(|&i| self.latest[i].1);
        let mut out = Vec::new();
        if let Some(l) = latest {
            out.push((format!("{agent}@latest"), format!("{agent} latest (floats, now v{l})")));
            out.extend((1..=l).rev().map(|n| (format!("{agent}@v{n}"), format!("{agent} v{n}"))));
        }
        out.push((format!("{agent}@draft"), format!("{agent} draft")));
        out
    }

    /// Every spec of every agent, for the new pin's dropdown.
    fn all(&self) -> Vec<(String, String)> {
        self.latest.iter().flat_map(|(a, _)| self.for_agent(a)).collect()
    }

    /// What a new pin is usually given: each agent's `latest`, or its draft before any version.
    pub fn suggestions(&self) -> impl Iterator<Item = String> + '_ {
        self.latest.iter().map(|(a, l)| if l.is_some() { format!("{a}@latest") } else { format!("{a}@draft") })
    }
}

fn select(name: &str, label: &str, choices: &[(String, String)], selected: &str) -> Markup {
    html! {
        select name=(name) aria-label=(label) {
            @for (value, text) in choices { option value=(value) selected[value == selected] { (text) } }
        }
    }
}

fn current_spec(t: &crate::routing::resolve::TargetView) -> String {
    format!("{}@{}", t.agent, t.pin)
}

/// A channel's forms: its version dropdown and "Start an A/B test", or its split (each
/// variant's name, version and weight; a variant removed by choosing "remove"; one more added in
/// the empty row); and Unpin. Each carries what it was made from.
pub fn channel_forms(ch: &ChannelView, choices: &Choices, csrf: &str) -> Markup {
    let single = ch.targets.len() == 1 && ch.targets[0].variant.is_none();
    let made = made_from(ch);
    html! {
        @if single {
            @let current = current_spec(&ch.targets[0]);
            form.actions method="post" action="/channels/pin" {
                (csrf_input(csrf))
                input type="hidden" name="channel" value=(ch.channel);
                input type="hidden" name="was" value=(made);
                (select("spec", &format!("version for {}", ch.channel), &choices.for_agent(&ch.targets[0].agent), &current))
                button type="submit" { "Pin" }
            }
            details {
                summary { "Start an A/B test" }
                @let rows = [("control".to_owned(), current.clone(), 50), ("test".to_owned(), current.clone(), 50)];
                (split_form(ch, choices, csrf, &made, &rows, false))
            }
        } @else {
            @let rows: Vec<(String, String, u64)> = ch.targets.iter()
                .map(|t| (t.variant.clone().unwrap_or_default(), current_spec(t), t.weight.unwrap_or(0))).collect();
            (split_form(ch, choices, csrf, &made, &rows, true))
        }
        form.actions method="post" action="/channels/unpin" {
            (csrf_input(csrf))
            input type="hidden" name="channel" value=(ch.channel);
            input type="hidden" name="was" value=(made);
            button type="submit" { "Unpin" }
        }
    }
}

/// A split's form: one row per variant (`rows`: name, spec, weight), and with `add` an empty row
/// for one more.
fn split_form(
    ch: &ChannelView,
    choices: &Choices,
    csrf: &str,
    made: &str,
    rows: &[(String, String, u64)],
    add: bool,
) -> Markup {
    let agent = &ch.targets[0].agent;
    let mut specs = choices.for_agent(agent);
    specs.push((String::new(), "remove this variant".to_owned()));
    let mut new_row = choices.for_agent(agent);
    new_row.insert(0, (String::new(), "none".to_owned()));
    let max = crate::format::channels::MAX_WEIGHT;
    html! {
        form.stack.split method="post" action="/channels/ab" {
            (csrf_input(csrf))
            input type="hidden" name="channel" value=(ch.channel);
            input type="hidden" name="was" value=(made);
            @for (name, spec, weight) in rows {
                fieldset.variant {
                    legend { "Variant " (name) }
                    label { "Name" input name="name" value=(name) required; }
                    label { "Serves" (select("spec", &format!("version of {name}"), &specs, spec)) }
                    label { "Weight" input type="number" name="weight" min="0" max=(max) value=(weight); }
                }
            }
            @if add {
                fieldset.variant {
                    legend { "Add a variant" }
                    label { "Name" input name="name" value="" placeholder="variant-b"; }
                    label { "Serves" (select("spec", "version of the new variant", &new_row, "")) }
                    label { "Weight" input type="number" name="weight" min="0" max=(max) value="0"; }
                }
            }
            div { button type="submit" { "Save the split" } }
        }
    }
}

/// What a form for a channel not in channels.toml says it was made from.
const ABSENT: &str = "absent";

/// What a channel's forms were made from: its configuration as channels.toml gives it (sticky key,
/// salt, and each target's variant, agent, pin and weight), as a short digest. The form posts it
/// back, and the action is refused when channels.toml says otherwise by then.
pub fn made_from(ch: &ChannelView) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("{:?}\0{:?}", ch.sticky, ch.salt));
    for t in &ch.targets {
        h.update(format!("\0{:?}\0{}\0{}\0{:?}", t.variant, t.agent, t.pin, t.weight));
    }
    crate::calls::hex(&h.finalize()[..16])
}

/// The refusal of an action on `channel` whose form was made from another state of it: landing on
/// the channel as it is now, nothing written.
fn stale_channel(ws: &Workspace, channel: &str, was: Option<&str>) -> Result<Option<Done>, PageError> {
    let resolver = crate::routing::resolve::Resolver::new(ws.clone(), DraftAt::WorkTree)?;
    let now = resolver.channels().channels.iter().find(|c| c.name == channel).map(|c| made_from(&resolver.view(c).0));
    let note = match (was, now.as_deref()) {
        (Some(ABSENT), None) => return Ok(None),
        (Some(was), Some(now)) if was == now => return Ok(None),
        (Some(ABSENT), Some(_)) => format!(
            "{} is in channels.toml already (added since that page was made): nothing was written. This is it now; change it with its own form.",
            channel.escape_debug()
        ),
        _ => format!(
            "{} changed in channels.toml since that page was made (another tab or the command line): nothing was written. This is it now.",
            channel.escape_debug()
        ),
    };
    Ok(Some(Done::Refused { to: channel_page(channel), note }))
}

/// Up to this many agents, the new pin's version is a dropdown of every spec; past it (a
/// thousand agents make five thousand options) a text field suggesting each agent's latest.
const DROPDOWN_AGENTS: usize = 30;

/// Pin a channel that is not in the file yet.
pub fn new_pin_form(choices: &Choices, csrf: &str) -> Markup {
    html! {
        h2 { "Pin a channel" }
        form.filters method="post" action="/channels/pin" {
            (csrf_input(csrf))
            input type="hidden" name="was" value=(ABSENT);
            label { "Channel" input name="channel" required placeholder="+14155550100"; }
            @if choices.latest.len() <= DROPDOWN_AGENTS {
                label { "Serves" (select("spec", "version to serve", &choices.all(), "")) }
            } @else {
                label { "Serves" input name="spec" required list="specs" placeholder="sales@latest" size="20"; }
                datalist #specs { @for spec in choices.suggestions() { option value=(spec) {} } }
            }
            button type="submit" { "Pin" }
        }
    }
}

/// What an action answers: a page of its own (a refusal to confirm, a warning), or the page that
/// shows its result, where it lands with `note` shown once (POST, redirect, GET: a reload never
/// posts again).
pub enum Done {
    Page(Markup),
    Land {
        to: String,
        note: String,
    },
    /// Refused, nothing written: the page as it is now, with why (a form made from a state that
    /// is gone lands on a fresh view of it).
    Refused {
        to: String,
        note: String,
    },
}

/// Checks the CSRF token, then runs `act` on the work tree off the async threads and answers
/// with its outcome as a page.
pub(super) async fn act(
    c: Shared,
    ctx: Ctx,
    form: &[(String, String)],
    repeated: &[&str],
    act: impl FnOnce(&Workspace) -> Result<Done, PageError> + Send + 'static,
) -> Response {
    let Some(s): Option<&Session> = ctx.session.as_ref() else {
        return super::error_page(&c, None, StatusCode::FORBIDDEN, "no session: load a page first");
    };
    // A field sent twice is a forged form (csrf=00&csrf=GOOD), never "the last one wins"; only
    // the fields a form repeats by design (a split's variants) may come more than once.
    let twice = form
        .iter()
        .enumerate()
        .find(|(i, (k, _))| !repeated.contains(&k.as_str()) && form[..*i].iter().any(|(seen, _)| seen == k));
    if let Some(twice) = twice {
        let message = format!("the form sends the field '{}' twice", twice.1.0.escape_debug());
        return super::error_page(&c, Some(s), StatusCode::BAD_REQUEST, &message);
    }
    if !session::csrf_ok(s, field(form, "csrf")) {
        return super::error_page(
            &c,
            Some(s),
            StatusCode::FORBIDDEN,
            "the form's CSRF token is not this session's: reload the page",
        );
    }
    let s_id = s.id.clone();
    let root = c.editor.as_ref().map(|e| e.root.clone()).expect("actions are routed with an editor");
    let done = tokio::task::spawn_blocking(move || act(&Workspace::discover(&root)?))
        .await
        .unwrap_or_else(|_| Err(PageError::unavailable("the action stopped")));
    match done {
        Ok(Done::Page(main)) => respond(&c, &ctx, None, "Done", Section::None, main),
        Ok(Done::Land { to, note }) => {
            c.sessions.set_flash(&s_id, "ok", note);
            axum::response::IntoResponse::into_response((StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to)]))
        }
        Ok(Done::Refused { to, note }) => {
            c.sessions.set_flash(&s_id, "error", note);
            axum::response::IntoResponse::into_response((StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to)]))
        }
        Err(e) => super::error_page(&c, ctx.session.as_ref(), e.status, &e.message),
    }
}

pub(super) fn agent(id: &str) -> Result<AgentId, PageError> {
    AgentId::new(id).map_err(PageError::bad)
}

fn version_of(form: &[(String, String)]) -> Result<u64, PageError> {
    field(form, "version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| PageError::bad("version: a version number is needed"))
}

fn text(form: &[(String, String)], key: &str) -> Option<String> {
    field(form, key).map(|s| s.replace("\r\n", "\n").trim().to_owned()).filter(|s| !s.is_empty())
}

async fn publish(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>, axum::Form(form): Form) -> Response {
    let (label, notes) = (text(&form, "label"), text(&form, "notes").unwrap_or_default());
    let shown = field(&form, "draft").unwrap_or_default().to_owned();
    act(c, ctx, &form.clone(), &[], move |ws| {
        let agent = agent(&id)?;
        let now = ws.locate(&agent, RefSpec::Draft, &DraftAt::WorkTree)?.tree.to_string();
        if now != shown {
            let note = format!(
                "{agent}'s draft changed on disk since that page was made: nothing was published. This is the draft now; Save version here publishes it."
            );
            return Ok(Done::Refused { to: format!("/agents/{agent}"), note });
        }
        let options = PublishOptions { label, notes, author: None, at: DraftAt::WorkTree, ..Default::default() };
        let report = crate::ops::publish::publish(ws, &Selection::Named(vec![agent.clone()]), &options)?;
        if let Some(p) = report.published.first() {
            return Ok(Done::Land { to: format!("/agents/{agent}"), note: format!("Published {}.", p.tag) });
        }
        Ok(Done::Page(html! {
            @for (a, n) in &report.unchanged { (html::notice("warn", html! { (a) " is unchanged since v" (n) ": nothing published." })) }
            p { a href={"/agents/" (agent)} { "Back to " (agent) "'s history" } }
        }))
    })
    .await
}

/// What restoring `n` would overwrite now, as [`RestorePlan::fingerprint`] gives it.
///
/// [`RestorePlan::fingerprint`]: crate::ops::restore::RestorePlan::fingerprint
fn overwritten(ws: &Workspace, agent: &AgentId, n: u64) -> Result<String, PageError> {
    let options = RestoreOptions { force: true, dry_run: true };
    Ok(crate::ops::restore::restore(ws, agent, RefSpec::Version(n), options)?.fingerprint())
}

async fn restore(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>, axum::Form(form): Form) -> Response {
    let overwrite = field(&form, "overwrite") == Some("yes");
    let confirmed = field(&form, "replaces").map(str::to_owned);
    let version = version_of(&form);
    let csrf = ctx.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
    act(c, ctx, &form.clone(), &[], move |ws| {
        let (agent, n) = (agent(&id)?, version?);
        // The overwrite was confirmed for the unsaved content the refusal showed, and only that.
        if overwrite && confirmed.as_deref() != Some(overwritten(ws, &agent, n)?.as_str()) {
            let note = format!(
                "{agent}'s files changed again since the overwrite was offered: nothing was written. Restore again to see what would be lost now."
            );
            return Ok(Done::Refused { to: format!("/agents/{agent}"), note });
        }
        let options = RestoreOptions { force: overwrite, dry_run: false };
        match crate::ops::restore::restore(ws, &agent, RefSpec::Version(n), options) {
            Ok(plan) => Ok(Done::Land {
                to: format!("/agents/{agent}"),
                note: format!("Restored {} v{} into the draft.", plan.agent, plan.version),
            }),
            Err(e @ crate::Error::Ops(crate::ops::OpsError::UnsavedWork { .. })) => Ok(Done::Page(html! {
                h1 { "Restore v" (n) " of " (agent) "?" }
                (html::notice("warn", html! { (e.to_string()) }))
                p { "Restoring would overwrite work that is saved nowhere else. Overwrite it only if you mean to lose it." }
                form method="post" action={"/agents/" (agent) "/restore"} {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="version" value=(n);
                    input type="hidden" name="overwrite" value="yes";
                    input type="hidden" name="replaces" value=(overwritten(ws, &agent, n)?);
                    button.primary type="submit" { "Overwrite the unsaved changes and restore v" (n) }
                }
                p { a href={"/agents/" (agent)} { "Cancel" } }
            })),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

async fn rollback(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>, axum::Form(form): Form) -> Response {
    let version = version_of(&form);
    act(c, ctx, &form.clone(), &[], move |ws| {
        let (agent, n) = (agent(&id)?, version?);
        let options = RollbackOptions { label: None, notes: String::new(), author: None, force: false };
        let (published, _) = crate::ops::rollback::rollback(ws, &agent, RefSpec::Version(n), &options)?;
        let note = format!("Rolled back: {} serves v{n}'s configuration.", published.tag);
        Ok(Done::Land { to: format!("/agents/{agent}"), note })
    })
    .await
}

async fn unpin(State(c): State<Shared>, ctx: Ctx, axum::Form(form): Form) -> Response {
    let channel = field(&form, "channel").unwrap_or_default().trim().to_owned();
    let was = field(&form, "was").map(str::to_owned);
    act(c, ctx, &form.clone(), &[], move |ws| {
        if let Some(refused) = stale_channel(ws, &channel, was.as_deref())? {
            return Ok(refused);
        }
        crate::ops::pin::unpin(ws, &channel)?;
        Ok(Done::Land {
            to: "/channels".into(),
            note: format!("Unpinned {channel}: channels.toml no longer routes it."),
        })
    })
    .await
}

/// The channels page showing `channel` (found by name, so on the first page).
fn channel_page(channel: &str) -> String {
    format!("/channels?{}", html::query(&[("q", channel)]))
}

fn spec(text: &str) -> Result<Spec, PageError> {
    Spec::parse(text).map_err(|e| PageError::bad(format!("'{}' is not <id>@<ref>: {e}", text.escape_debug())))
}

async fn pin(State(c): State<Shared>, ctx: Ctx, axum::Form(form): Form) -> Response {
    let channel = field(&form, "channel").unwrap_or_default().trim().to_owned();
    let target = field(&form, "spec").unwrap_or_default().trim().to_owned();
    let was = field(&form, "was").map(str::to_owned);
    act(c, ctx, &form.clone(), &[], move |ws| {
        let target = spec(&target)?;
        if let Some(refused) = stale_channel(ws, &channel, was.as_deref())? {
            return Ok(refused);
        }
        let t = crate::ops::pin::pin(ws, &channel, &target)?;
        let note = format!("Pinned {channel} to {} {}.", t.agent, t.pin);
        Ok(Done::Land { to: channel_page(&channel), note })
    })
    .await
}

async fn ab(State(c): State<Shared>, ctx: Ctx, axum::Form(form): Form) -> Response {
    let channel = field(&form, "channel").unwrap_or_default().trim().to_owned();
    let all = |k: &str| form.iter().filter(|(f, _)| f == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let (names, specs, weights) = (all("name"), all("spec"), all("weight"));
    let was = field(&form, "was").map(str::to_owned);
    act(c, ctx, &form.clone(), &["name", "spec", "weight"], move |ws| {
        if let Some(refused) = stale_channel(ws, &channel, was.as_deref())? {
            return Ok(refused);
        }
        if names.len() != specs.len() || names.len() != weights.len() {
            return Err(PageError::bad("each variant needs a name, a spec and a weight"));
        }
        let mut variants = Vec::new();
        for ((name, s), w) in names.iter().zip(&specs).zip(&weights) {
            // "remove this variant", or the empty row for one more left as it was.
            if s.trim().is_empty() {
                continue;
            }
            if name.trim().is_empty() {
                return Err(PageError::bad(format!("the variant serving {} needs a name", s.escape_debug())));
            }
            let weight =
                w.trim().parse::<u64>().ok().filter(|w| *w <= crate::format::channels::MAX_WEIGHT).ok_or_else(
                    || {
                        PageError::bad(format!(
                            "the weight of {name} must be a whole number from 0 to {}",
                            crate::format::channels::MAX_WEIGHT
                        ))
                    },
                )?;
            variants.push((name.clone(), spec(s)?, weight));
        }
        let written = crate::ops::pin::ab(ws, &channel, &variants, None, None)?;
        let shares = written.iter().map(|v| format!("{} {}", v.name, v.weight)).collect::<Vec<_>>().join(", ");
        Ok(Done::Land { to: channel_page(&channel), note: format!("Split {channel}: {shares}.") })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(n: usize) -> Choices {
        let latest: Vec<(String, Option<u64>)> =
            (0..n).map(|i| (format!("a{i}"), if i % 2 == 0 { Some(2) } else { None })).collect();
        let at = latest.iter().enumerate().map(|(i, (a, _))| (a.clone(), i)).collect();
        Choices { latest, at }
    }

    #[test]
    fn a_few_agents_get_a_dropdown_of_every_spec() {
        let html = new_pin_form(&choices(2), "t").into_string();
        assert!(html.contains(r#"<select name="spec""#), "{html}");
        for spec in ["a0@latest", "a0@v2", "a0@v1", "a0@draft", "a1@draft"] {
            assert!(html.contains(&format!(r#"value="{spec}""#)), "{spec} missing: {html}");
        }
        assert!(!html.contains("datalist"));
    }

    #[test]
    fn many_agents_get_a_text_field_suggesting_each_latest() {
        let html = new_pin_form(&choices(DROPDOWN_AGENTS + 1), "t").into_string();
        assert!(!html.contains("<select"), "{html}");
        assert!(html.contains(r#"list="specs""#));
        assert_eq!(html.matches("<option").count(), DROPDOWN_AGENTS + 1);
        assert!(html.contains(r#"value="a0@latest""#) && html.contains(r#"value="a1@draft""#));
        assert!(!html.contains("a0@v1"), "versions are not listed one by one");
    }

    #[test]
    fn a_channel_lists_its_own_agents_specs_newest_first() {
        let c = choices(2);
        let specs: Vec<String> = c.for_agent("a0").into_iter().map(|(s, _)| s).collect();
        assert_eq!(specs, ["a0@latest", "a0@v2", "a0@v1", "a0@draft"]);
        assert_eq!(c.for_agent("a1").into_iter().map(|(s, _)| s).collect::<Vec<_>>(), ["a1@draft"]);
        assert_eq!(c.for_agent("nobody").len(), 1, "an unknown agent can still be pinned to its draft");
    }
}
