//! A hermetic test environment: a temporary git repository holding the example config, a fixed
//! identity and clock, no system or user git config, and helpers to run agentver and git.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/agents.example");

pub struct TestEnv {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

/// What a command printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw: Vec<u8>,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn code(self, want: i32) -> Self {
        assert_eq!(self.code, want, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

fn output(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        raw: out.stdout,
    }
}

impl TestEnv {
    /// An empty git repository on branch main.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let env = TestEnv { _dir: dir, root, home };
        env.git(&["init", "-q", "-b", "main"]);
        env
    }

    /// A repository holding agents.example/, committed on main.
    pub fn example() -> Self {
        let env = TestEnv::empty();
        copy_dir(Path::new(EXAMPLE), &env.root);
        env.commit_all("initial config");
        env
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Replaces `from` with `to` in a file, failing when `from` is absent.
    #[track_caller]
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    pub fn configure(&self, cmd: &mut Command) {
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Tester")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Tester")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", "2026-11-01T10:00:00+00:00")
            .env("GIT_COMMITTER_DATE", "2026-11-01T10:00:00+00:00")
            .env("NO_COLOR", "1");
    }

    pub fn av_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentver"));
        self.configure(&mut cmd);
        cmd.args(args);
        cmd
    }

    pub fn av(&self, args: &[&str]) -> Run {
        output(self.av_cmd(args).output().unwrap())
    }

    /// Runs agentver with extra environment variables (`("NAME", None)` removes one).
    pub fn av_env(&self, args: &[&str], vars: &[(&str, Option<&str>)]) -> Run {
        let mut cmd = self.av_cmd(args);
        for (k, v) in vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        output(cmd.output().unwrap())
    }

    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        self.configure(&mut cmd);
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Runs git with `input` on its standard input; returns its trimmed stdout.
    #[track_caller]
    pub fn git_stdin(&self, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut cmd = Command::new("git");
        self.configure(&mut cmd);
        cmd.args(args).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
        let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// `git show <rev>` as raw bytes.
    pub fn git_bytes(&self, rev: &str) -> Vec<u8> {
        let mut cmd = Command::new("git");
        self.configure(&mut cmd);
        let out = cmd.args(["show", rev]).output().unwrap();
        assert!(out.status.success(), "git show {rev}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    pub fn tags(&self) -> Vec<String> {
        let out = self.git(&["tag", "-l"]);
        out.lines().map(str::to_owned).collect()
    }

    #[track_caller]
    pub fn fsck(&self) {
        self.git(&["fsck", "--strict", "--no-progress"]);
    }

    /// Adds `origin`, an empty bare repository beside the work tree; returns its path.
    pub fn add_remote(&self) -> PathBuf {
        let remote = self.root.parent().unwrap().join("remote.git");
        self.git(&["init", "-q", "--bare", "-b", "main", remote.to_str().unwrap()]);
        self.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
        remote
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }
}

/// Spawns a command with its output captured.
pub trait SpawnOutput {
    fn spawn_output(self) -> std::process::Child;
}

impl SpawnOutput for Command {
    fn spawn_output(mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Installs the Debian packages whose programs a test runs, where they are missing and the tests
/// run as root, as `.ci/run` does, so `cargo test` alone works on a fresh machine. Each wanted
/// item is (a program, or an absolute path, that proves the package is there; the package).
/// Elsewhere (not root, or no apt-get) nothing is installed and the test says what is missing.
pub fn ensure_packages(wanted: &[(&str, &str)]) {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let present = |probe: &str| {
        match probe.strip_prefix("python3:") {
            Some(module) => Command::new("/usr/bin/python3").args(["-c", &format!("import {module}")]).output(),
            None if probe.starts_with('/') => return Path::new(probe).exists(),
            None => Command::new("sh").args(["-c", &format!("command -v {probe}")]).output(),
        }
        .is_ok_and(|o| o.status.success())
    };
    let _apt = APT.lock().unwrap_or_else(|e| e.into_inner());
    let missing: Vec<&str> = wanted.iter().filter(|(probe, _)| !present(probe)).map(|(_, pkg)| *pkg).collect();
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if missing.is_empty() || !root {
        return;
    }
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        install();
    }
}
