//! Rendering shared by commands: colours and the three diff formats (text, markdown, JSON).

use std::io::Write;

use agentver::diff::{Change, ChangeKind};
use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

/// How `diff` and `plan` print: for people, as a pull-request comment, or for programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    /// Markdown for a pull-request comment: a summary table first, details folded
    Markdown,
    Json,
}

pub const RED: &str = "\x1b[31m";
pub const GREEN: &str = "\x1b[32m";
pub const YELLOW: &str = "\x1b[33m";
pub const BOLD: &str = "\x1b[1m";
pub const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";
const REVERSE: &str = "\x1b[7m";

pub fn paint(color: bool, style: &str, text: &str) -> String {
    if color { format!("{style}{text}{RESET}") } else { text.to_owned() }
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
                ChangeTag::Equal => (' ', ""),
                ChangeTag::Delete => ('-', RED),
                ChangeTag::Insert => ('+', GREEN),
            };
            let mut line = String::new();
            for (emphasized, part) in change.iter_strings_lossy() {
                let part = part.trim_end_matches('\n');
                if emphasized && change.tag() != ChangeTag::Equal {
                    if color {
                        line.push_str(&format!("{REVERSE}{part}{RESET}{style}"));
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
        match c.kind {
            ChangeKind::Added => writeln!(
                out,
                "{}",
                paint(color, GREEN, &format!("+ {}: {}", c.path, inline(c.new.as_ref().unwrap_or(&Json::Null))))
            )?,
            ChangeKind::Removed => writeln!(
                out,
                "{}",
                paint(color, RED, &format!("- {}: {}", c.path, inline(c.old.as_ref().unwrap_or(&Json::Null))))
            )?,
            ChangeKind::Changed if c.is_text() => {
                writeln!(out, "{}", paint(color, CYAN, &format!("~ {}:", c.path)))?;
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
                c.path,
                inline(c.old.as_ref().unwrap_or(&Json::Null)),
                inline(c.new.as_ref().unwrap_or(&Json::Null))
            )?,
        }
    }
    Ok(())
}

fn md_cell(value: Option<&Json>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) => format!("`{}`", inline(v).replace('|', "\\|").replace('`', "'")),
    }
}

/// Markdown for a PR comment; `title` becomes a heading when given.
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
            writeln!(out, "| `{}` | {} | {} |", c.path, md_cell(c.old.as_ref()), md_cell(c.new.as_ref()))?;
        }
        writeln!(out)?;
    }
    for c in texts {
        let (old, new) = (
            c.old.as_ref().and_then(Json::as_str).unwrap_or_default(),
            c.new.as_ref().and_then(Json::as_str).unwrap_or_default(),
        );
        writeln!(out, "<details><summary><code>{}</code> changed</summary>\n\n```diff", c.path)?;
        let diff = TextDiff::from_lines(old, new);
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            write!(out, "{sign}{}", change.value())?;
            if change.missing_newline() {
                writeln!(out)?;
            }
        }
        writeln!(out, "```\n\n</details>\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_changed_words_without_colour() {
        let lines = text_lines("Be brief.\nNever quote prices.\n", "Be brief.\nAlways quote prices.\n", false);
        assert!(lines.iter().any(|l| l.contains("[-Never-]")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("{+Always+}")), "{lines:?}");
    }
}
