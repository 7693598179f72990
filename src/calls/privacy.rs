//! Callers' numbers and transcripts: what never reaches the store in the clear.
//!
//! A number is kept as `h:` and a keyed hash (HMAC-SHA256, so it cannot be found by hashing every
//! number) unless `[calls] keep_caller_numbers = true`. In a raw body kept for audit, every value
//! under a key that names a number (`number`, `from_number`, `external_number`, `caller`, …) is
//! hashed whatever it looks like, and any phone number written inside any other text is replaced by
//! its hash where it stands. Transcripts are removed from raw bodies unless `[calls]
//! keep_transcripts = true`: they are the bulk of a long call's report and the most personal part.

use std::borrow::Cow;

use serde_json::Value;
use sha2::Sha256;

use super::hex;

/// How caller numbers are kept.
#[derive(Clone)]
pub enum Callers {
    Hash([u8; 32]),
    Keep,
}

impl Callers {
    /// What names the key without telling it (an HMAC of a fixed text under the key): servers
    /// sharing a store must hash callers alike, so the store keeps this and compares.
    pub fn fingerprint(&self) -> String {
        use hmac::Mac;
        match self {
            Callers::Keep => "kept".to_owned(),
            Callers::Hash(key) => {
                let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("any key length");
                mac.update(b"agentver caller-key fingerprint");
                format!("hmac-sha256:{}", hex(&mac.finalize().into_bytes()[..8]))
            }
        }
    }

    /// The form a number is stored in.
    pub fn apply(&self, number: &str) -> String {
        use hmac::Mac;
        match self {
            Callers::Keep => number.to_owned(),
            Callers::Hash(key) => {
                let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("any key length");
                mac.update(number.as_bytes());
                let bytes = mac.finalize().into_bytes();
                format!("h:{}", hex(&bytes[..16]))
            }
        }
    }
}

/// What the store may keep of a report.
#[derive(Clone)]
pub struct Privacy {
    pub callers: Callers,
    pub keep_transcripts: bool,
}

/// Keys whose value is a transcript (Vapi's artifact and call messages, Retell's transcript
/// objects, ElevenLabs' turns).
const TRANSCRIPTS: &[&str] = &[
    "transcript",
    "transcript_object",
    "transcript_with_tool_calls",
    "scrubbed_transcript_with_tool_calls",
    "messages",
    "messagesOpenAIFormatted",
];

/// Keys whose string value is a phone number or a caller's identity, on any platform.
const NUMBERS: &[&str] = &[
    "number",
    "from_number",
    "to_number",
    "external_number",
    "agent_number",
    "caller",
    "caller_id",
    "called_number",
    "phone_number",
    "From",
    "To",
    "Caller",
    "Called",
];

impl Privacy {
    /// The stored form of a caller value: hashed unless numbers are kept (a value agentver did
    /// not hash itself is always hashed, whatever it looks like).
    pub fn caller(&self, number: &str) -> String {
        self.callers.apply(number)
    }

    /// Makes a raw body safe to keep: transcripts removed and numbers hashed, as configured.
    pub fn scrub(&self, value: &mut Value) {
        match value {
            Value::Object(fields) => {
                if !self.keep_transcripts {
                    fields.retain(|k, _| !TRANSCRIPTS.contains(&k.as_str()));
                }
                for (key, v) in fields.iter_mut() {
                    match v {
                        Value::String(s) if self.hashes() && NUMBERS.contains(&key.as_str()) && !s.is_empty() => {
                            *s = self.caller(s);
                        }
                        _ => self.scrub(v),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub(v)),
            Value::String(s) => {
                if let Cow::Owned(t) = self.scrub_text(s) {
                    *s = t;
                }
            }
            _ => {}
        }
    }

    fn hashes(&self) -> bool {
        matches!(self.callers, Callers::Hash(_))
    }

    /// `text` with every phone number written in it replaced by its hash (unless kept).
    pub fn scrub_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !self.hashes() {
            return Cow::Borrowed(text);
        }
        let found = phone_numbers(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in found {
            out.push_str(&text[at..start]);
            let digits: String = text[start..end].chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
            out.push_str(&self.caller(&digits));
            at = end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }
}

/// Byte ranges of what looks like a phone number in `text`: digit groups joined by single
/// separators (space, `-`, `.`, parentheses), 10 to 15 digits, or 8 to 15 after a `+`. Groups are
/// tried from the left, each as the start of the longest number that fits, so a number next to a
/// date or another figure is still found.
fn phone_numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    // Digit groups: (start, end, digits, joined to the previous group by one separator, plus).
    let mut groups: Vec<(usize, usize, usize, bool, bool)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let plus = start > 0 && bytes[start - 1] == b'+';
        let joined = groups.last().is_some_and(|g| {
            let gap = &bytes[g.1..start];
            let gap = gap.strip_suffix(b"+").unwrap_or(gap);
            (1..=2).contains(&gap.len()) && gap.iter().all(|b| b" -.()".contains(b))
        });
        groups.push((if plus { start - 1 } else { start }, i, i - start, joined, plus));
    }
    let mut found = Vec::new();
    let mut g = 0;
    while g < groups.len() {
        let mut digits = 0;
        let mut best = None;
        for (k, group) in groups.iter().enumerate().skip(g) {
            if k > g && !group.3 {
                break;
            }
            digits += group.2;
            if digits > 15 {
                break;
            }
            let enough = if groups[g].4 { 8 } else { 10 };
            if digits >= enough {
                best = Some(k);
            }
        }
        match best {
            Some(k) => {
                found.push((groups[g].0, groups[k].1));
                g = k + 1;
            }
            None => g += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn privacy() -> Privacy {
        Privacy { callers: Callers::Hash([7; 32]), keep_transcripts: false }
    }

    #[test]
    fn numbers_are_found_where_they_are_written() {
        let p = privacy();
        let h = p.caller("+14155550123");
        assert_eq!(p.scrub_text("call +1 (415) 555-0123 back"), format!("call {h} back"));
        assert_eq!(p.scrub_text("+14155550123"), h);
        assert_eq!(p.scrub_text("sip:+14155550123@pbx.example.com"), format!("sip:{h}@pbx.example.com"));
        // Next to a date, the number is still found.
        assert!(!p.scrub_text("2026-11-30 4155550123").contains("4155550123"));
        // Dates, times, short figures and ids are left alone.
        for text in ["2026-11-30T10:00:00.000Z", "booked 3 seats for 120 dollars", "CA1234", "v=17"] {
            assert_eq!(p.scrub_text(text), text);
        }
    }

    #[test]
    fn raw_bodies_lose_transcripts_and_numbers() {
        let p = privacy();
        let mut body = json!({"call": {"from_number": "anonymous", "to_number": "+14155550100",
            "transcript": "hello", "transcript_object": [{"words": []}],
            "customer": {"number": "+16505550123"}, "note": "reach me on +44 20 7946 0958"},
            "caller": "h:+14155550123 raw"});
        p.scrub(&mut body);
        let text = body.to_string();
        for gone in ["anonymous", "4155550100", "6505550123", "7946", "hello", "transcript", "+14155550123 raw"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert_eq!(body["call"]["customer"]["number"], json!(p.caller("+16505550123")));
        let keep = Privacy { callers: Callers::Keep, keep_transcripts: true };
        let mut body = json!({"transcript": "hello", "number": "+16505550123"});
        keep.scrub(&mut body);
        assert_eq!(body, json!({"transcript": "hello", "number": "+16505550123"}));
    }
}
