//! A snapshot tree's id as channels.toml pins it: 40 hex digits, validated, compared by bytes.

use std::fmt;

/// The content id `pin` writes beside a numbered version; a tag that no longer holds this tree
/// does not serve. (SHA-1 object ids: agentver refuses SHA-256 repositories.)
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TreeId([u8; 20]);

impl TreeId {
    /// Parses exactly 40 hex digits (either case).
    pub fn from_hex(hex: &str) -> Option<TreeId> {
        let bytes = hex.as_bytes();
        if bytes.len() != 40 {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let mut out = [0u8; 20];
        for (i, pair) in bytes.chunks(2).enumerate() {
            out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(TreeId(out))
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

impl fmt::Display for TreeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for TreeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TreeId({self})")
    }
}

impl serde::Serialize for TreeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_anything_but_forty_hex_digits() {
        let hex = "9f1c2e3d4b5a69788796a5b4c3d2e1f00f1e2d3c";
        assert_eq!(TreeId::from_hex(hex).unwrap().to_string(), hex);
        assert_eq!(TreeId::from_hex(&hex.to_uppercase()).unwrap().to_string(), hex);
        for bad in ["", "9f1c", &format!("{hex}0"), "g".repeat(40).as_str(), "é".repeat(20).as_str()] {
            assert!(TreeId::from_hex(bad).is_none(), "{bad}");
        }
    }
}
