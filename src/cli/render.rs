//! Rendering shared by commands: colours and the three diff formats (text, markdown, JSON).

use std::io::Write;

use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

use agentver::format::diff::{Change, ChangeKind};

/// How `diff` and `plan` print: for people, as a pull-request comment, or for programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    /// Markdown for a pull-request comment: a summary table first, details folded
    Markdown,
    Json,
}

use anstyle::{AnsiColor, Effects, Style};

pub const RED: Style = AnsiColor::Red.on_default();
pub const GREEN: Style = AnsiColor::Green.on_default();
pub const YELLOW: Style = AnsiColor::Yellow.on_default();
pub const BOLD: Style = Style::new().effects(Effects::BOLD);
pub const CYAN: Style = AnsiColor::Cyan.on_default();
const PLAIN: Style = Style::new();
const REVERSE: Style = Style::new().effects(Effects::INVERT);

/// `text` in `style` when colour is on (a terminal, no NO_COLOR), else as it is.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color { format!("{style}{text}{style:#}") } else { text.to_owned() }
}

/// User text for a terminal: control characters (an escape sequence could rewrite the screen)
/// shown as escapes.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { c.escape_default().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

/// A value on one line: JSON, so strings are quoted and nothing is ambiguous.
pub fn inline(value: &Json) -> String {
    let s = value.to_string();
    if s.chars().count() > 120 { format!("{}…", s.chars().take(117).collect::<String>()) } else { s }
}

/// The line diff of two texts, changed words marked: colour on a terminal, else `[-old-]{+new+}`.
fn text_lines(old: &str, new: &str, color: bool) -> Vec<String> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for op in diff.ops() {
        for change in diff.iter_inline_changes(op) {
            let (sign, style) = match change.tag() {
                ChangeTag::Equal => (' ', PLAIN),
                ChangeTag::Delete => ('-', RED),
                ChangeTag::Insert => ('+', GREEN),
            };
            let mut line = String::new();
            for (emphasized, part) in change.iter_strings_lossy() {
                let part = printable(part.trim_end_matches('\n'));
                let part = part.as_ref();
                if emphasized && change.tag() != ChangeTag::Equal {
                    if color {
                        line.push_str(&format!("{REVERSE}{part}{REVERSE:#}{style}"));
                    } else if change.tag() == ChangeTag::Delete {
                        line.push_str(&format!("[-{part}-]"));
                    } else {
                        line.push_str(&format!("{{+{part}+}}"));
                    }
                } else {
                    line.push_str(part);
                }
            }
            if change.tag() == ChangeTag::Equal {
                // Keep a little context, not the whole prompt.
                lines.push(format!("  {sign} {line}"));
            } else {
                lines.push(format!("  {}", paint(color, style, &format!("{sign} {line}"))));
            }
        }
    }
    trim_context(lines, 2)
}

/// Keeps `context` unchanged lines around each change; elides the rest.
fn trim_context(lines: Vec<String>, context: usize) -> Vec<String> {
    // Unchanged lines are the ones rendered as "    text" (two spaces, a blank sign, a space).
    let marks: Vec<bool> = lines.iter().map(|l| !l.starts_with("    ")).collect();
    let keep: Vec<bool> = (0..lines.len())
        .map(|i| {
            let lo = i.saturating_sub(context);
            let hi = (i + context + 1).min(lines.len());
            marks[lo..hi].iter().any(|m| *m)
        })
        .collect();
    let mut out = Vec::new();
    let mut skipped = false;
    for (line, keep) in lines.into_iter().zip(keep) {
        if keep {
            out.push(line);
            skipped = false;
        } else if !skipped {
            out.push("    …".to_owned());
            skipped = true;
        }
    }
    out
}

pub fn text(out: &mut dyn Write, title: &str, changes: &[Change], color: bool) -> std::io::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", paint(color, BOLD, title))?;
    for c in changes {
        let path = printable(&c.path);
        match c.kind {
            ChangeKind::Added => writeln!(
                out,
                "{}",
                paint(color, GREEN, &format!("+ {path}: {}", inline(c.new.as_ref().unwrap_or(&Json::Null))))
            )?,
            ChangeKind::Removed => writeln!(
                out,
                "{}",
                paint(color, RED, &format!("- {path}: {}", inline(c.old.as_ref().unwrap_or(&Json::Null))))
            )?,
            ChangeKind::Changed if c.is_text() => {
                writeln!(out, "{}", paint(color, CYAN, &format!("~ {path}:")))?;
                let (old, new) = (
                    c.old.as_ref().and_then(Json::as_str).unwrap_or_default(),
                    c.new.as_ref().and_then(Json::as_str).unwrap_or_default(),
                );
                for line in text_lines(old, new, color) {
                    writeln!(out, "{line}")?;
                }
            }
            ChangeKind::Changed => writeln!(
                out,
                "{} {}: {} → {}",
                paint(color, CYAN, "~"),
                path,
                inline(c.old.as_ref().unwrap_or(&Json::Null)),
                inline(c.new.as_ref().unwrap_or(&Json::Null))
            )?,
        }
    }
    Ok(())
}

