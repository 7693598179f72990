//! Query strings, checked: a parameter a route does not know is a 400 naming it and the one
//! likely meant (`by=varient` must not silently give by-version statistics); so is one given
//! twice. An empty value is the same as an absent one.

use std::collections::HashMap;

use super::error::ApiError;

pub struct Params(HashMap<String, String>);

impl Params {
    pub fn new(pairs: Vec<(String, String)>, known: &[&str]) -> Result<Params, ApiError> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (key, value) in pairs {
            if !known.contains(&key.as_str()) {
                let shown = crate::calls::limits::truncate(&key, 64).0.escape_debug().to_string();
                let error = ApiError::bad_request(format!("unknown query parameter '{shown}'"));
                return Err(match crate::format::diagnostic::closest(&key, known.iter().copied()) {
                    Some(meant) => error.hint(format!("did you mean '{meant}'?")),
                    None => error.hint(format!("this route takes {}", known.join(", "))),
                });
            }
            if map.insert(key.clone(), value).is_some() {
                return Err(ApiError::bad_request(format!("query parameter '{key}' is given twice")));
            }
        }
        Ok(Params(map))
    }

    /// The parameter's value; `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        let e = Params::new(pairs(&[("by", "x"), ("varient", "y")]), &["by", "variant"]).err().unwrap();
        assert_eq!(
            (e.message.as_str(), e.hint.as_deref()),
            ("unknown query parameter 'varient'", Some("did you mean 'variant'?"))
        );
        assert!(Params::new(pairs(&[("by", "a"), ("by", "b")]), &["by"]).err().unwrap().message.contains("twice"));
        let ok = Params::new(pairs(&[("caller", "")]), &["caller"]).unwrap();
        assert_eq!(ok.get("caller"), None);
    }
}
