//! The one place that turns failures into stderr lines and exit codes.
//!
//! 0 success, 1 a refusal or negative answer, 2 an error. A closed stdout (`agentver log | head`)
//! is not an error.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Lib(#[from] agentver::Error),
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl CliError {
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        CliError::Usage { message: message.into(), hint }
    }
}

pub fn report(error: CliError) -> ExitCode {
    if matches!(&error, CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe) {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(print(&error))
}

/// Prints the error line and its hint; returns the exit code it maps to.
pub fn print(error: &CliError) -> u8 {
    let (code, hint) = match error {
        CliError::Lib(e) => (if e.is_refusal() { 1 } else { 2 }, e.hint()),
        CliError::Usage { hint, .. } => (2, hint.clone()),
        CliError::Io(_) => (2, None),
    };
    let mut err = std::io::stderr().lock();
    // One line: newlines inside a message (from a foreign error) are folded.
    let message = error.to_string().replace('\n', " ");
    let _ = writeln!(err, "error: {message}");
    if let Some(hint) = hint {
        let _ = writeln!(err, "hint: {hint}");
    }
    code
}
