//! One value of a YAML file set in place, everything else kept byte for byte (comments, order,
//! other values' quoting): what the console's headline-fields form writes with. Every edit is
//! read back before it is returned: the result must read as the old document with that one
//! value changed, or the edit is refused and the caller writes nothing.

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::Value as Json;

use crate::format::yaml;

/// A value the form sets.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Text(String),
    Number(f64),
}

impl Scalar {
    fn json(&self) -> Json {
        match self {
            Scalar::Text(s) => Json::String(s.clone()),
            // `400` reads back as an integer: so is the expectation.
            Scalar::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Json::from(*n as i64),
            Scalar::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        }
    }
}

/// Why a value could not be set in place (the file is to be edited as text instead).
#[derive(Debug, thiserror::Error)]
#[error("'{path}' cannot be set here: {reason}")]
pub struct EditError {
    pub path: String,
    pub reason: String,
}

/// `text` with the value at `path` (mapping keys from the root) set to `value`. A missing last key
/// is added as the first entry of its mapping when that mapping is written in block style.
pub fn set(text: &str, path: &[&str], value: &Scalar) -> Result<String, EditError> {
    let fail = |reason: &str| EditError { path: path.join("."), reason: reason.to_owned() };
    let before = read(text).map_err(|e| fail(&format!("the file does not read as YAML ({e})")))?;
    let Some((last, parent)) = path.split_last() else { return Err(fail("no field named")) };
    let edited = match find(text, path, parent).map_err(|e| fail(&e))? {
        Spot::Scalar { start, end, style, key_col, flow } => {
            let (mut start, mut end) = (byte_at(text, start), byte_at(text, end));
            let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
            if block {
                // A block scalar's span runs from its first line's text to the indentation of
                // the line after it: the edit runs from its `|` or `>` to that line's start.
                start = text[..start].rfind(['|', '>']).ok_or_else(|| fail("a block without its indicator"))?;
                let line = text[..end].rfind('\n').map_or(0, |i| i + 1);
                if text[line..end].chars().all(|c| c == ' ') {
                    end = line;
                }
            }
            let mut new = render(value, key_col, flow, block);
            if text[..end].ends_with('\n') && !new.ends_with('\n') {
                new.push('\n');
            }
            if !text[..end].ends_with('\n') && new.ends_with('\n') && block {
                new.pop();
            }
            format!("{}{new}{}", &text[..start], &text[end..])
        }
        Spot::Parent { first_key: Some((index, col)), flow: false } => {
            let at = byte_at(text, index);
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if !text[line_start..at].chars().all(|c| c == ' ') {
                return Err(fail("its mapping starts on a list item's line; edit the file as text"));
            }
            let mut entry = format!("{}{last}: {}", &text[line_start..at], render(value, col, false, false));
            if !entry.ends_with('\n') {
                entry.push('\n');
            }
            format!("{}{entry}{}", &text[..line_start], &text[line_start..])
        }
        Spot::Parent { .. } => return Err(fail("its mapping is written inline ({…}) or empty; edit the file as text")),
        Spot::Missing => return Err(fail(&format!("the file has no '{}' to hold it", parent.join(".")))),
        Spot::NotScalar => return Err(fail("it holds a list or a mapping, not one value")),
    };
    let mut want = before;
    let mut at = &mut want;
    for key in parent {
        at = at.get_mut(*key).ok_or_else(|| fail("the parent vanished"))?;
    }
    at.as_object_mut().ok_or_else(|| fail("its parent is not a mapping"))?.insert((*last).to_owned(), value.json());
    match read(&edited) {
        Ok(got) if got == want => Ok(edited),
        _ => Err(fail("the file's layout there is one this form does not edit safely; edit the file as text")),
    }
}

fn read(text: &str) -> Result<Json, String> {
    yaml::parse(text).and_then(|n| n.to_json()).map_err(|e| match e.line {
        Some(line) => format!("line {line}: {}", e.message),
        None => e.message,
    })
}

/// Where a value is, in characters (saphyr's markers count characters, not bytes).
enum Spot {
    Scalar {
        start: usize,
        end: usize,
        style: ScalarStyle,
        key_col: usize,
        flow: bool,
    },
    /// The value is absent; its mapping is there (its first key's index and column, if any).
    Parent {
        first_key: Option<(usize, usize)>,
        flow: bool,
    },
    Missing,
    NotScalar,
}

