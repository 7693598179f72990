//! A problem found in a file: severity, file, line, message and an optional hint.
//!
//! Validation collects these; commands that stop at the first error (publish, show) report the
//! first one, and `check` reports them all.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Workspace-relative path, prefixed with `<tag>:` when the file was read from a version.
    pub file: String,
    pub line: Option<u32>,
    #[serde(skip)]
    pub col: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(file: &str, line: Option<u32>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_owned(),
            line,
            col: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(file: &str, line: Option<u32>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(file, line, message) }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    pub fn with_col(mut self, col: Option<u32>) -> Self {
        self.col = col;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col` as editors and compilers print it.
    pub fn location(&self) -> String {
        match (self.line, self.col) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}

/// The closest candidate to `word` within a small edit distance, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names() {
        let fields = ["provider", "model", "temperature", "max_tokens"];
        assert_eq!(closest("temprature", fields), Some("temperature"));
        assert_eq!(closest("modle", fields), Some("model"));
        assert_eq!(closest("Model", fields), Some("model"));
        assert_eq!(closest("maxtokens", fields), Some("max_tokens"));
        assert_eq!(closest("voice", fields), None);
    }

    #[test]
    fn location_formats() {
        let d = Diagnostic::error("agents/a.yaml", Some(4), "bad").with_col(Some(3));
        assert_eq!(d.to_string(), "agents/a.yaml:4:3: bad");
        assert_eq!(Diagnostic::error("x", None, "m").to_string(), "x: m");
    }
}
