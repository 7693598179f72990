//! The layer rule, checked on the source tree: gix is used only in `src/git/`, and the git layer
//! depends on nothing above it (only on names, errors and file helpers). A violation names the
//! file and line.

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

#[test]
fn the_git_layer_depends_only_on_names_errors_and_file_helpers() {
    let git = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/git");
    let mut files = Vec::new();
    rust_files(&git, &mut files);
    assert!(files.len() >= 5, "src/git/ was not found");
    const ALLOWED: &[&str] = &["git", "error", "id", "tagname", "tagmessage", "fsutil"];
    let found = violations(&files, |code| {
        code.match_indices("crate::").any(|(at, _)| {
            let module: String =
                code[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            !ALLOWED.contains(&module.as_str())
        })
    });
    assert!(found.is_empty(), "src/git/ reaches above its layer:\n{}", found.join("\n"));
}
