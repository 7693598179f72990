//! Edits to channels.toml that keep every comment, key order and blank line (toml_edit).
