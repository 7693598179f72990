//! Workflow graphs (`workflows/<name>.json`): a JSON object, kept byte for byte.

use crate::format::diagnostic::Diagnostic;

/// Parses a workflow file; it must hold one JSON object.
pub fn parse_workflow(file: &str, bytes: &[u8]) -> Result<serde_json::Value, Vec<Diagnostic>> {
    let text = crate::format::text::check_text(bytes).map_err(|e| vec![e.diagnostic(file)])?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        vec![
            Diagnostic::error(file, Some(e.line() as u32), format!("invalid JSON: {message}"))
                .with_col(Some(e.column() as u32)),
        ]
    })?;
    if !value.is_object() {
        return Err(vec![
            Diagnostic::error(file, Some(1), "a workflow must be a JSON object")
                .with_hint(Some("wrap the graph in { ... }".to_owned())),
        ]);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows() {
        assert!(parse_workflow("w.json", b"{\"start\": \"a\"}").is_ok());
        let e = parse_workflow("w.json", b"{\n  \"start\": \n}").unwrap_err();
        assert_eq!(e[0].line, Some(3));
        assert!(parse_workflow("w.json", b"[1, 2]").unwrap_err()[0].message.contains("object"));
    }
}
