//! The layer rule, checked on the source tree: each layer names only the layers below it (see
//! `LAYERS`); gix and the git program are used only in `src/git/`; `src/format/` reads no files;
//! the server makes no git calls of its own; `impl Workspace` lives in one module; library error
//! hints hold no command-line syntax; no function runs over 80 lines. A violation names the file
//! and line.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The Rust files under `rel` (a folder or one file, relative to the package), leaving out those
/// under any of the folders in `except` (relative to `rel`). Fails when there are none: a check
/// over no files would pass silently.
fn sources(rel: &str, except: &[&str]) -> Vec<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let mut files = Vec::new();
    if path.is_file() {
        files.push(path.clone());
    } else {
        rust_files(&path, &mut files);
    }
    files.retain(|f| !except.iter().any(|e| f.starts_with(path.join(e))));
    assert!(!files.is_empty(), "no Rust files under {rel}");
    files
}

/// (file, line number, line) for every line of `files` that `bad` flags, outside comments.
fn violations(files: &[PathBuf], bad: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if bad(code) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn gix_is_used_only_in_the_git_layer() {
    let outside = sources("src", &["git"]);
    assert!(outside.len() > 30, "the source tree was not found");
    let found = violations(&outside, |code| code.contains("gix::") || code.contains("use gix"));
    assert!(found.is_empty(), "gix outside src/git/:\n{}", found.join("\n"));
}

/// `unsafe_code` is denied crate-wide; the one exception is glibc's `malloc_trim` in serve
/// (issue 30), and nothing else may join it.
#[test]
fn unsafe_code_is_only_the_allocators_trim() {
    let (files, theirs): (Vec<PathBuf>, Vec<PathBuf>) =
        sources("src", &[]).into_iter().partition(|f| !f.ends_with("src/serve/memory.rs"));
    let found = violations(&files, |code| code.contains("unsafe"));
    assert!(found.is_empty(), "unsafe outside src/serve/memory.rs:\n{}", found.join("\n"));
    assert_eq!(violations(&theirs, |code| code.contains("unsafe {")).len(), 1, "one unsafe block");
}

#[test]
fn the_git_program_is_run_only_from_the_git_layer() {
    // push and fetch need the git program (gix cannot push); it is run from src/git/remote.rs
    // alone, where remote names are checked and `--` ends the options. The one other program is
    // the desktop's URL opener, which `console --open` runs from its command's file.
    let mut files = sources("src", &["git"]);
    files.retain(|f| !f.ends_with("src/cli/cmd/console.rs"));
    let found = violations(&files, |code| code.contains("Command::new") || code.contains("process::Command"));
    assert!(found.is_empty(), "a program run outside src/git/:\n{}", found.join("\n"));
}

/// Whether `code` names a module of the crate (`crate::x` or, from the binary, `agentver::x`)
/// that is not in `allowed`.
fn uses_outside(code: &str, allowed: &[&str]) -> bool {
    ["crate::", "agentver::"].iter().any(|prefix| {
        code.match_indices(prefix).any(|(at, _)| {
            // `agentver::http` is a log target in a string, not a path: only paths count.
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"' || c == ':') {
                return false;
            }
            let module: String =
                code[at + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            !module.is_empty() && !allowed.contains(&module.as_str())
        })
    })
}

/// Every line of `src/<layer>` (a folder, or one file) that names a crate module outside `allowed`.
fn reaches_above(layer: &str, allowed: &[&str]) -> Vec<String> {
    violations(&sources(&format!("src/{layer}"), &[]), |code| uses_outside(code, allowed))
}

/// The layer rule: what each part of the library (and the command line, which names the library
/// `agentver::`) may take from the others. Each layer uses only layers below it, never one above:
/// names and file helpers at the bottom; formats on names; git on names and file helpers; the
/// workspace on git and formats; routing on the workspace; the commands (ops) on those; call
/// records beside them; the server on ops and call records; the command line on everything but
/// git itself. `error` is the sum of the domains' error types, which every layer above git uses.
const LAYERS: &[(&str, &[&str])] = &[
    ("names", &[]),
    ("fsutil.rs", &[]),
    ("format", &["names"]),
    ("git", &["names", "fsutil"]),
    ("workspace", &["names", "fsutil", "format", "git", "error", "binary_version"]),
    ("routing", &["names", "format", "git", "workspace", "error", "Error", "Result"]),
    ("ops", &["names", "fsutil", "format", "git", "workspace", "routing", "error", "binary_version", "Error"]),
    ("calls", &["names", "fsutil", "format", "workspace", "routing", "error", "Error", "Result"]),
    ("platforms", &["names", "format", "calls", "error"]),
    // `agentver test`: the runner over the LLM providers, its cassettes and notes.
    ("testing", &["names", "fsutil", "format", "git", "workspace", "error", "Error", "Result"]),
    // The console's pages: read through a View (the snapshot or the work tree), act through ops.
    ("console", &["names", "format", "workspace", "routing", "ops", "calls", "error", "Error", "Result"]),
    (
        "serve",
        &[
            "names",
            "format",
            "git",
            "workspace",
            "routing",
            "ops",
            "calls",
            "platforms",
            "console",
            "error",
            "Error",
            "Result",
        ],
    ),
    (
        "cli",
        &[
            "names",
            "fsutil",
            "format",
            "workspace",
            "routing",
            "ops",
            "calls",
            "platforms",
            "console",
            "serve",
            "testing",
            "error",
            "Error",
        ],
    ),
];

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let mut found = Vec::new();
    for (layer, allowed) in LAYERS {
        let mut own = vec![layer.trim_end_matches(".rs")];
        own.extend_from_slice(allowed);
        found.extend(reaches_above(layer, &own));
    }
    assert!(found.is_empty(), "a layer reaches above itself:\n{}", found.join("\n"));
}

