//! Whole screens as insta snapshots (`tests/cli/snapshots/`): a command's stdout, stderr and exit
//! status together. Each command's file snapshots its human and JSON output and the error people
//! hit first. Three filters make a screen depend on what the command does, not on where or when
//! it ran: the temporary folder becomes `[TMP]`, every date-time `[date]`, and every object id or
//! digest `[hash-N]`, numbered in order of appearance so that equal ids stay visibly equal (a
//! short id takes the number of the full id it abbreviates). Runs are hermetic besides.
//!
//! After an intended change of output, run `INSTA_UPDATE=always cargo test --test cli` and review
//! the diff of the .snap files.

use crate::env::TestEnv;

/// One command's whole result, filtered.
pub fn screen(env: &TestEnv, args: &[&str]) -> String {
    let run = env.av(args);
    let text = format!(
        "$ agentver {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    filtered(env, &text)
}

/// `text` with the temporary folder, date-times and ids filtered, as in every screen.
pub fn filtered(env: &TestEnv, text: &str) -> String {
    let tmp = env.root.parent().unwrap().display().to_string();
    hashes(&dates(&text.replace(&tmp, "[TMP]")))
}

/// Snapshots `agentver ARGS…` run in `env` under `name`.
macro_rules! snap {
    ($env:expr, $name:expr, $($arg:expr),+ $(,)?) => {
        insta::assert_snapshot!($name, $crate::screen::screen(&$env, &[$($arg),+]))
    };
}
pub(crate) use snap;

/// `2026-11-01T10:00:00+00:00`, `2026-11-20T10:00:00.000Z` and the like become `[date]`.
fn dates(text: &str) -> String {
    let bytes = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let fits = |at: usize| {
        at + shape.len() <= bytes.len()
            && shape.iter().zip(&bytes[at..]).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b })
    };
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if !fits(i) {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        i += shape.len();
        if bytes.get(i) == Some(&b'.') {
            i += 1 + bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        }
        match bytes.get(i) {
            Some(b'Z') => i += 1,
            Some(b'+' | b'-') if i + 6 <= bytes.len() && bytes[i + 3] == b':' => i += 6,
            _ => {}
        }
        out.push_str("[date]");
    }
    out
}

/// Hex words of 7 to 64 characters holding a digit and a letter (object ids, their short forms,
/// digests) become `[hash-N]`; phone numbers and words like "added" are left alone.
fn hashes(text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut word = String::new();
    let mut flush = |word: &mut String, out: &mut String| {
        let hex = (7..=64).contains(&word.len())
            && word.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && word.bytes().any(|b| b.is_ascii_digit())
            && word.bytes().any(|b| b.is_ascii_alphabetic());
        if hex {
            let n = match seen.iter().position(|s| s.starts_with(word.as_str()) || word.starts_with(s.as_str())) {
                Some(n) => {
                    if word.len() > seen[n].len() {
                        seen[n] = word.clone();
                    }
                    n
                }
                None => {
                    seen.push(word.clone());
                    seen.len() - 1
                }
            };
            out.push_str(&format!("[hash-{}]", n + 1));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The example config with every agent published as v1 ("Launch").
pub fn published() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "--all", "-m", "Launch"]).ok();
    env
}

/// [`published`], then sales edited (warmer, no price quotes) and published as v2 ("Warmer").
pub fn two_versions() -> TestEnv {
    let env = published();
    warmer(&env);
    env.av(&["publish", "sales", "-m", "Warmer"]).ok();
    env
}

/// Edits sales's draft: a higher temperature and a reworded prompt line.
pub fn warmer(env: &TestEnv) {
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.edit("agents/sales.yaml", "Never quote prices", "Do not quote prices");
}

/// [`two_versions`] with 80 calls imported on the sales split (`old` = v1, `new` = v2), with
/// fixed ids and times.
pub fn with_calls() -> TestEnv {
    let env = two_versions();
    env.av(&["ab", "+14155550199", "old=sales@v1:50", "new=sales@v2:50", "--salt", "s1"]).ok();
    env.commit_all("split sales");
    let v1_tree = env.rev("agent/sales/v1^{tree}");
    let v2_tree = env.rev("agent/sales/v2^{tree}");
    let lines: String = (0..80)
        .map(|i| {
            let (version, tree, variant) = if i % 2 == 0 { (1, &v1_tree, "old") } else { (2, &v2_tree, "new") };
            format!(
                "{{\"call_id\": \"c-{i:02}\", \"agent\": \"sales\", \"version\": {version}, \"tree\": \"{tree}\", \"channel\": \"+14155550199\", \"variant\": \"{variant}\", \"started_at\": \"2026-11-{:02}T{:02}:00:00Z\", \"duration_ms\": {}, \"success\": {}, \"sentiment\": \"positive\", \"analysis\": {{\"demo_booked\": {}}}}}\n",
                1 + i / 4,
                8 + i % 4,
                60_000 + i * 1000,
                i % 3 != 0,
                i % 4 == 0
            )
        })
        .collect();
    env.write("../calls.jsonl", &lines);
    env.av(&["calls", "import", "../calls.jsonl"]).ok();
    env
}

#[test]
fn the_filters_hide_only_what_varies() {
    let id = "12075afc0ae4d4ad2a0f0c6f4b0bd3e0a77b6f15";
    let other = "9f3c1a0b2d4e6f8091a2b3c4d5e6f708192a3b4c";
    let text = format!("tree {} of {id}, then {other}; added +14155550100 at 2026-11-01T10:00:00+00:00", &id[..12]);
    assert_eq!(hashes(&dates(&text)), "tree [hash-1] of [hash-1], then [hash-2]; added +14155550100 at [date]");
    assert_eq!(dates("2026-11-20T10:00:00.000Z, 2026-11-20"), "[date], 2026-11-20");
    assert_eq!(hashes("deadbeef cafe 1234567 abc1234"), "deadbeef cafe 1234567 [hash-1]");
}
