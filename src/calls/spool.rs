//! The spool: an append-only file of resolve decisions on their way to the call store.
//!
//! A decision is appended (one `write`, a complete line) before the resolve that made it is
//! answered, so an acknowledged decision survives the server being killed, even with SIGKILL: the
//! kernel has the bytes. Each line is framed as `<crc32 of the JSON, 8 hex digits> <JSON>`, so a
//! line damaged on disk is found and skipped rather than misread; an append the disk refuses
//! part-way is cut back off at once, so the next decision never lands on a half-written line. The store's writer reads the spool behind the appenders in batches and,
//! once it has committed everything, empties the file. Each server has its own file,
//! `decisions-<pid>-<start>.jsonl` under `.git/agentver/spool/`, locked while it runs; at start a server
//! takes over the files whose owner died (their lock is free) and replays them. Replaying what
//! the store already holds changes nothing: events are idempotent.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::fsutil::IoError;

/// A spool is emptied once it is this large and fully committed (so it never grows without end
/// while the store keeps up, and a small disk is given back often).
const EMPTY_AT: u64 = 64 << 10;

/// This server's spool file.
pub struct Spool {
    path: PathBuf,
    /// Appends, in whole lines, one at a time, and the file's length (this server alone appends
    /// to it, so a refused write can be cut back without asking the file system).
    file: Mutex<(File, u64)>,
    /// The file's length as of the last append that succeeded: what this server's reader may
    /// read. Bytes past it may belong to an append the disk is refusing, which is cut back off;
    /// a reader that took them would join them to the next decision and lose it (seen with the
    /// spool on a full 1 MiB tmpfs: one decision answered 200 in 35,000 was never stored).
    written: Arc<AtomicU64>,
}

/// Reads a spool file from where it last stopped, complete lines only.
pub struct Reader {
    path: PathBuf,
    file: File,
    offset: u64,
    /// The start of a line whose end was not written yet.
    partial: Vec<u8>,
    /// How far the file may be read: a live server's spool, up to its last whole append; none
    /// for a dead server's (nobody appends to it any more).
    limit: Option<Arc<AtomicU64>>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> IoError + '_ {
    move |e| IoError::new(path, e)
}

impl Spool {
    /// Creates this process's spool in `dir` (for its owner alone) and locks it; returns it with
    /// the spool files of servers that died, for replaying.
    pub fn open(dir: &Path) -> Result<(Spool, Vec<PathBuf>), IoError> {
        crate::fsutil::create_private_dir(dir)?;
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let path = dir.join(format!("decisions-{}-{}.jsonl", std::process::id(), started.as_nanos()));
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io(&path))?;
        file.lock().map_err(io(&path))?;
        let mut orphans = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
            let other = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if other == path || !name.starts_with("decisions-") || !name.ends_with(".jsonl") {
                continue;
            }
            // A free lock means its server is gone; one that is held belongs to a live server.
            let Ok(f) = File::open(&other) else { continue };
            match f.try_lock() {
                Ok(()) => orphans.push(other),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(IoError::new(&other, e)),
            }
        }
        orphans.sort();
        let len = file.metadata().map_err(io(&path))?.len();
        Ok((Spool { path, file: Mutex::new((file, len)), written: Arc::new(AtomicU64::new(len)) }, orphans))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one framed line (`line` holds no newline) in a single write. A write the disk
    /// refuses part-way is cut back off, so the file ends with whole lines only.
    pub fn append(&self, line: &[u8]) -> Result<(), IoError> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let crc = crc32(line);
        let mut bytes = Vec::with_capacity(line.len() + 10);
        bytes.extend((0..8).rev().map(|i| HEX[((crc >> (i * 4)) & 0xf) as usize]));
        bytes.push(b' ');
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (file, len) = &mut *guard;
        match file.write_all(&bytes) {
            Ok(()) => {
                *len += bytes.len() as u64;
                self.written.store(*len, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                let _ = file.set_len(*len);
                Err(IoError::new(&self.path, e))
            }
        }
    }

    /// A reader of this spool from its start.
    pub fn reader(&self) -> Result<Reader, IoError> {
        Ok(Reader { limit: Some(self.written.clone()), ..Reader::open(&self.path)? })
    }

    /// Empties the spool when `reader` has read all of it and it is large, so it does not grow
    /// while the store keeps up. Holds the appenders off while it checks and truncates.
    pub fn empty_if_read(&self, reader: &mut Reader) -> Result<(), IoError> {
        if reader.offset < EMPTY_AT || !reader.partial.is_empty() {
            return Ok(());
        }
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (file, len) = &mut *guard;
        if *len == reader.offset {
            file.set_len(0).map_err(io(&self.path))?;
            *len = 0;
            self.written.store(0, Ordering::Release);
            reader.offset = 0;
        }
        Ok(())
    }

    /// Removes the spool's file once everything in it is committed (a clean stop): nothing is
    /// appended after this.
    pub fn clear(&self) -> Result<(), IoError> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.set_len(0).map_err(io(&self.path))?;
        guard.1 = 0;
        self.written.store(0, Ordering::Release);
        std::fs::remove_file(&self.path).map_err(io(&self.path))
    }
}