struct Level {
    map: bool,
    flow: bool,
    /// The key whose value comes next (a mapping), with its column.
    key: Option<(String, usize)>,
    first_key: Option<(usize, usize)>,
}

/// Walks the events to the value at `path` (or, when it is absent, to its parent mapping).
fn find(text: &str, path: &[&str], parent: &[&str]) -> Result<Spot, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut stack: Vec<Level> = Vec::new();
    let mut parent_spot = None;
    let mut parser = Parser::new_from_str(text);
    // A list's level is `[]` in the path, so nothing inside a list matches a path of keys.
    let here = |stack: &[Level]| -> Vec<String> {
        stack
            .iter()
            .filter_map(|l| if l.map { l.key.as_ref().map(|k| k.0.clone()) } else { Some("[]".into()) })
            .collect()
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| e.to_string())?;
        let (start, end) = (span.start.index(), span.end.index());
        let in_key = stack.last().is_some_and(|l| l.map && l.key.is_none());
        match event {
            Event::Scalar(name, ..) if in_key => {
                let top = stack.last_mut().expect("in a mapping");
                top.first_key.get_or_insert((start, span.start.col()));
                top.key = Some((name.into_owned(), span.start.col()));
            }
            Event::Scalar(_, style, ..) => {
                if here(&stack) == path {
                    let key_col = stack.last().and_then(|l| l.key.as_ref()).map_or(0, |k| k.1);
                    let flow = stack.last().is_some_and(|l| l.flow);
                    return Ok(Spot::Scalar { start, end, style, key_col, flow });
                }
                value_done(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if here(&stack) == path {
                    return Ok(Spot::NotScalar);
                }
                let map = matches!(event, Event::MappingStart(..));
                let flow = matches!(chars.get(start), Some('{' | '['));
                stack.push(Level { map, flow, key: None, first_key: None });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let done = stack.pop().expect("balanced events");
                if done.map && here(&stack) == parent {
                    parent_spot = Some(Spot::Parent { first_key: done.first_key, flow: done.flow });
                }
                value_done(&mut stack);
            }
            Event::Alias(_) => value_done(&mut stack),
            _ => {}
        }
    }
    Ok(parent_spot.unwrap_or(Spot::Missing))
}

/// A value of the mapping on top is complete: the next scalar is a key again.
fn value_done(stack: &mut [Level]) {
    if let Some(top) = stack.last_mut().filter(|l| l.map) {
        top.key = None;
    }
}

/// The byte offset of the `chars`-th character.
fn byte_at(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i)
}

