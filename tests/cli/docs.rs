//! The docs are tests: every command shown in a `console` block of README.md or docs/ runs here,
//! in order, in one shell per file (a fresh sandbox with a fixed identity and clock), and must
//! print what the page shows.
//!
//! The format is trycmd's: `$ command` (continued on lines after a trailing `\`, or opening with
//! `> `), then what
//! it prints, stdout and stderr merged. A line `...` stands for any lines, `[..]` for any text
//! within a line, and a last line `(exit N)` for a non-zero exit. Set-up a reader need not see
//! sits in an HTML comment opening with `<!-- docs-test`; its commands must succeed, and what
//! they print is not compared. `DOCS_BLESS=1 cargo test --test cli docs` rewrites the outputs
//! that differ, for review with `git diff`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The identity and clock the pages' outputs were made with, as scripts/demo.sh uses.
const IDENTITY: [(&str, &str); 7] = [
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_AUTHOR_NAME", "Ada Lovelace"),
    ("GIT_AUTHOR_EMAIL", "ada@example.com"),
    ("GIT_COMMITTER_NAME", "Ada Lovelace"),
    ("GIT_COMMITTER_EMAIL", "ada@example.com"),
    ("GIT_AUTHOR_DATE", "2026-11-20T09:00:00+00:00"),
    ("GIT_COMMITTER_DATE", "2026-11-20T09:00:00+00:00"),
];

/// One command of a page and what the page says it prints.
#[derive(Debug)]
struct Case {
    /// 1-based line of the `$`.
    line: usize,
    command: String,
    expected: Vec<String>,
    code: i32,
    hidden: bool,
    /// The lines (0-based, end exclusive) holding the expected output, for blessing.
    span: (usize, usize),
}

/// A console block opens with three or more backticks and `console`, and closes with as many
/// backticks (more than three when what it shows holds fences of its own).
fn console_fence(line: &str) -> Option<&str> {
    let fence = line.trim_end().strip_suffix("console")?;
    (fence.len() >= 3 && fence.bytes().all(|b| b == b'`')).then_some(fence)
}

/// The cases of one page, in order.
fn parse(text: &str) -> Vec<Case> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (hidden, end) = match console_fence(lines[i]) {
            Some(fence) => (false, fence),
            None if lines[i].trim_end() == "<!-- docs-test" => (true, "-->"),
            None => {
                i += 1;
                continue;
            }
        };
        i += 1;
        let start = i;
        while i < lines.len() && lines[i].trim_end() != end {
            i += 1;
        }
        cases.extend(block(&lines, start, i, hidden));
        i += 1;
    }
    cases
}

/// The cases between lines `start` and `end` (exclusive).
fn block(lines: &[&str], start: usize, end: usize, hidden: bool) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut i = start;
    while i < end {
        let Some(first) = lines[i].strip_prefix("$ ") else {
            assert!(lines[i].trim().is_empty(), "line {}: output before any `$ command` in a console block", i + 1);
            i += 1;
            continue;
        };
        let line = i + 1;
        let mut command = first.to_string();
        // A trailing `\` goes on to the next line; so does a line opening with `> `, the
        // shell's own prompt for the rest of a command (a quoted body over several lines).
        while i + 1 < end && (command.ends_with('\\') || lines[i + 1].starts_with("> ")) {
            i += 1;
            command.push('\n');
            command.push_str(lines[i].strip_prefix("> ").unwrap_or(lines[i]));
        }
        i += 1;
        let from = i;
        while i < end && !lines[i].starts_with("$ ") {
            i += 1;
        }
        let mut to = i;
        while to > from && lines[to - 1].trim().is_empty() {
            to -= 1;
        }
        let mut expected: Vec<String> = lines[from..to].iter().map(|l| l.to_string()).collect();
        let code = exit_line(&mut expected);
        cases.push(Case { line, command, expected, code, hidden, span: (from, to) });
    }
    cases
}

/// Takes a last line `(exit N)` off `expected`, giving N (0 without one).
fn exit_line(expected: &mut Vec<String>) -> i32 {
    let code = expected.last().and_then(|l| l.strip_prefix("(exit ")?.strip_suffix(')')?.parse().ok());
    if let Some(code) = code {
        expected.pop();
        return code;
    }
    0
}

/// Whether `actual` matches `pattern`, where `[..]` stands for any text.
fn line_matches(pattern: &str, actual: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (n, part) in parts.iter().enumerate() {
        if n + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether `actual` matches `expected`, where a line `...` stands for any lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((p, rest)) if p.trim_end() == "..." => (0..=actual.len()).any(|n| lines_match(rest, &actual[n..])),
        Some((p, rest)) => {
            !actual.is_empty() && line_matches(p.trim_end(), actual[0].trim_end()) && lines_match(rest, &actual[1..])
        }
    }
}

/// What one command printed, its lines' trailing blanks trimmed, and its exit code.
struct Ran {
    lines: Vec<String>,
    code: Option<i32>,
}