/// A framed line's JSON, checked against its checksum; `Err` says why the line is not one. A line
/// without a frame (a spool of an earlier release) is taken as it is.
pub fn unframe(line: &[u8]) -> Result<&[u8], &'static str> {
    match line.get(8) {
        Some(b' ') if line[..8].iter().all(u8::is_ascii_hexdigit) => {
            let want = u32::from_str_radix(std::str::from_utf8(&line[..8]).unwrap_or_default(), 16).unwrap_or_default();
            let json = &line[9..];
            if crc32(json) == want { Ok(json) } else { Err("its checksum does not match (damaged on disk)") }
        }
        _ if line.first() == Some(&b'{') => Ok(line),
        _ => Err("it is not a framed decision"),
    }
}

/// CRC-32 (IEEE 802.3, as zlib and PNG use it).
fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::LazyLock<[u32; 256]> = std::sync::LazyLock::new(|| {
        let mut table = [0u32; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *entry = c;
        }
        table
    });
    !bytes.iter().fold(!0u32, |c, b| TABLE[((c ^ u32::from(*b)) & 0xff) as usize] ^ (c >> 8))
}

/// Whether a live server spools into `dir` (a spool file whose lock is held): then it shares the
/// store, and a writer beside it keeps its transactions short.
pub fn in_use(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.starts_with("decisions-")
            && name.ends_with(".jsonl")
            && File::open(e.path()).is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)))
    })
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, IoError> {
        let file = File::open(path).map_err(io(path))?;
        Ok(Reader { path: path.to_owned(), file, offset: 0, partial: Vec::new(), limit: None })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Up to `max` complete lines after what was read before.
    pub fn next_lines(&mut self, max: usize) -> Result<Vec<Vec<u8>>, IoError> {
        let mut lines = Vec::new();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            // Lines already read in, then more from the file.
            let mut start = 0;
            while lines.len() < max {
                let Some(end) = self.partial[start..].iter().position(|b| *b == b'\n') else { break };
                lines.push(self.partial[start..start + end].to_vec());
                start += end + 1;
            }
            self.offset += start as u64;
            self.partial.drain(..start);
            if lines.len() == max {
                return Ok(lines);
            }
            let from = self.offset + self.partial.len() as u64;
            let room = match &self.limit {
                Some(written) => usize::try_from(written.load(Ordering::Acquire).saturating_sub(from))
                    .unwrap_or(usize::MAX)
                    .min(chunk.len()),
                None => chunk.len(),
            };
            if room == 0 {
                return Ok(lines);
            }
            self.file.seek(SeekFrom::Start(from)).map_err(io(&self.path))?;
            let n = self.file.read(&mut chunk[..room]).map_err(io(&self.path))?;
            if n == 0 {
                return Ok(lines);
            }
            self.partial.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether everything written so far has been read.
    pub fn caught_up(&self) -> Result<bool, IoError> {
        let len = self.file.metadata().map_err(io(&self.path))?.len();
        Ok(len <= self.offset && self.partial.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_in_batches_and_a_dead_servers_spool_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let (spool, orphans) = Spool::open(dir.path()).unwrap();
        assert!(orphans.is_empty());
        for i in 0..5 {
            spool.append(format!("line {i}").as_bytes()).unwrap();
        }
        let mut reader = spool.reader().unwrap();
        let read = reader.next_lines(3).unwrap();
        let read: Vec<&[u8]> = read.iter().map(|l| unframe(l).unwrap_or(b"")).collect();
        assert_eq!(read, [b"line 0".as_slice(), b"line 1", b"line 2"]);
        assert!(!reader.caught_up().unwrap());
        assert_eq!(reader.next_lines(10).unwrap().len(), 2);
        assert!(reader.caught_up().unwrap());
        // In a dead server's spool, a line half written is not read until its end arrives.
        let mut orphan = Reader::open(spool.path()).unwrap();
        assert_eq!(orphan.next_lines(10).unwrap().len(), 5);
        std::fs::OpenOptions::new().append(true).open(spool.path()).unwrap().write_all(b"half").unwrap();
        assert!(orphan.next_lines(10).unwrap().is_empty());
        std::fs::OpenOptions::new().append(true).open(spool.path()).unwrap().write_all(b" and the rest\n").unwrap();
        assert_eq!(orphan.next_lines(10).unwrap(), [b"half and the rest".to_vec()]);
        // A spool no live server holds is an orphan to replay.
        std::fs::write(dir.path().join("decisions-1.jsonl"), b"left\n").unwrap();
        let (_second, orphans) = Spool::open(dir.path()).unwrap();
        assert_eq!(orphans, [dir.path().join("decisions-1.jsonl")], "the live first spool is not an orphan");
    }

    /// The decision lost on a full disk (issue 30): an append the disk refused part-way left its
    /// first bytes in the file until it was cut back off; the reader took them, then joined them
    /// to the next decision, whose checksum then failed. The reader now stops at the last whole
    /// append.
    #[test]
    fn the_bytes_of_an_append_being_refused_are_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path()).unwrap();
        spool.append(b"first").unwrap();
        let mut reader = spool.reader().unwrap();
        assert_eq!(reader.next_lines(10).unwrap().len(), 1);
        // What a refused append leaves until it is cut back: part of a frame, no newline.
        let whole = std::fs::metadata(spool.path()).unwrap().len();
        std::fs::OpenOptions::new().append(true).open(spool.path()).unwrap().write_all(b"0badf00d {\"call").unwrap();
        assert!(reader.next_lines(10).unwrap().is_empty());
        std::fs::OpenOptions::new().write(true).open(spool.path()).unwrap().set_len(whole).unwrap();
        spool.append(b"second").unwrap();
        let read = reader.next_lines(10).unwrap();
        assert_eq!(read.iter().map(|l| unframe(l)).collect::<Vec<_>>(), [Ok(b"second".as_slice())]);
    }

    #[test]
    fn a_frame_finds_a_damaged_line_and_an_earlier_releases_line_still_reads() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the standard check value");
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path()).unwrap();
        spool.append(br#"{"call_id":"a"}"#).unwrap();
        let mut line = spool.reader().unwrap().next_lines(1).unwrap().remove(0);
        assert_eq!(unframe(&line), Ok(br#"{"call_id":"a"}"#.as_slice()));
        line[12] ^= 1;
        assert!(unframe(&line).is_err(), "one flipped bit is found");
        assert_eq!(unframe(br#"{"call_id":"b"}"#), Ok(br#"{"call_id":"b"}"#.as_slice()));
        assert!(unframe(b"garbage").is_err());
    }
}