/// `value` written for a key at column `key_col`: a literal block for text of several lines
/// (or where the file had one), plain where that reads back as the same text, else quoted.
fn render(value: &Scalar, key_col: usize, flow: bool, block: bool) -> String {
    let text = match value {
        Scalar::Number(n) => return format!("{n}"),
        Scalar::Text(t) => t,
    };
    let lines_fit = text.lines().next().is_some_and(|l| !l.starts_with([' ', '\t']))
        && !text.chars().any(|c| c.is_control() && c != '\n');
    if !flow && (block || text.contains('\n')) && lines_fit && !text.ends_with("\n\n") {
        let indent = " ".repeat(key_col + 2);
        let chomp = if text.ends_with('\n') { "" } else { "-" };
        let body: Vec<String> =
            text.lines().map(|l| if l.is_empty() { String::new() } else { format!("{indent}{l}") }).collect();
        return format!("|{chomp}\n{}\n", body.join("\n"));
    }
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_alphanumeric() || " _-.,'!?/()".contains(c))
        && !(flow && text.contains(','))
        && text.trim() == text
        && text.chars().next().is_some_and(char::is_alphanumeric)
        && yaml::parse(&format!("v: {text}")).ok().and_then(|n| n.get("v").map(|v| v.value.clone()))
            == Some(yaml::Value::Str(text.clone()));
    if plain { text.clone() } else { serde_json::to_string(text).expect("a string serializes") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# Sales\nname: Sales\nllm:\n  provider: openai\n  model: gpt-4o\n  temperature: 0.3      # 0 to 2\n\
prompt:\n  system: |\n    You are Ava.\n    Be brief.\n  welcome_message: \"Hi {{first_name}}\"\nspeech:\n  tts: {provider: elevenlabs, voice_id: rachel}\n";

    fn text(s: &str) -> Scalar {
        Scalar::Text(s.to_owned())
    }

    #[test]
    fn a_number_keeps_its_comment_and_everything_else() {
        let got = set(FILE, &["llm", "temperature"], &Scalar::Number(0.55)).unwrap();
        assert_eq!(got, FILE.replace("temperature: 0.3 ", "temperature: 0.55 "));
    }

    #[test]
    fn a_block_prompt_stays_a_block() {
        let got = set(FILE, &["prompt", "system"], &text("You are Max.\nBe kind.\n\nBook demos.\n")).unwrap();
        assert!(
            got.contains("  system: |\n    You are Max.\n    Be kind.\n\n    Book demos.\n  welcome_message:"),
            "{got}"
        );
        assert!(got.starts_with("# Sales\n") && got.contains("# 0 to 2"));
        let one_line = set(FILE, &["prompt", "system"], &text("Short.")).unwrap();
        assert!(one_line.contains("  system: |-\n    Short.\n  welcome_message"), "{one_line}");
    }

    #[test]
    fn quoted_and_inline_values_are_quoted_as_needed() {
        let got = set(FILE, &["prompt", "welcome_message"], &text("Hello: {{first_name}} # hi")).unwrap();
        assert!(got.contains("welcome_message: \"Hello: {{first_name}} # hi\"\n"), "{got}");
        let got = set(FILE, &["speech", "tts", "voice_id"], &text("adam")).unwrap();
        assert!(got.contains("tts: {provider: elevenlabs, voice_id: adam}"), "{got}");
        let got = set(FILE, &["speech", "tts", "voice_id"], &text("a, b")).unwrap();
        assert!(got.contains("voice_id: \"a, b\"}"), "{got}");
        let got = set(FILE, &["llm", "model"], &text("true")).unwrap();
        assert!(got.contains("model: \"true\"\n"), "a string that reads as a boolean is quoted: {got}");
    }

    #[test]
    fn a_missing_key_is_added_to_a_block_mapping_only() {
        let got = set(FILE, &["llm", "max_tokens"], &Scalar::Number(400.0)).unwrap();
        assert!(got.contains("llm:\n  max_tokens: 400\n  provider: openai\n"), "{got}");
        let inline = set(FILE, &["speech", "tts", "speed"], &Scalar::Number(1.1)).unwrap_err();
        assert!(inline.to_string().contains("inline"), "{inline}");
        let missing = set(FILE, &["speech", "stt", "model"], &text("nova-2")).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "'speech.stt.model' cannot be set here: the file has no 'speech.stt' to hold it"
        );
        let not_one = set(FILE, &["speech", "tts"], &text("x")).unwrap_err();
        assert!(not_one.to_string().contains("not one value"), "{not_one}");
    }

    #[test]
    fn control_characters_and_leading_spaces_are_kept_exactly() {
        for value in [" indented\nsecond", "tab\there", "bell\u{7}", "trailing\n\n", "ünïcödé → ok"] {
            let got = set(FILE, &["prompt", "system"], &text(value)).unwrap();
            let read = read(&got).unwrap();
            assert_eq!(read["prompt"]["system"], value, "{got}");
            assert_eq!(read["llm"]["temperature"], 0.3);
        }
    }

    #[test]
    fn a_block_at_the_end_of_the_file_and_a_folded_one() {
        let file = "name: X\nprompt:\n  system: >\n    folded\n    text\n";
        let got = set(file, &["prompt", "system"], &text("one\ntwo\n")).unwrap();
        assert_eq!(got, "name: X\nprompt:\n  system: |\n    one\n    two\n");
        let got = set("prompt:\n  system: |-\n    last", &["prompt", "system"], &text("new")).unwrap();
        assert_eq!(read(&got).unwrap()["prompt"]["system"], "new", "{got}");
    }
}
