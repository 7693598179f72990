//! Generated repositories for the benchmarks: N agents × M versions in agentver's own tag format,
//! written with `git fast-import` (seconds even at 100,000 tags), and the git helpers they use.

#![allow(dead_code)]

pub mod load;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use agentver::names::tagmessage::{TagMessage, commit_message, default_label};

pub const TOOL: &str = "name: book_appointment\ndescription: Books a demo slot.\ntype: webhook\nurl: https://hooks.example.com/book\nparameters: {type: object, properties: {date: {type: string}}}\n";

pub fn agent_yaml(id: &str, version: u64) -> String {
    format!(
        "# {id}\nname: Agent {id}\nllm:\n  provider: openai\n  model: gpt-4o\n  temperature: 0.3\n  max_tokens: 400\nprompt:\n  system: |\n    You are a helpful voice agent for {id}.\n    Keep answers short; callers are listening.\n  welcome_message: \"Hello, how can I help? (revision {})\"\nspeech: {{language: en-US, tts: {{provider: elevenlabs, voice_id: rachel}}}}\ntools: [book_appointment]\n",
        version
    )
}

pub fn agent_id(i: usize) -> String {
    format!("agent-{i:04}")
}

pub struct Repo {
    pub dir: PathBuf,
    pub agents: usize,
    pub versions: u64,
}

pub fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    hermetic(&mut cmd);
    cmd
}

pub fn hermetic(cmd: &mut Command) {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("NO_COLOR", "1");
}

pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.stderr(Stdio::piped()).stdout(Stdio::piped()).output().expect("spawn");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A repository with `agents` agents of `versions` versions each, drafts equal to latest, and a
/// channels.toml pinning ten channels per agent.
pub fn generate(root: &Path, agents: usize, versions: u64) -> Repo {
    let dir = root.join(format!("r{agents}x{versions}"));
    std::fs::create_dir_all(&dir).unwrap();
    run_ok(git(&dir).args(["init", "-q", "-b", "main"]));
    let mut child = git(&dir)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        let mut stream = std::io::BufWriter::new(child.stdin.take().unwrap());
        write_versions(&mut stream, agents, versions);
    }
    assert!(child.wait().unwrap().success(), "fast-import failed");
    let refs = run_ok(git(&dir).args(["for-each-ref", "--format=delete %(refname)", "refs/agentver-gen/"]));
    run_with_input(git(&dir).args(["update-ref", "--stdin"]), &refs);
    write_drafts(&dir, agents, versions);
    run_ok(git(&dir).args(["add", "-A"]));
    run_ok(git(&dir).args(["commit", "-q", "-m", "drafts"]));
    Repo { dir, agents, versions }
}

/// One fast-import `data` command.
fn data(s: &mut dyn std::io::Write, bytes: &[u8]) {
    writeln!(s, "data {}", bytes.len()).unwrap();
    s.write_all(bytes).unwrap();
    s.write_all(b"\n").unwrap();
}

/// Every version as agentver writes it: a snapshot commit (parent = the previous version's) and
/// an annotated tag, with the library's own commit and tag messages.
fn write_versions(stream: &mut dyn std::io::Write, agents: usize, versions: u64) {
    writeln!(stream, "blob\nmark :1").unwrap();
    data(stream, TOOL.as_bytes());
    let mut mark = 2u64;
    let t0 = 1_790_000_000u64;
    for a in 0..agents {
        let id = agent_id(a);
        let mut parent: Option<u64> = None;
        for v in 1..=versions {
            let when = t0 + v * 60 + a as u64;
            let (blob, commit) = (mark, mark + 1);
            mark += 2;
            writeln!(stream, "blob\nmark :{blob}").unwrap();
            data(stream, agent_yaml(&id, v).as_bytes());
            writeln!(stream, "commit refs/agentver-gen/{id}\nmark :{commit}").unwrap();
            writeln!(stream, "author Bench <bench@example.com> {when} +0000").unwrap();
            writeln!(stream, "committer Bench <bench@example.com> {when} +0000").unwrap();
            let label = default_label(&id, v);
            data(stream, commit_message(&id, &label).as_bytes());
            if let Some(p) = parent {
                writeln!(stream, "from :{p}").unwrap();
            }
            writeln!(stream, "deleteall\nM 100644 :{blob} agents/{id}.yaml\nM 100644 :1 tools/book_appointment.yaml")
                .unwrap();
            writeln!(stream, "\ntag agent/{id}/v{v}\nfrom :{commit}\ntagger Bench <bench@example.com> {when} +0000")
                .unwrap();
            let message = TagMessage {
                label,
                agent: Some(id.clone()),
                version: Some(v),
                source: Some(format!("{}+dirty", "0".repeat(40))),
                ..TagMessage::default()
            };
            data(stream, message.format().as_bytes());
            parent = Some(commit);
        }
    }
    writeln!(stream, "done").unwrap();
}

/// The work tree: every draft equal to its latest version, and ten channels per agent.
fn write_drafts(dir: &Path, agents: usize, versions: u64) {
    std::fs::create_dir_all(dir.join("agents")).unwrap();
    std::fs::create_dir_all(dir.join("tools")).unwrap();
    std::fs::write(dir.join("tools/book_appointment.yaml"), TOOL).unwrap();
    let mut channels = String::from("# Generated channels\n");
    for a in 0..agents {
        let id = agent_id(a);
        std::fs::write(dir.join(format!("agents/{id}.yaml")), agent_yaml(&id, versions)).unwrap();
        for c in 0..10 {
            let number = 14_150_000_000u64 + (a * 10 + c) as u64;
            let _ = writeln!(
                channels,
                "\n[channels.\"+{number}\"]\nagent = \"{id}\"\nversion = {}",
                versions - (c as u64 % versions)
            );
        }
    }
    std::fs::write(dir.join("channels.toml"), channels).unwrap();
}

/// Runs `cmd` with `input` on its stdin; panics when it fails.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Rewrites only the block between `<!-- NAME:start -->` and `<!-- NAME:end -->` in `path`
/// (appending it when absent), so each benchmark keeps the others' results.
pub fn write_block(path: &str, name: &str, results: &str) {
    let (start, end) = (format!("<!-- {name}:start -->"), format!("<!-- {name}:end -->"));
    let block = format!("{start}\n{results}{end}\n");
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let doc = match (existing.find(&start), existing.find(&end)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{block}{}", &existing[..a], existing[b + end.len()..].trim_start_matches('\n'))
        }
        _ if existing.trim().is_empty() => block,
        _ => format!("{}\n\n{block}", existing.trim_end()),
    };
    std::fs::write(path, doc).unwrap();
}