#[test]
fn the_layer_check_catches_a_violation() {
    // The rule can fail: a line naming a module above its layer is reported with file and line.
    let dir = std::env::temp_dir().join(format!("agentver-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.rs");
    std::fs::write(&file, "use crate::names::id::AgentId;\nuse crate::ops::publish; // ok in a comment: crate::cli\n")
        .unwrap();
    let found = violations(std::slice::from_ref(&file), |code| uses_outside(code, &["names"]));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with(":2: use crate::ops::publish; // ok in a comment: crate::cli"), "{found:?}");
}

#[test]
fn formats_touch_no_files_and_no_git() {
    // Bytes in, data and diagnostics out: nothing from git (a pinned tree is names' TreeId).
    let mut found = reaches_above("format", &["format", "names"]);
    found.extend(violations(&sources("src/format", &[]), |code| code.contains("std::fs::")));
    assert!(found.is_empty(), "src/format/ reaches files or git:\n{}", found.join("\n"));
}

#[test]
fn the_server_makes_no_git_calls_of_its_own() {
    // Snapshots are built through the workspace; the server takes nothing from git but the
    // object id type, and runs no program.
    let found = violations(&sources("src/serve", &[]), |code| {
        code.match_indices("crate::git::").any(|(at, _)| !code[at..].starts_with("crate::git::ObjectId"))
            || code.contains("std::process")
            || code.contains("std::fs::")
            || code.contains("crate::cli")
    });
    assert!(found.is_empty(), "src/serve/ reaches git or files itself:\n{}", found.join("\n"));
}

#[test]
fn library_errors_carry_no_command_line_syntax() {
    // What to type is the CLI's business (src/cli/error.rs); the library's errors say what is
    // wrong. Check findings (diagnostics) are reports, not errors, and may name a command.
    let library = sources("src", &["cli", "serve"]);
    // A hint may span lines: look at the three that follow it too.
    let mut found = Vec::new();
    for file in &library {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("hint: Some(") {
                continue;
            }
            let hint = lines[i..(i + 4).min(lines.len())].join(" ");
            let hint = hint.split("),").next().unwrap_or_default();
            if hint.contains("agentver ") || hint.contains("`agentver") || hint.contains(" --") {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "CLI syntax in library error hints:\n{}", found.join("\n"));
}

#[test]
fn the_workspace_type_is_extended_only_in_its_own_module() {
    // Commands are free functions over a &Workspace (src/ops/), not methods spread over files.
    let found = violations(&sources("src", &["workspace"]), |code| code.contains("impl Workspace"));
    assert!(found.is_empty(), "impl Workspace outside src/workspace/:\n{}", found.join("\n"));
}

/// Lines from each `fn` line to its closing brace at the same indent (one-line and bodiless
/// functions are skipped), as (file:line, name, length).
fn function_lengths(file: &Path) -> Vec<(String, String, usize)> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let signature = trimmed.trim_start_matches("pub(crate) ").trim_start_matches("pub(super) ");
        let signature = signature.trim_start_matches("pub ").trim_start_matches("async ");
        let Some(rest) = signature.strip_prefix("fn ") else { continue };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let Some(open) = lines[i..].iter().position(|l| l.trim_end().ends_with('{') || l.trim_end().ends_with(';'))
        else {
            continue;
        };
        if lines[i + open].trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + open..].iter().position(|l| *l == close) {
            found.push((format!("{}:{}", file.display(), i + 1), name, open + end + 1));
        }
    }
    found
}

#[test]
fn no_function_is_longer_than_80_lines() {
    // The one exception is a table of cases, which reads best whole.
    let files: Vec<PathBuf> = ["src", "tests", "benches", "examples"].iter().flat_map(|d| sources(d, &[])).collect();
    let long: Vec<String> = files
        .iter()
        .flat_map(|f| function_lengths(f))
        .filter(|(at, name, n)| *n > 80 && !(at.contains("bad_input.rs") && name == "cases"))
        .map(|(at, name, n)| format!("{at}: fn {name} is {n} lines"))
        .collect();
    assert!(long.is_empty(), "functions over 80 lines:\n{}", long.join("\n"));
    // The measure itself works: the table of cases is seen as long.
    let cases = function_lengths(&sources("tests/cli/bad_input.rs", &[])[0]);
    assert!(cases.iter().any(|(_, name, n)| name == "cases" && *n > 80), "{cases:?}");
}