/// A new channel's configuration in a few lines (its name, model, voice, the prompt's first
/// lines), indented under `indent`; terminal text escaped.
pub fn headline_text(out: &mut dyn Write, indent: &str, h: &agentver::ops::plan::Headline) -> std::io::Result<()> {
    let shown = |v: &Option<String>| v.as_deref().map_or("(none)".to_owned(), |s| printable(s).into_owned());
    writeln!(out, "{indent}name: {}", shown(&h.name))?;
    writeln!(out, "{indent}model: {}", shown(&h.model))?;
    writeln!(out, "{indent}voice: {}", shown(&h.voice))?;
    for (i, line) in h.prompt.iter().enumerate() {
        let label = if i == 0 { "prompt: " } else { "        " };
        writeln!(out, "{indent}{label}{}", printable(line))?;
    }
    if h.more_prompt {
        writeln!(out, "{indent}        …")?;
    }
    Ok(())
}

/// [`headline_text`] as a Markdown table, every value escaped as inline code.
pub fn headline_markdown(out: &mut dyn Write, h: &agentver::ops::plan::Headline) -> std::io::Result<()> {
    let cell = |v: &Option<String>| v.as_deref().map_or("(none)".to_owned(), md_code);
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(out, "| name | {} |", cell(&h.name))?;
    writeln!(out, "| model | {} |", cell(&h.model))?;
    writeln!(out, "| voice | {} |", cell(&h.voice))?;
    let mut prompt: Vec<String> = h.prompt.iter().map(|l| md_code(l)).collect();
    if h.more_prompt {
        prompt.push("…".into());
    }
    writeln!(out, "| prompt | {} |\n", if prompt.is_empty() { "(none)".into() } else { prompt.join("<br>") })
}

/// GitHub refuses comments longer than this many characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// User text as inline code that stays inside its table cell or `<summary>`: HTML-escaped (it is
/// read inside HTML blocks), `|` and backticks as entities, line breaks shown as ↵. A key holding
/// `</code></summary><details>` or a newline and `|` must not forge rows or fold real ones.
pub fn md_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 13);
    out.push_str("<code>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '\n' | '\r' => out.push('↵'),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

fn md_cell(value: Option<&Json>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) => md_code(&inline(v)),
    }
}

/// A code fence longer than any run of backticks in `text`, so the text cannot close it.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// Markdown for a PR comment; `title` becomes a heading when given. Long texts show only their
/// changed lines with three lines of context, never the whole prompt.
pub fn markdown(out: &mut dyn Write, title: Option<&str>, changes: &[Change]) -> std::io::Result<()> {
    if let Some(title) = title {
        writeln!(out, "### {title}\n")?;
    }
    if changes.is_empty() {
        writeln!(out, "No changes.")?;
        return Ok(());
    }
    let (texts, fields): (Vec<&Change>, Vec<&Change>) = changes.iter().partition(|c| c.is_text());
    if !fields.is_empty() {
        writeln!(out, "| field | before | after |\n|---|---|---|")?;
        for c in fields {
            writeln!(out, "| {} | {} | {} |", md_code(&c.path), md_cell(c.old.as_ref()), md_cell(c.new.as_ref()))?;
        }
        writeln!(out)?;
    }
    for c in texts {
        let (old, new) = (
            c.old.as_ref().and_then(Json::as_str).unwrap_or_default(),
            c.new.as_ref().and_then(Json::as_str).unwrap_or_default(),
        );
        let diff = TextDiff::from_lines(old, new);
        let mut body = String::new();
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            body.push_str(&hunk.header().to_string());
            body.push('\n');
            for change in hunk.iter_changes() {
                let sign = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                body.push(sign);
                body.push_str(&change.to_string_lossy());
                if change.missing_newline() {
                    body.push('\n');
                }
            }
        }
        let fence = fence_for(&body);
        writeln!(
            out,
            "<details><summary>{} changed</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n",
            md_code(&c.path)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_cannot_forge_markdown() {
        let key = "a`b|c\n</code></summary><details>";
        let code = md_code(key);
        assert_eq!(code, "<code>a&#96;b&#124;c↵&lt;/code&gt;&lt;/summary&gt;&lt;details&gt;</code>");
        assert_eq!(fence_for("x ````` y"), "``````");
        assert_eq!(fence_for("plain"), "```");
    }

    #[test]
    fn markdown_shows_changed_lines_not_whole_texts() {
        let old: String = (0..500).map(|i| format!("line {i} of the prompt\n")).collect();
        let new = old.replace("line 250 of", "line 250 in");
        let change = Change {
            path: "prompt.system".into(),
            kind: ChangeKind::Changed,
            old: Some(Json::String(old.clone())),
            new: Some(Json::String(new)),
        };
        let mut out = Vec::new();
        markdown(&mut out, None, &[change]).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("-line 250 of the prompt") && out.contains("+line 250 in the prompt"), "{out}");
        assert!(out.contains(" line 247 of") && !out.contains("line 246 of"), "three lines of context: {out}");
        assert!(out.len() < 1_000, "{} characters", out.len());
    }

    #[test]
    fn marks_changed_words_without_colour() {
        let lines = text_lines("Be brief.\nNever quote prices.\n", "Be brief.\nAlways quote prices.\n", false);
        assert!(lines.iter().any(|l| l.contains("[-Never-]")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("{+Always+}")), "{lines:?}");
    }
}
