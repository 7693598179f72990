//! Reading one channel without parsing the whole file: a line scanner finds the table headers
//! (knowing strings, multi-line strings, comments and brackets), and only the channel's own
//! section is parsed. Kept hand-written: a TOML parser has no "just this table" mode, and at
//! 10,000 channels the full parse is most of a one-call process's time.

use super::{Channel, parse};
use crate::format::diagnostic::Diagnostic;

/// One table header found by [`scan_headers`]: its key path and where its line starts.
struct Header {
    path: Vec<String>,
    start: usize,
    line: usize,
}

/// The table headers of a TOML text, found with a line scanner that knows strings, multi-line
/// strings, comments and brackets. `None` when the text has anything the fast path does not
/// handle (keys before the first table, arrays of tables, escapes in header keys).
fn scan_headers(text: &str) -> Option<Vec<Header>> {
    let mut headers = Vec::new();
    let (mut in_basic_ml, mut in_literal_ml, mut depth) = (false, false, 0usize);
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        if !in_basic_ml && !in_literal_ml && depth == 0 {
            if trimmed.starts_with("[[") {
                return None;
            }
            if trimmed.starts_with('[') {
                headers.push(Header { path: header_path(trimmed)?, start, line: number + 1 });
                continue;
            }
            if headers.is_empty() && !trimmed.is_empty() && !trimmed.starts_with('#') {
                return None;
            }
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            if in_basic_ml {
                if rest.starts_with(b"\\") {
                    i += 2;
                    continue;
                }
                if rest.starts_with(b"\"\"\"") {
                    in_basic_ml = false;
                    i += 3;
                    continue;
                }
            } else if in_literal_ml {
                if rest.starts_with(b"'''") {
                    in_literal_ml = false;
                    i += 3;
                    continue;
                }
            } else {
                match bytes[i] {
                    b'#' => break,
                    b'"' if rest.starts_with(b"\"\"\"") => {
                        in_basic_ml = true;
                        i += 3;
                        continue;
                    }
                    b'\'' if rest.starts_with(b"'''") => {
                        in_literal_ml = true;
                        i += 3;
                        continue;
                    }
                    b'"' => {
                        // A one-line basic string: skip to its closing quote.
                        i += 1;
                        while i < bytes.len() && bytes[i] != b'"' {
                            i += if bytes[i] == b'\\' { 2 } else { 1 };
                        }
                    }
                    b'\'' => {
                        i += 1;
                        while i < bytes.len() && bytes[i] != b'\'' {
                            i += 1;
                        }
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => depth = depth.checked_sub(1)?,
                    _ => {}
                }
            }
            i += 1;
        }
    }
    (!in_basic_ml && !in_literal_ml && depth == 0).then_some(headers)
}

/// `[a."b c".d]` → ["a", "b c", "d"]; `None` for escapes or anything unusual.
fn header_path(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix('[')?;
    let close = {
        let mut in_quote: Option<char> = None;
        let mut found = None;
        for (i, c) in inner.char_indices() {
            match (in_quote, c) {
                (None, ']') => {
                    found = Some(i);
                    break;
                }
                (None, '"' | '\'') => in_quote = Some(c),
                (Some(q), c) if c == q => in_quote = None,
                (Some('"'), '\\') => return None,
                _ => {}
            }
        }
        found?
    };
    let after = inner[close + 1..].trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let mut path = Vec::new();
    let mut rest = inner[..close].trim();
    loop {
        let (segment, remaining) = if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"')?;
            (r[..end].to_owned(), &r[end + 1..])
        } else if let Some(r) = rest.strip_prefix('\'') {
            let end = r.find('\'')?;
            (r[..end].to_owned(), &r[end + 1..])
        } else {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            (rest[..end].to_owned(), &rest[end..])
        };
        path.push(segment);
        let remaining = remaining.trim_start();
        if remaining.is_empty() {
            return Some(path);
        }
        rest = remaining.strip_prefix('.')?.trim_start();
    }
}

/// One channel, reading only its own section when the file's layout allows it (the layout
/// `agentver pin` writes), else the whole file. The answer always equals the full parse's.
pub fn parse_one(text: &str, file: &str, name: &str) -> Result<Option<Channel>, Vec<Diagnostic>> {
    let fast = scan_headers(text).and_then(|headers| {
        // Every table must be [channels.<name>]; exactly one must be ours.
        if !headers.iter().all(|h| h.path.len() == 2 && h.path[0] == "channels") {
            return None;
        }
        let mut ours = headers.iter().enumerate().filter(|(_, h)| h.path[1] == name);
        let (i, header) = ours.next()?;
        if ours.next().is_some() {
            return None;
        }
        let end = headers.get(i + 1).map_or(text.len(), |h| h.start);
        Some((header.line, &text[header.start..end]))
    });
    match fast {
        Some((line, section)) => {
            // Pad with newlines so every line number stays the file's own.
            let padded = format!("{}{section}", "\n".repeat(line - 1));
            Ok(parse(&padded, file)?.channels.into_iter().next())
        }
        None => Ok(parse(text, file)?.channels.into_iter().find(|c| c.name == name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::channels::FILE;

    #[test]
    fn headers() {
        assert_eq!(header_path("[channels.\"+1415\"]\n").unwrap(), ["channels", "+1415"]);
        assert_eq!(header_path("[ channels . 'web' ] # c").unwrap(), ["channels", "web"]);
        assert_eq!(header_path("[channels.x-y_z]").unwrap(), ["channels", "x-y_z"]);
        assert!(header_path("[channels.\"a\\u0041\"]").is_none());
        assert!(header_path("[channels.x] y").is_none());
    }

    #[test]
    fn falls_back_on_anything_unusual() {
        let good = "# c\n[channels.a]\nagent = \"s\"\nversion = 1\n\n[channels.b]\nagent = \"t\"\nversion = 2\n";
        assert!(scan_headers(good).is_some());
        for text in ["channels.a.agent = \"s\"\n", "[[channels]]\n", "[channels.a]\nx = \"\"\"\n[channels.b]\n\"\"\"\n"]
        {
            let headers = scan_headers(text);
            assert!(headers.is_none() || headers.unwrap().len() == 1, "{text}");
        }
        // The section parse keeps the file's line numbers.
        let bad = "[channels.a]\nagent = \"s\"\nversion = 1\n\n[channels.b]\nagent = \"t\"\nversoin = 2\n";
        let e = parse_one(bad, FILE, "b").unwrap_err();
        assert_eq!((e[0].line, e[0].message.contains("versoin")), (Some(7), true));
        assert_eq!(parse_one(bad, FILE, "a").unwrap().unwrap().name, "a");
        assert!(parse_one(good, FILE, "zzz").unwrap().is_none());
        // A channel defined twice is the full parser's to refuse.
        assert!(parse_one("[channels.a]\nagent = \"s\"\nversion = 1\n[channels.a]\n", FILE, "a").is_err());
    }
}
