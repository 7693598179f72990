//! The signer's clock: now, at the local UTC offset, as git records it.
//!
//! The offset comes from the one time-zone file that applies (`$TZ` as a path, a zone name under
//! `$TZDIR` or /usr/share/zoneinfo, or a POSIX rule; else /etc/localtime), which is what libc
//! reads for git. Asking jiff for the "system" zone instead loads its whole zone database first,
//! which measured at a quarter of a publish's instructions and ~150 system calls.

/// Now, at the local offset (UTC when no zone can be read).
pub fn now() -> gix::date::Time {
    let now = jiff::Timestamp::now();
    let offset = local_zone().map_or(0, |tz| tz.to_offset(now).seconds());
    gix::date::Time { seconds: now.as_second(), offset }
}

fn tzif(path: &str) -> Option<jiff::tz::TimeZone> {
    let bytes = std::fs::read(path).ok()?;
    jiff::tz::TimeZone::tzif("local", &bytes).ok()
}

fn local_zone() -> Option<jiff::tz::TimeZone> {
    match std::env::var("TZ") {
        Ok(tz) if !tz.is_empty() => {
            let name = tz.strip_prefix(':').unwrap_or(&tz);
            if name.starts_with('/') {
                return tzif(name);
            }
            let dir = std::env::var("TZDIR").unwrap_or_else(|_| "/usr/share/zoneinfo".to_owned());
            if !name.contains("..")
                && let Some(zone) = tzif(&format!("{dir}/{name}"))
            {
                return Some(zone);
            }
            jiff::tz::TimeZone::posix(name).ok()
        }
        _ => tzif("/etc/localtime"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_now() {
        let t = now();
        let system = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((t.seconds - system).abs() <= 2);
        assert!(t.offset.abs() <= 14 * 3600);
    }
}
