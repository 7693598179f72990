//! The headline fields (prompt, welcome message, model, temperature, voice) as a form above the
//! draft editor: each field changed in the form is set in place in the file (its comments and
//! layout kept), and the file is then saved as the editor saves it: checked, and only over the
//! file the page showed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value as Json;

use super::actions::{Done, act, agent, field};
use super::html::notice;
use super::{Console, Ctx, PageError};
use crate::format::diagnostic::Severity;
use crate::format::edit::Scalar;
use crate::ops::draft::{self, Saved};

type Shared = Arc<Console>;

/// One field of the form.
pub struct Field {
    pub path: &'static [&'static str],
    pub label: &'static str,
    number: bool,
    long: bool,
}

pub const HEADLINE: &[Field] = &[
    Field { path: &["prompt", "system"], label: "Prompt", number: false, long: true },
    Field { path: &["prompt", "welcome_message"], label: "Welcome message", number: false, long: false },
    Field { path: &["llm", "model"], label: "Model", number: false, long: false },
    Field { path: &["llm", "temperature"], label: "Temperature", number: true, long: false },
    Field { path: &["speech", "tts", "voice_id"], label: "Voice", number: false, long: false },
];

/// What a field holds in the file.
#[derive(Clone, PartialEq)]
pub enum Held {
    Value(String),
    Absent,
    /// A list or a mapping: edited in the text, not here.
    Other,
}

fn at<'a>(doc: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(doc, |v, k| v.get(*k))
}

/// What each headline field holds in `text`; `None` when the text does not read as YAML.
pub fn held(text: &str) -> Option<Vec<Held>> {
    let doc = crate::format::yaml::parse(text).ok()?.to_json().ok()?;
    Some(
        HEADLINE
            .iter()
            .map(|f| match at(&doc, f.path) {
                None | Some(Json::Null) => Held::Absent,
                Some(Json::String(s)) => Held::Value(s.clone()),
                Some(v @ (Json::Number(_) | Json::Bool(_))) => Held::Value(v.to_string()),
                Some(_) => Held::Other,
            })
            .collect(),
    )
}

/// The form, showing `values` (the file's, or what was sent), saved against the file `base` names.
pub fn form(agent: &str, base: &str, csrf: &str, values: &[Held]) -> Markup {
    html! {
        form.stack.fields method="post" action={"/agents/" (agent) "/fields"} {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="base" value=(base);
            fieldset {
                legend { "Headline fields" }
                @for (f, held) in HEADLINE.iter().zip(values) {
                    @let name = f.path.join(".");
                    @let value = match held { Held::Value(v) => v.as_str(), _ => "" };
                    label class=(if f.long { "wide" } else { "" }) {
                        (f.label) " " span.muted { code { (name) } }
                        @if *held == Held::Other {
                            input name=(name) disabled value="(a list or a mapping: edit it in the file below)";
                        } @else if f.long {
                            textarea name=(name) rows="8" spellcheck="true" { "\n" (value) }
                        } @else if f.number {
                            input name=(name) type="number" step="any" min="0" max="2" inputmode="decimal" value=(value) placeholder="not set";
                        } @else {
                            input name=(name) value=(value) placeholder="not set";
                        }
                    }
                }
            }
            div.actions { button.primary type="submit" { "Save these fields" } }
        }
    }
}

/// The changes the form asks for against what the file holds: a field left as it was, or empty
/// where the file has none, is not touched.
fn changes(form: &[(String, String)], held: &[Held]) -> Result<Vec<(&'static [&'static str], Scalar)>, String> {
    let mut out = Vec::new();
    for (f, now) in HEADLINE.iter().zip(held) {
        let Some(sent) = field(form, &f.path.join(".")).map(|s| s.replace("\r\n", "\n")) else { continue };
        let unchanged = match now {
            Held::Value(v) => *v == sent || (f.number && v.parse::<f64>().ok() == sent.trim().parse::<f64>().ok()),
            Held::Absent => sent.trim().is_empty(),
            Held::Other => true,
        };
        if unchanged {
            continue;
        }
        let value = if f.number {
            let n = sent.trim().parse::<f64>().ok().filter(|n| n.is_finite());
            Scalar::Number(n.ok_or_else(|| format!("{}: '{}' is not a number", f.label, sent.escape_debug()))?)
        } else {
            Scalar::Text(sent)
        };
        out.push((f.path, value));
    }
    Ok(out)
}

/// `POST /agents/{id}/fields`: the changed fields set in place, then the file saved as the
/// editor saves it; landing on the history page, or the editor again with why nothing was written.
pub async fn save(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(form): super::actions::Form,
) -> Response {
    let base = field(&form, "base").unwrap_or_default().to_owned();
    let csrf = ctx.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
    let head = super::editor::head(&c, &ctx, &id).await;
    act(c, ctx, &form.clone(), &[], move |ws| {
        let agent = agent(&id)?;
        let path = agent.draft_path();
        let Some((bytes, now_base)) = draft::load(ws, &agent)? else {
            return Err(PageError::bad(format!("{agent} has no draft file ({path})")));
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let sent: Vec<Held> = HEADLINE
            .iter()
            .map(|f| field(&form, &f.path.join(".")).map_or(Held::Absent, |v| Held::Value(v.replace("\r\n", "\n"))))
            .collect();
        let again = |notice: Markup, values: &[Held], base: &str| {
            Done::Page(super::editor::page(&agent, &head, &text, base, &csrf, notice, Some(values)))
        };
        if now_base != base {
            let notice = notice("error", html! { (path) " changed on disk since this page was loaded: nothing was written. The page now shows the file as it is; make your change again." });
            return Ok(again(notice, &held(&text).unwrap_or_default(), &now_base));
        }
        let Some(now) = held(&text) else {
            let notice = notice("error", html! { (path) " does not read as YAML: fix it in the text below." });
            return Ok(again(notice, &sent, &base));
        };
        let wanted = match changes(&form, &now) {
            Ok(w) => w,
            Err(why) => return Ok(again(notice("error", html! { "Nothing was written: " (why) "." }), &sent, &base)),
        };
        if wanted.is_empty() {
            return Ok(Done::Land { to: format!("/agents/{agent}"), note: "Nothing to save: the fields are as the file has them.".into() });
        }
        let names: Vec<String> = wanted.iter().map(|(p, _)| p.join(".")).collect();
        Ok(match draft::set_fields(ws, &agent, &base, &wanted)? {
            Saved::Written => Done::Land {
                to: format!("/agents/{agent}"),
                note: format!("Saved {} in {path}. It is a draft: Save version publishes it.", names.join(", ")),
            },
            Saved::Changed { .. } => {
                let notice = notice("error", html! { (path) " changed on disk while this was saved: nothing was written. Load the editor again." });
                again(notice, &sent, &base)
            }
            Saved::NotInPlace(e) => {
                again(notice("error", html! { "Nothing was written: " (e.to_string()) "." }), &sent, &base)
            }
            Saved::Refused { problems } => {
                let errors = problems.iter().filter(|d| d.severity == Severity::Error).count();
                let notice = notice("error", html! {
                    "Nothing was written: with these fields " (path) " has " (errors) " error(s)."
                    ul { @for d in &problems { li { (d.to_string()) @if let Some(h) = &d.hint { br; span.muted { "hint: " (h) } } } } }
                });
                again(notice, &sent, &base)
            }
        })
    })
    .await
}
