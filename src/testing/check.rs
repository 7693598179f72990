//! The checks of a test on what the agent said and did: on one reply (`expect`) and on the whole
//! conversation (`evaluate`). Each returns `None` when it holds, else the one line saying why
//! not, quoting what the agent said. The judge's verdicts are asked for by the caller.

use serde_json::Value as Json;

use crate::format::model::test::{Expect, Matcher, NoTool, ToolCallCheck};

/// A tool call the agent made: its name and arguments (a string when they were not JSON).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Call {
    pub name: String,
    pub arguments: Json,
}

/// One reply of the agent: what it said and the tools it called for it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Reply {
    pub text: String,
    pub calls: Vec<Call>,
}

/// A reply quoted in a message, at most 160 characters, on one line.
pub fn quote(text: &str) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let short: String = flat.chars().take(160).collect();
    if short.len() < flat.len() { format!("\"{short}…\"") } else { format!("\"{short}\"") }
}

/// The checks of `expect` that need no model, on `reply`.
pub fn expect(reply: &Reply, e: &Expect) -> Option<String> {
    let lower = reply.text.to_lowercase();
    if let Some(missing) = e.contains.iter().find(|s| !lower.contains(&s.to_lowercase())) {
        return Some(format!("contains '{missing}': the reply was {}", quote(&reply.text)));
    }
    if let Some(found) = e.not_contains.iter().find(|s| lower.contains(&s.to_lowercase())) {
        return Some(format!("not_contains '{found}': the reply was {}", quote(&reply.text)));
    }
    if let Some(pattern) = &e.regex
        && !regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(&reply.text))
    {
        return Some(format!("regex /{pattern}/: the reply was {}", quote(&reply.text)));
    }
    if let Some(max) = e.max_words {
        let words = reply.text.split_whitespace().count() as u64;
        if words > max {
            return Some(format!("max_words {max}: the reply has {words} words"));
        }
    }
    if let Some(check) = &e.tool_call
        && let Some(why) = called(&reply.calls, check)
    {
        return Some(format!("tool_call {}: {why}", check.name));
    }
    match &e.no_tool_call {
        Some(NoTool::Any) if !reply.calls.is_empty() => {
            Some(format!("no_tool_call: the agent called {}", names(&reply.calls)))
        }
        Some(NoTool::Named(n)) if reply.calls.iter().any(|c| &c.name == n) => {
            Some(format!("no_tool_call {n}: the agent called it"))
        }
        _ => None,
    }
}

fn names(calls: &[Call]) -> String {
    if calls.is_empty() {
        "no tool".into()
    } else {
        calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Whether one of `calls` is `check`'s tool with matching arguments; else why not.
pub fn called(calls: &[Call], check: &ToolCallCheck) -> Option<String> {
    let same: Vec<&Call> = calls.iter().filter(|c| c.name == check.name).collect();
    if same.is_empty() {
        return Some(format!("not called (the agent called {})", names(calls)));
    }
    let mut why = None;
    for call in same {
        match arguments_match(&call.arguments, check) {
            None => return None,
            Some(w) => why = Some(w),
        }
    }
    why
}

fn arguments_match(arguments: &Json, check: &ToolCallCheck) -> Option<String> {
    for (name, matcher) in &check.arguments {
        let Some(value) = arguments.get(name) else {
            return Some(format!("called without '{name}' (arguments {arguments})"));
        };
        let as_text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        let holds = match matcher {
            Matcher::Any => true,
            Matcher::Equals(want) => value == want || (value.as_f64().is_some() && value.as_f64() == want.as_f64()),
            Matcher::Regex(pattern) => regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(&as_text)),
        };
        if !holds {
            let wanted = match matcher {
                Matcher::Equals(want) => format!("equal {want}"),
                Matcher::Regex(pattern) => format!("match /{pattern}/"),
                Matcher::Any => String::new(),
            };
            return Some(format!("'{name}' is {value}, which does not {wanted}"));
        }
    }
    None
}

/// Whether an extracted value is the one a test wants (numbers by value, text ignoring case and
/// the spaces around it).
pub fn same_value(got: &Json, want: &Json) -> bool {
    match (got, want) {
        (Json::String(a), Json::String(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (a, b) if a.as_f64().is_some() => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn reply(text: &str, calls: Vec<Call>) -> Reply {
        Reply { text: text.into(), calls }
    }

    #[test]
    fn each_check_says_what_it_saw() {
        let r = reply("The Pro plan is $99 a month.", vec![]);
        let e = Expect { not_contains: vec!["$".into()], ..Expect::default() };
        assert_eq!(expect(&r, &e).unwrap(), "not_contains '$': the reply was \"The Pro plan is $99 a month.\"");
        let e = Expect { contains: vec!["PRO PLAN".into()], max_words: Some(3), ..Expect::default() };
        assert_eq!(expect(&r, &e).unwrap(), "max_words 3: the reply has 7 words");
        let e = Expect { regex: Some(r"\$\d+".into()), no_tool_call: Some(NoTool::Any), ..Expect::default() };
        assert_eq!(expect(&r, &e), None);
    }

    #[test]
    fn tool_calls_are_matched_by_name_and_arguments() {
        let calls =
            vec![Call { name: "book".into(), arguments: serde_json::json!({"date": "2026-12-09T10:00", "n": 2}) }];
        let mut arguments = BTreeMap::new();
        arguments.insert("date".to_owned(), Matcher::Regex("10:00".into()));
        arguments.insert("n".to_owned(), Matcher::Equals(serde_json::json!(2.0)));
        let check = ToolCallCheck { name: "book".into(), arguments: arguments.clone() };
        assert_eq!(called(&calls, &check), None);
        arguments.insert("date".to_owned(), Matcher::Regex("11:00".into()));
        let check = ToolCallCheck { name: "book".into(), arguments };
        assert_eq!(called(&calls, &check).unwrap(), "'date' is \"2026-12-09T10:00\", which does not match /11:00/");
        let other = ToolCallCheck { name: "cancel".into(), arguments: BTreeMap::new() };
        assert_eq!(called(&calls, &other).unwrap(), "not called (the agent called book)");
        assert!(same_value(&serde_json::json!(" Yes "), &serde_json::json!("yes")));
    }
}
