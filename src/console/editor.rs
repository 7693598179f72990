//! The draft editor (`agentver console` only): the agent file in a text area, written only when
//! `check` finds no error in it and the file still holds what the page showed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::actions::{Done, act, agent, field};
use super::fields::Held;
use super::html::{self, Section};
use super::{Console, Ctx, PageError, respond};
use crate::names::id::AgentId;
use crate::ops::draft::{self, Saved};
use crate::workspace::Workspace;

type Shared = Arc<Console>;

/// The largest form the editor takes: a 1 MiB agent file, percent-encoded.
pub const BODY_LIMIT: usize = 8 << 20;

/// The editor's page: the headline fields (`fields`, else as `text` holds them), then `text` in
/// the text area, both saved against the file whose digest is `base`.
pub(super) fn page(
    agent: &AgentId,
    head: &Markup,
    text: &str,
    base: &str,
    csrf: &str,
    notice: Markup,
    shown: Option<&[Held]>,
) -> Markup {
    let path = agent.draft_path();
    let held = shown.map(<[Held]>::to_vec).or_else(|| super::fields::held(text));
    html! {
        (head)
        (notice)
        p.muted { "Saving checks the file as " code { "agentver check" } " does and writes nothing while it has an error. "
            "It does not publish (Save version does), and the change stays in this work tree until you commit and push it." }
        @if let Some(held) = &held { (super::fields::form(agent.as_str(), base, csrf, held)) }
        h2 { "The whole file" }
        form.stack.editing method="post" action={"/agents/" (agent) "/edit"} {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="base" value=(base);
            label { (path)
                // A text area drops one newline right after its tag: this one, not the file's.
                textarea.editor name="text" spellcheck="false" autocapitalize="off" { "\n" (text) } }
            div.actions { button.primary type="submit" { "Save draft" } " " a href={"/agents/" (agent)} { "Cancel" } }
        }
        (fields())
    }
}

/// The agent format's fields, named beside the editor from the schema `agentver schema` prints.
fn fields() -> Markup {
    let schema = crate::format::model::schema::json_schema();
    let properties = schema["properties"].as_object().cloned().unwrap_or_default();
    html! {
        details.fields {
            summary { "The fields of an agent file" }
            dl.config {
                @for (name, field) in &properties {
                    dt { code { (name) } }
                    dd { (field["description"].as_str().unwrap_or(""))
                        @if let Some(inner) = field["properties"].as_object() {
                            ": " @for (i, key) in inner.keys().enumerate() { @if i > 0 { ", " } code { (key) } }
                        } }
                }
            }
            p.muted { code { "agentver schema" } " prints the whole schema, for an editor's completion." }
        }
    }
}

/// The editor's head: the agent's, titled for the editor.
pub(super) async fn head(c: &Shared, ctx: &Ctx, id: &str) -> Markup {
    super::pages::head_of(c, ctx, id, html! { "Edit the draft of " (id) }, super::pages::Tab::Edit).await
}

/// `GET /agents/{id}/edit`.
pub async fn open(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let csrf = ctx.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
    let root = c.editor.as_ref().map(|e| e.root.clone()).expect("the editor is routed with an editor");
    let head = head(&c, &ctx, &id).await;
    let loaded = tokio::task::spawn_blocking(move || -> Result<_, PageError> {
        let agent = agent(&id)?;
        let file = draft::load(&Workspace::discover(&root)?, &agent)?;
        Ok((agent, file))
    })
    .await
    .unwrap_or_else(|_| Err(PageError::unavailable("the page's work stopped")));
    match loaded {
        Ok((agent, Some((bytes, base)))) => {
            let text = String::from_utf8_lossy(&bytes);
            let main = page(&agent, &head, &text, &base, &csrf, html! {}, None);
            respond(&c, &ctx, None, &format!("Edit {agent}"), Section::Agents, main)
        }
        Ok((agent, None)) => {
            let message =
                format!("{agent} has no draft file ({}): `agentver new {agent}` makes one", agent.draft_path());
            super::error_page(&c, ctx.session.as_ref(), StatusCode::NOT_FOUND, &message)
        }
        Err(e) => super::error_page(&c, ctx.session.as_ref(), e.status, &e.message),
    }
}

/// `POST /agents/{id}/edit`: saved and landing on the history page, or the editor again with
/// the text as sent and why nothing was written.
pub async fn save(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(form): super::actions::Form,
) -> Response {
    let base = field(&form, "base").unwrap_or_default().to_owned();
    let text = field(&form, "text").unwrap_or_default().to_owned();
    let csrf = ctx.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
    let head = head(&c, &ctx, &id).await;
    act(c, ctx, &form.clone(), &[], move |ws| {
        let agent = agent(&id)?;
        let path = agent.draft_path();
        Ok(match draft::save(ws, &agent, &base, &text)? {
            Saved::Written => Done::Land {
                to: format!("/agents/{agent}"),
                note: format!("Saved {path}. It is a draft: Save version publishes it."),
            },
            Saved::Changed { now } => {
                let notice = html::notice("error", html! {
                    (path) " changed on disk since this editor opened it: nothing was written. Your text is below; "
                    "saving it again now replaces what the file holds (compared with your text at the bottom)." });
                let now_text = now.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
                let now_base = now.as_deref().map(draft::digest).unwrap_or_default();
                // What changed on disk, against the text as sent: a line diff, changed words marked.
                let sent = serde_json::Value::String(text.replace("\r\n", "\n"));
                let changes = crate::format::diff::diff(&serde_json::Value::String(now_text.to_string()), &sent);
                Done::Page(html! {
                    (page(&agent, &head, &text, &now_base, &csrf, notice, None))
                    h2 { "The file as it is now, against your text" }
                    (super::diff::changes(&changes))
                })
            }
            Saved::Refused { problems } => {
                let notice = html::notice("error", html! {
                    "Nothing was written: " (path) " has " (problems.iter().filter(|d| d.severity == crate::format::diagnostic::Severity::Error).count()) " error(s)."
                    ul { @for d in &problems { li { (d.to_string()) @if let Some(h) = &d.hint { br; span.muted { "hint: " (h) } } } } }
                });
                Done::Page(page(&agent, &head, &text, &base, &csrf, notice, None))
            }
            Saved::NotInPlace(e) => Done::Page(page(&agent, &head, &text, &base, &csrf, html::notice("error", html! { (e.to_string()) }), None)),
        })
    })
    .await
}