/// A sandbox: an empty work folder and a home, under a temporary directory.
fn sandbox() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["work", "home", "out"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// The shell script running `cases` in order, each one's output and status into `out/<n>`.
fn script(cases: &[Case]) -> String {
    let mut s = String::from("cd \"$SANDBOX/work\"\n");
    for (n, case) in cases.iter().enumerate() {
        s.push_str(&format!(
            "{{ {}\n}} >\"$SANDBOX/out/{n}\" 2>&1 </dev/null; echo $? >\"$SANDBOX/out/{n}.rc\"\n",
            case.command
        ));
    }
    s.push_str("kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; exit 0\n");
    s
}

/// Runs the cases of one page in one shell, with a fixed identity and clock.
fn run(cases: &[Case]) -> Vec<Ran> {
    let (_dir, sandbox) = sandbox();
    let bin = Path::new(env!("CARGO_BIN_EXE_agentver")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut child = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &script(cases)])
        .env_clear()
        .envs(IDENTITY.iter().copied())
        .env("PATH", path)
        .env("HOME", sandbox.join("home"))
        .env("SANDBOX", &sandbox)
        .env("AGENTVER_SOURCE", ROOT)
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let timed_out = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        if Instant::now() > deadline {
            break true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever the page started in the background (a server) goes with its shell.
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
    let _ = child.wait();
    assert!(!timed_out, "the page's commands took over 300 s");
    (0..cases.len()).map(|n| ran(&sandbox.join("out"), n)).collect()
}

fn ran(out: &Path, n: usize) -> Ran {
    let text = std::fs::read(out.join(n.to_string())).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let code = std::fs::read_to_string(out.join(format!("{n}.rc"))).ok().and_then(|c| c.trim().parse().ok());
    Ran { lines, code }
}

/// The differences between a page and what its commands printed, one paragraph per case.
fn differences(page: &str, cases: &[Case], ran: &[Ran]) -> Vec<String> {
    let mut found = Vec::new();
    for (case, ran) in cases.iter().zip(ran) {
        let actual: Vec<&str> = ran.lines.iter().map(String::as_str).collect();
        let code_ok = if case.hidden { ran.code == Some(0) } else { ran.code == Some(case.code) };
        if code_ok && (case.hidden || lines_match(&case.expected, &actual)) {
            continue;
        }
        found.push(format!(
            "{page}:{}: $ {}\n--- the page shows (exit {}):\n{}\n--- it printed (exit {}):\n{}\n",
            case.line,
            case.command,
            case.code,
            case.expected.join("\n"),
            ran.code.map_or("none: the shell stopped".into(), |c| c.to_string()),
            ran.lines.join("\n"),
        ));
    }
    found
}

/// Rewrites the outputs of the cases that differ with what they printed.
fn bless(path: &Path, cases: &[Case], ran: &[Ran]) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (case, ran) in cases.iter().zip(ran).rev() {
        let actual: Vec<&str> = ran.lines.iter().map(String::as_str).collect();
        let code = ran.code.unwrap_or(-1);
        if case.hidden || (code == case.code && lines_match(&case.expected, &actual)) {
            continue;
        }
        let mut new: Vec<String> = ran.lines.clone();
        if code != 0 {
            new.push(format!("(exit {code})"));
        }
        if !new.is_empty() && lines.get(case.span.1).is_some_and(|l| l.starts_with("$ ")) {
            new.push(String::new());
        }
        lines.splice(case.span.0..case.span.1, new);
    }
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// README.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    let mut dirs = vec![Path::new(ROOT).join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

#[test]
fn every_command_in_the_docs_prints_what_the_docs_show() {
    crate::env::ensure_packages(&[("curl", "curl"), ("openssl", "openssl"), ("python3", "python3")]);
    let blessing = std::env::var_os("DOCS_BLESS").is_some();
    let mut found = Vec::new();
    let mut total = 0;
    for path in pages() {
        let cases = parse(&std::fs::read_to_string(&path).unwrap());
        if cases.is_empty() {
            continue;
        }
        total += cases.len();
        let ran = run(&cases);
        let page = path.strip_prefix(ROOT).unwrap().display().to_string();
        found.extend(differences(&page, &cases, &ran));
        if blessing {
            bless(&path, &cases, &ran);
        }
    }
    assert!(total > 100, "only {total} commands found in the docs: is the parser reading them?");
    assert!(found.is_empty(), "{} of {total} doc commands differ:\n\n{}", found.len(), found.join("\n"));
}

#[test]
fn the_docs_parser_reads_commands_outputs_and_exit_codes() {
    let page = "text\n```console\n$ echo a \\\n  b\na b\n\n$ false\n(exit 1)\n```\n<!-- docs-test\n$ true\n-->\n";
    let cases = parse(page);
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0].command, "echo a \\\n  b");
    assert_eq!(cases[0].expected, ["a b"]);
    assert_eq!((cases[1].code, cases[1].expected.len()), (1, 0));
    assert!(cases[2].hidden && !cases[0].hidden);
    let ran = run(&cases);
    assert!(differences("page", &cases, &ran).is_empty());
    let wrong = parse("```console\n$ echo a\nb\n```\n");
    assert_eq!(differences("page", &wrong, &run(&wrong)).len(), 1);
}

#[test]
fn doc_wildcards_match_text_and_lines_and_nothing_else() {
    assert!(line_matches("tree [..] ok", "tree 12ab ok"));
    assert!(line_matches("a[..]", "abc"));
    assert!(!line_matches("a[..]c", "abd"));
    assert!(!line_matches("abc", "abcd"));
    let p = |s: &[&str]| s.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&p(&["a", "...", "d"]), &["a", "b", "c", "d"]));
    assert!(lines_match(&p(&["a", "...", "d"]), &["a", "d"]));
    assert!(!lines_match(&p(&["a", "...", "d"]), &["a", "b"]));
    assert!(!lines_match(&p(&["a"]), &["a", "b"]));
}
