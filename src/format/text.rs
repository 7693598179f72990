//! What every text agentver reads shares: the byte-level limits (a size limit, no byte-order mark,
//! UTF-8 only), the problem type text readers return (`SyntaxError`, with line and column) and its
//! one conversion into a [`Diagnostic`], and the shapes several formats check (E.164 numbers).

use crate::format::diagnostic::Diagnostic;

/// Largest agent, tool or workflow file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// A reason a text is not acceptable (bytes, YAML syntax or a limit), with the line where it was found.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub message: String,
    pub hint: Option<String>,
}

impl SyntaxError {
    pub(crate) fn at(line: u32, col: u32, message: impl Into<String>) -> Self {
        SyntaxError { line: Some(line), col: Some(col), message: message.into(), hint: None }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The problem as `file`'s diagnostic, keeping line, column and hint.
    pub fn diagnostic(self, file: &str) -> Diagnostic {
        Diagnostic::error(file, self.line, self.message).with_col(self.col).with_hint(self.hint)
    }
}

/// Whether `s` is an E.164 phone number: `+`, then 2 to 15 digits, the first not 0.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else { return false };
    (2..=15).contains(&digits.len()) && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Checks the raw bytes of an agent, tool or workflow file (size, BOM, UTF-8); returns the text.
pub fn check_text(bytes: &[u8]) -> Result<&str, SyntaxError> {
    check_text_within(bytes, MAX_FILE_BYTES)
}

/// [`check_text`] with another size limit, in bytes.
pub fn check_text_within(bytes: &[u8], limit: usize) -> Result<&str, SyntaxError> {
    if bytes.len() > limit {
        return Err(SyntaxError {
            line: None,
            col: None,
            message: format!("file is {} bytes; the limit is {limit}", bytes.len()),
            hint: None,
        });
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(
            SyntaxError::at(1, 1, "file starts with a byte-order mark").hint("save the file as UTF-8 without a BOM")
        );
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|b| **b == b'\n').count() as u32 + 1;
        let col = (before.len() - before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1)) as u32 + 1;
        SyntaxError::at(line, col, "file is not valid UTF-8").hint("save the file as UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_bytes() {
        assert!(check_text(b"\xEF\xBB\xBFa: 1").unwrap_err().message.contains("byte-order mark"));
        let e = check_text(b"a: 1\nb: \xFF\n").unwrap_err();
        assert_eq!((e.line, e.col), (Some(2), Some(4)));
        assert!(check_text(&vec![b'#'; MAX_FILE_BYTES + 1]).is_err());
        assert_eq!(check_text(b"a: 1").unwrap(), "a: 1");
    }
}
