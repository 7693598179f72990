//! Twilio, for self-hosted runtimes (Pipecat, LiveKit Agents) behind a Twilio number: the voice
//! webhook's form fields, its `X-Twilio-Signature`, and the TwiML that connects the call's media
//! stream to the bot with the attribution as stream parameters.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::calls::read::{BadPayload, BadSignature, bad, same};
use crate::platforms::Ask;

/// The form fields of Twilio's voice webhook, in the order sent.
pub fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The call the voice webhook announces: channel `To`, caller `From`, call id `CallSid`.
pub fn ask(fields: &[(String, String)]) -> Result<Ask, BadPayload> {
    let get = |key: &str| fields.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.clone());
    let channel = get("To").ok_or_else(|| bad("To is missing: the dialled number names the channel"))?;
    Ok(Ask { channel, caller: get("From"), call_id: get("CallSid") })
}

/// Twilio's signature: base64 HMAC-SHA1 over the exact URL Twilio requested, then every form
/// field's name and value, sorted by name.
pub fn sign(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `X-Twilio-Signature` for a request to `url`.
pub fn verify(
    auth_token: &str,
    url: &str,
    fields: &[(String, String)],
    header: Option<&str>,
) -> Result<(), BadSignature> {
    let header = header.ok_or_else(|| BadSignature("X-Twilio-Signature is missing".into()))?;
    if same(header.trim(), &sign(auth_token, url, fields)) {
        Ok(())
    } else {
        Err(BadSignature("X-Twilio-Signature does not match the URL and the form fields".into()))
    }
}

/// Text for an XML attribute value or element.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// `<Response><Connect><Stream url>` with one `<Parameter>` per attribution value.
pub fn connect(stream_url: &str, parameters: &[(&str, &str)]) -> String {
    connect_raw(&xml(stream_url), parameters)
}

/// [`connect`] with the stream URL already escaped (or a placeholder for it).
pub fn connect_raw(stream_url: &str, parameters: &[(&str, &str)]) -> String {
    let mut out = format!("{HEAD}<Response><Connect><Stream url=\"{stream_url}\">");
    for (name, value) in parameters {
        out.push_str(&format!("<Parameter name=\"{}\" value=\"{}\"/>", xml(name), xml(value)));
    }
    out.push_str("</Stream></Connect></Response>");
    out
}

/// What the caller hears when agentver cannot place the call, then the call ends.
pub fn refusal(message: &str) -> String {
    format!("{HEAD}<Response><Say>{}</Say><Hangup/></Response>", xml(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_twilio_documents() {
        // Twilio's documented example (security page): this URL, these fields, this token.
        let fields: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &fields), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &fields, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")).is_ok());
        assert!(verify("12345", "https://mycompany.com/other", &fields, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")).is_err());
    }

    #[test]
    fn twiml_escapes_what_it_is_given() {
        let twiml = connect("wss://bot.example/ws?a=1&b=2", &[("agentver_agent", "s\"<x>")]);
        assert!(twiml.contains("url=\"wss://bot.example/ws?a=1&amp;b=2\""), "{twiml}");
        assert!(twiml.contains("value=\"s&quot;&lt;x&gt;\""), "{twiml}");
    }
}
