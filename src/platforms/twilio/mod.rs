//! Twilio, for self-hosted runtimes (Pipecat, LiveKit Agents) behind a Twilio number: the voice
//! webhook's form fields, its `X-Twilio-Signature`, and the TwiML that connects the call's media
//! stream to the bot with the attribution as stream parameters.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

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

/// How a webhook is signed: HMAC-SHA1 with the auth token (Twilio's default), or HMAC-SHA256 with
/// a shared key when the request says so in `X-Twilio-Webhooks-Signature-Settings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

impl Algorithm {
    /// The algorithm `X-Twilio-Webhooks-Signature-Settings` names (`key=…,algorithm=HMAC_SHA256`):
    /// none, or a header without `algorithm=`, is HMAC-SHA1; one Twilio's validator does not know
    /// fails, as it fails there.
    pub fn from_settings(settings: Option<&str>) -> Result<Algorithm, BadSignature> {
        let named = settings.unwrap_or_default().split(',').find_map(|part| {
            let (name, value) = part.split_once('=')?;
            (name.trim() == "algorithm" && !value.trim().is_empty()).then(|| value.trim())
        });
        match named.map(str::to_ascii_uppercase).as_deref() {
            None | Some("HMAC_SHA1") => Ok(Algorithm::Sha1),
            Some("HMAC_SHA256") => Ok(Algorithm::Sha256),
            Some(_) => Err(BadSignature(
                "X-Twilio-Webhooks-Signature-Settings names an algorithm other than HMAC_SHA1 or HMAC_SHA256".into(),
            )),
        }
    }
}

/// Twilio's signature, as its `RequestValidator.compute_signature` makes it: base64 HMAC over the
/// URL, then each form field's name (sorted, once) followed by each of its distinct values, sorted.
pub fn sign(secret: &str, url: &str, fields: &[(String, String)], algorithm: Algorithm) -> String {
    let mut sorted: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut text = String::from(url);
    for (k, v) in sorted {
        text.push_str(k);
        text.push_str(v);
    }
    let digest = match algorithm {
        Algorithm::Sha1 => mac::<Hmac<Sha1>>(secret, &text),
        Algorithm::Sha256 => mac::<Hmac<Sha256>>(secret, &text),
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn mac<M: Mac + hmac::digest::KeyInit>(secret: &str, text: &str) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(text.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The two URLs Twilio's validator tries, because Twilio's own signing is inconsistent about ports:
/// the URL without its port, and with it (the scheme's default port added when it names none).
pub fn url_forms(url: &str) -> [String; 2] {
    let Some((scheme, rest)) = url.split_once("://") else { return [url.to_owned(), url.to_owned()] };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, tail) = rest.split_at(end);
    match port_of(netloc) {
        // As Python's `netloc.split(":")[0]`: the validator's own way of dropping the port.
        Some(_) => {
            let host = netloc.split(':').next().unwrap_or_default();
            [format!("{scheme}://{host}{tail}"), url.to_owned()]
        }
        None => {
            let port = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
            [url.to_owned(), format!("{scheme}://{netloc}:{port}{tail}")]
        }
    }
}

/// The port an authority names (`host:8080`, `[::1]:8080`), past any user info.
fn port_of(netloc: &str) -> Option<u16> {
    let host = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let after = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.1,
        None => host,
    };
    after.rsplit_once(':').and_then(|(_, port)| port.parse().ok())
}

/// Checks `X-Twilio-Signature` for a request to `url`, exactly where Twilio's
/// `RequestValidator.validate` accepts it: over the URL with or without its port, with the
/// algorithm `settings` (`X-Twilio-Webhooks-Signature-Settings`) names.
pub fn verify(
    secret: &str,
    url: &str,
    fields: &[(String, String)],
    header: Option<&str>,
    settings: Option<&str>,
) -> Result<(), BadSignature> {
    let header = header.ok_or_else(|| BadSignature("X-Twilio-Signature is missing".into()))?;
    let algorithm = Algorithm::from_settings(settings)?;
    if url_forms(url).iter().any(|form| same(header, &sign(secret, form, fields, algorithm))) {
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
        assert_eq!(sign("12345", url, &fields, Algorithm::Sha1), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        let ok = Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &fields, ok, None).is_ok());
        assert!(verify("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &fields, ok, None).is_ok());
        assert!(verify("12345", "https://mycompany.com/other", &fields, ok, None).is_err());
        assert!(verify("12345", url, &fields, ok, Some("key=k,algorithm=HMAC_SHA256")).is_err());
        assert!(verify("12345", url, &fields, ok, Some("algorithm=HMAC_MD5")).is_err());
    }

    #[test]
    fn tries_the_url_with_and_without_its_port_as_twilios_validator_does() {
        let forms = |u: &str| url_forms(u).map(|f| f.to_string());
        assert_eq!(forms("https://a.example/h?x=1"), ["https://a.example/h?x=1", "https://a.example:443/h?x=1"]);
        assert_eq!(forms("http://a.example"), ["http://a.example", "http://a.example:80"]);
        assert_eq!(forms("https://a.example:8443/h"), ["https://a.example/h", "https://a.example:8443/h"]);
        assert_eq!(forms("https://a.example:443/h"), ["https://a.example/h", "https://a.example:443/h"]);
    }

    #[test]
    fn a_field_sent_twice_is_signed_once_per_distinct_value() {
        let fields: Vec<(String, String)> = [("b", "2"), ("a", "1"), ("b", "1"), ("b", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let once: Vec<(String, String)> =
            [("a", "1"), ("b", "1"), ("b", "2")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(sign("t", "u", &fields, Algorithm::Sha256), sign("t", "u", &once, Algorithm::Sha256));
        assert_ne!(sign("t", "u", &fields, Algorithm::Sha256), sign("t", "u", &once, Algorithm::Sha1));
    }

    #[test]
    fn twiml_escapes_what_it_is_given() {
        let twiml = connect("wss://bot.example/ws?a=1&b=2", &[("agentver_agent", "s\"<x>")]);
        assert!(twiml.contains("url=\"wss://bot.example/ws?a=1&amp;b=2\""), "{twiml}");
        assert!(twiml.contains("value=\"s&quot;&lt;x&gt;\""), "{twiml}");
    }
}
