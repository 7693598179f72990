//! The layer rule, checked on the source tree: gix is used only in `src/git/`; `src/names/`
//! depends on nothing else in the crate; the git layer only on names, errors and file helpers;
//! `src/format/` reads no files and takes nothing from git but the object id type. A violation
//! names the file and line.

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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 30, "the source tree was not found: {}", src.display());
    let outside: Vec<PathBuf> = files.into_iter().filter(|f| !f.starts_with(src.join("git"))).collect();
    let found = violations(&outside, |code| code.contains("gix::") || code.contains("use gix"));
    assert!(found.is_empty(), "gix outside src/git/:\n{}", found.join("\n"));
}

/// Every line of the files under `src/<layer>` that names a crate module outside `allowed`.
fn reaches_above(layer: &str, allowed: &[&str]) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer);
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(!files.is_empty(), "src/{layer}/ was not found");
    violations(&files, |code| {
        code.match_indices("crate::").any(|(at, _)| {
            let module: String =
                code[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            !allowed.contains(&module.as_str())
        })
    })
}

#[test]
fn names_depend_on_nothing_else_in_the_crate() {
    let found = reaches_above("names", &["names"]);
    assert!(found.is_empty(), "src/names/ reaches outside itself:\n{}", found.join("\n"));
}

#[test]
fn the_git_layer_depends_only_on_names_errors_and_file_helpers() {
    let found = reaches_above("git", &["git", "error", "names", "fsutil"]);
    assert!(found.is_empty(), "src/git/ reaches above its layer:\n{}", found.join("\n"));
}

#[test]
fn formats_touch_no_files_and_no_git() {
    // Bytes in, data and diagnostics out: nothing from git (a pinned tree is names' TreeId).
    let mut found = reaches_above("format", &["format", "names", "error", "Error", "Result"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/format");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    found.extend(violations(&files, |code| code.contains("std::fs::")));
    assert!(found.is_empty(), "src/format/ reaches files or git:\n{}", found.join("\n"));
}

#[test]
fn the_server_makes_no_git_calls_of_its_own() {
    // Snapshots are built through the workspace; the server takes nothing from git but the
    // object id type, and runs no program.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/serve");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(!files.is_empty(), "src/serve/ was not found");
    let found = violations(&files, |code| {
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let library: Vec<PathBuf> =
        files.into_iter().filter(|f| !f.starts_with(src.join("cli")) && !f.starts_with(src.join("serve"))).collect();
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let outside: Vec<PathBuf> = files.into_iter().filter(|f| !f.starts_with(src.join("workspace"))).collect();
    let found = violations(&outside, |code| code.contains("impl Workspace"));
    assert!(found.is_empty(), "impl Workspace outside src/workspace/:\n{}", found.join("\n"));
}
