//! Spill: what `dedup` keeps on disk when a corpus's state outgrows its memory budget.
//!
//! An external merge sort, as datatrove does for its MinHash buckets: fixed-size records are
//! buffered up to a capacity; each full buffer is sorted and written as a *run*; the runs are
//! then merged k ways into one sorted stream ([`SortedRuns`]). Signature keys, band keys and
//! candidate pairs take this path, and so do the contrast's neighbour lists. A buffer takes
//! the capacity it is given when its first record comes and never more, so that the buffers
//! alive at once can share one budget. Signatures, which verification reads in pair order
//! rather than sorted, go to a [`SignatureTable`] of fixed-size records read back by position;
//! lists (fact slots, feature sets, neighbour lists) to a [`ListFile`].
//!
//! Every file lives in one [`SpillDir`], a fresh directory removed (with its files) when the
//! run ends, successfully or not. A run that is killed cannot remove its own, so each one holds
//! a lock on a file in it while it lives, and the next run removes the directories whose lock
//! nobody holds. Failures name the file and say what to do about them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Incompatible, Result};
use crate::features::Slot;

use crate::signature::Signature;

/// Runs merged at once; more runs are first merged in groups of this many (bounds open files
/// and read buffers).
pub const FAN_IN: usize = 64;

/// A record of fixed size on disk, ordered as its encoding is meant to be merged.
pub trait FixedRecord: Copy + Ord + Send + Sync {
    /// Bytes per record.
    const SIZE: usize;
    /// Writes the record's `SIZE` little-endian bytes.
    fn encode(self, out: &mut [u8]);
    /// Reads a record from `SIZE` bytes written by [`FixedRecord::encode`].
    fn decode(bytes: &[u8]) -> Self;
}

/// Candidate pair keys (`a << 32 | b`).
impl FixedRecord for u64 {
    const SIZE: usize = 8;
    fn encode(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes());
    }
    fn decode(bytes: &[u8]) -> Self {
        le_u64(bytes)
    }
}

/// Band entries (`band << 96 | key << 32 | doc`).
impl FixedRecord for u128 {
    const SIZE: usize = 16;
    fn encode(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes());
    }
    fn decode(bytes: &[u8]) -> Self {
        let mut b = [0u8; 16];
        b.copy_from_slice(bytes);
        u128::from_le_bytes(b)
    }
}

/// Classes (a document's neighbours' in the contrast, [`ListFile`]).
impl FixedRecord for u32 {
    const SIZE: usize = 4;
    fn encode(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes());
    }
    fn decode(bytes: &[u8]) -> Self {
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// Two records, the first's bytes then the second's, ordered by the first then the second:
/// pairs of 64-bit numbers (fact slots, and features as hash and weight bits, in a
/// [`ListFile`]), and signature keys with their document (`(key, doc)`: sorted, they bring
/// the documents with the same signature together, in document order).
impl<A: FixedRecord, B: FixedRecord> FixedRecord for (A, B) {
    const SIZE: usize = A::SIZE + B::SIZE;
    fn encode(self, out: &mut [u8]) {
        let (first, second) = out.split_at_mut(A::SIZE);
        self.0.encode(first);
        self.1.encode(second);
    }
    fn decode(bytes: &[u8]) -> Self {
        (A::decode(&bytes[..A::SIZE]), B::decode(&bytes[A::SIZE..]))
    }
}

/// The spill error for `path`.
fn spill_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::Spill {
        path: path.to_path_buf(),
        error,
    }
}

/// A fresh directory for one run's spill files, removed with everything in it when dropped.
#[derive(Debug)]
pub struct SpillDir {
    /// [`LOCK`], locked while the directory is in use; `None` where the file system does not
    /// lock files (the directory is then never taken for abandoned). Declared before `dir` so
    /// that it is closed before the directory is removed, which some systems need.
    _lock: Option<File>,
    dir: tempfile::TempDir,
    files: usize,
    written: u64,
}

/// Every spill directory's name starts with this.
const PREFIX: &str = "storyprint-spill-";

/// The file in a spill directory that its run holds locked.
const LOCK: &str = "lock";

impl SpillDir {
    /// Creates `storyprint-spill-*` inside `parent`, first removing the spill directories there
    /// that runs killed before their end left behind ([`remove_abandoned`]).
    pub fn new(parent: &Path) -> Result<SpillDir> {
        remove_abandoned(parent);
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(parent)
            .map_err(spill_error(parent))?;
        let lock = hold_lock(dir.path());
        Ok(SpillDir {
            _lock: lock,
            dir,
            files: 0,
            written: 0,
        })
    }

    /// The directory.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes written to spill files so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Files created so far.
    #[cfg(test)]
    pub fn files(&self) -> usize {
        self.files
    }

    /// A new file named after `stem`, open for reading and writing.
    fn create(&mut self, stem: &str) -> Result<(PathBuf, File)> {
        let path = self.dir.path().join(format!("{stem}-{}.bin", self.files));
        self.files += 1;
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(spill_error(&path))?;
        Ok((path, file))
    }
}

/// Removes the spill directories in `parent` that no live run uses: those with a [`LOCK`] file
/// that can be locked (its run ended without removing them, killed). A directory without one
/// may be a run's being created, and stays. Best effort: what cannot be removed stays too.
fn remove_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry.file_name().to_string_lossy().starts_with(PREFIX);
        // Neither follows a symbolic link.
        if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        let lock = dir.join(LOCK);
        // Only a regular file is opened: a pipe or a device under that name could block.
        if !std::fs::symlink_metadata(&lock).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(file) = File::open(&lock) else {
            continue;
        };
        if file.try_lock().is_ok() {
            // Nobody's: no run takes over an existing directory, so it can be closed and
            // removed (the lock file last, so that a directory left half removed still has it).
            drop(file);
            if let Ok(files) = std::fs::read_dir(&dir) {
                for file in files.flatten().filter(|f| f.file_name() != LOCK) {
                    let _ = std::fs::remove_file(file.path());
                }
            }
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// Creates a spill directory's [`LOCK`] and locks it for the life of the run: `None` where the
/// file system refuses (a remote or unusual one), which costs only the cleanup of a directory
/// the run may leave if it is killed. The file is locked before it is named, so another run
/// never finds it unlocked.
fn hold_lock(dir: &Path) -> Option<File> {
    let fresh = dir.join("lock.new");
    let file = File::create(&fresh).ok()?;
    if file.lock().is_ok() && std::fs::rename(&fresh, dir.join(LOCK)).is_ok() {
        return Some(file);
    }
    drop(file);
    let _ = std::fs::remove_file(&fresh);
    None
}

/// A sorted run on disk: `len` records of `T`.
#[derive(Debug)]
pub struct Run<T> {
    path: PathBuf,
    len: u64,
    record: PhantomData<T>,
}

impl<T: FixedRecord> Run<T> {
    /// Records in the run.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Reads the run from its start with a buffer of about `buffer` bytes.
    pub fn read(&self, buffer: usize) -> Result<RunReader<T>> {
        let file = File::open(&self.path).map_err(spill_error(&self.path))?;
        Ok(RunReader {
            reader: BufReader::with_capacity(buffer.max(T::SIZE), file),
            path: self.path.clone(),
            remaining: self.len,
            scratch: vec![0; T::SIZE],
            record: PhantomData,
        })
    }
}

/// Writes records, in the order given, to a new run.
pub struct RunWriter<T> {
    writer: BufWriter<File>,
    path: PathBuf,
    len: u64,
    scratch: Vec<u8>,
    record: PhantomData<T>,
}

impl<T: FixedRecord> RunWriter<T> {
    /// A new run file named after `stem` in `dir`.
    pub fn new(dir: &mut SpillDir, stem: &str) -> Result<RunWriter<T>> {
        let (path, file) = dir.create(stem)?;
        Ok(RunWriter {
            writer: BufWriter::with_capacity(1 << 16, file),
            path,
            len: 0,
            scratch: vec![0; T::SIZE],
            record: PhantomData,
        })
    }

    /// Appends one record.
    pub fn push(&mut self, value: T) -> Result<()> {
        value.encode(&mut self.scratch);
        self.writer
            .write_all(&self.scratch)
            .map_err(spill_error(&self.path))?;
        self.len += 1;
        Ok(())
    }

    /// Flushes the file and counts its bytes in `dir`.
    pub fn finish(self, dir: &mut SpillDir) -> Result<Run<T>> {
        let RunWriter {
            mut writer,
            path,
            len,
            ..
        } = self;
        writer.flush().map_err(spill_error(&path))?;
        dir.written += len * T::SIZE as u64;
        Ok(Run {
            path,
            len,
            record: PhantomData,
        })
    }
}

/// Reads a run's records in order.
pub struct RunReader<T> {
    reader: BufReader<File>,
    path: PathBuf,
    remaining: u64,
    scratch: Vec<u8>,
    record: PhantomData<T>,
}

impl<T: FixedRecord> Iterator for RunReader<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(
            self.reader
                .read_exact(&mut self.scratch)
                .map(|()| T::decode(&self.scratch))
                .map_err(spill_error(&self.path)),
        )
    }
}

/// Records sorted on disk: buffered up to a capacity, each full buffer sorted (in parallel)
/// and written as a run, the runs merged by [`SortedRuns::finish`]. The buffer is allocated at
/// its capacity when a record finds it full (the first record, or the first after the capacity
/// grew), never grown by doubling, so that it takes no more than its capacity and nothing
/// before it is used.
pub struct SortedRuns<T> {
    stem: &'static str,
    buffer: Vec<T>,
    capacity: usize,
    runs: Vec<Run<T>>,
}

/// Records of `T` that `bytes` bytes of memory hold (at least one).
pub fn records_in<T>(bytes: usize) -> usize {
    (bytes / std::mem::size_of::<T>().max(1)).max(1)
}

impl<T: FixedRecord> SortedRuns<T> {
    /// Runs named after `stem`, of `capacity` records each (at least one).
    pub fn new(stem: &'static str, capacity: usize) -> SortedRuns<T> {
        SortedRuns {
            stem,
            buffer: Vec::new(),
            capacity: capacity.max(1),
            runs: Vec::new(),
        }
    }

    /// Runs named after `stem`, each sorted in a buffer of at most `bytes` bytes.
    pub fn in_bytes(stem: &'static str, bytes: usize) -> SortedRuns<T> {
        SortedRuns::new(stem, records_in::<T>(bytes))
    }

    /// Adds a record, writing a run when the buffer is full.
    pub fn push(&mut self, value: T, dir: &mut SpillDir) -> Result<()> {
        if self.buffer.len() == self.buffer.capacity() {
            self.buffer.reserve_exact(self.capacity - self.buffer.len());
        }
        self.buffer.push(value);
        if self.buffer.len() >= self.capacity {
            self.flush(dir)?;
        }
        Ok(())
    }

    /// Changes the capacity of the runs to come (at least one record), writing what is
    /// buffered first when it is full by the new one. A larger buffer than the new capacity
    /// is freed when it is next written.
    pub fn set_capacity(&mut self, capacity: usize, dir: &mut SpillDir) -> Result<()> {
        self.capacity = capacity.max(1);
        if self.buffer.len() >= self.capacity {
            self.flush(dir)?;
        }
        Ok(())
    }

    /// Runs written so far.
    #[cfg(test)]
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    fn flush(&mut self, dir: &mut SpillDir) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.buffer.par_sort_unstable();
        let mut writer = RunWriter::new(dir, self.stem)?;
        for &value in &self.buffer {
            writer.push(value)?;
        }
        self.runs.push(writer.finish(dir)?);
        if self.buffer.capacity() > self.capacity {
            self.buffer = Vec::new();
        } else {
            self.buffer.clear();
        }
        Ok(())
    }

    /// Writes what is buffered, merges runs in groups until at most [`FAN_IN`] are left, and
    /// returns the merge of those: every record pushed, in sorted order. Each run is read
    /// with a buffer of `read_bytes / runs` (4 KiB to 1 MiB).
    pub fn finish(mut self, dir: &mut SpillDir, read_bytes: usize) -> Result<Merge<T>> {
        self.flush(dir)?;
        self.buffer = Vec::new();
        let buffer_of = |runs: usize| (read_bytes / runs.max(1)).clamp(1 << 12, 1 << 20);
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > FAN_IN {
            let mut merged = Vec::with_capacity(runs.len().div_ceil(FAN_IN));
            let mut rest = runs.into_iter();
            loop {
                let group: Vec<Run<T>> = rest.by_ref().take(FAN_IN).collect();
                if group.is_empty() {
                    break;
                }
                let mut writer = RunWriter::new(dir, self.stem)?;
                let buffer = buffer_of(group.len());
                for value in Merge::new(group, buffer)? {
                    writer.push(value?)?;
                }
                merged.push(writer.finish(dir)?);
            }
            runs = merged;
        }
        let buffer = buffer_of(runs.len());
        Merge::new(runs, buffer)
    }
}

/// The k-way merge of sorted runs: their records in sorted order. The runs' files are
/// deleted when the merge is dropped (the spill directory would be at the end; this frees the
/// disk sooner).
pub struct Merge<T> {
    runs: Vec<Run<T>>,
    readers: Vec<RunReader<T>>,
    heap: BinaryHeap<Reverse<(T, usize)>>,
    failed: bool,
}

impl<T: FixedRecord> Merge<T> {
    /// Opens `runs`, each with a read buffer of `buffer` bytes.
    pub fn new(runs: Vec<Run<T>>, buffer: usize) -> Result<Merge<T>> {
        let mut readers = Vec::with_capacity(runs.len());
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (r, run) in runs.iter().enumerate() {
            let mut reader = run.read(buffer)?;
            if let Some(first) = reader.next() {
                heap.push(Reverse((first?, r)));
            }
            readers.push(reader);
        }
        Ok(Merge {
            runs,
            readers,
            heap,
            failed: false,
        })
    }
}

impl<T> Drop for Merge<T> {
    fn drop(&mut self) {
        for run in &self.runs {
            // A file left behind goes with the spill directory.
            let _ = std::fs::remove_file(&run.path);
        }
    }
}

impl<T: FixedRecord> Iterator for Merge<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.failed {
            return None;
        }
        let Reverse((value, r)) = self.heap.pop()?;
        match self.readers[r].next() {
            Some(Ok(next)) => self.heap.push(Reverse((next, r))),
            Some(Err(e)) => {
                self.failed = true;
                return Some(Err(e));
            }
            None => {}
        }
        Some(Ok(value))
    }
}

/// Lists of fixed-size items (fact slots, feature sets, neighbours' classes) on disk,
/// appended one after another and read back by position (offset and count).
pub struct ListFile<T = (u64, u64)> {
    file: File,
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    items: u64,
    item: PhantomData<T>,
}

impl<T: FixedRecord> ListFile<T> {
    /// An empty file named after `stem` in `dir`.
    pub fn new(dir: &mut SpillDir, stem: &str) -> Result<ListFile<T>> {
        let (path, file) = dir.create(stem)?;
        let writer = file
            .try_clone()
            .map(|f| BufWriter::with_capacity(1 << 16, f))
            .map_err(spill_error(&path))?;
        Ok(ListFile {
            file,
            path,
            writer: Some(writer),
            items: 0,
            item: PhantomData,
        })
    }

    /// Appends a list; returns its offset (in items) and length.
    pub fn push(&mut self, items: &[T]) -> Result<(u64, u32)> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(Error::Config(format!(
                "{} was written after it was finished",
                self.path.display()
            )));
        };
        let mut bytes = vec![0u8; T::SIZE * items.len()];
        for (&item, out) in items.iter().zip(bytes.chunks_exact_mut(T::SIZE)) {
            item.encode(out);
        }
        writer.write_all(&bytes).map_err(spill_error(&self.path))?;
        let offset = self.items;
        self.items += items.len() as u64;
        let len = u32::try_from(items.len())
            .map_err(|_| Error::Config(format!("a list of {} items", items.len())))?;
        Ok((offset, len))
    }

    /// Writes out what was pushed so that [`ListFile::get`] can read it, while more may
    /// still be pushed.
    pub fn flush(&mut self) -> Result<()> {
        match self.writer.as_mut() {
            Some(writer) => writer.flush().map_err(spill_error(&self.path)),
            None => Ok(()),
        }
    }

    /// Flushes what was pushed so that [`ListFile::get`] can read it, counting its bytes in
    /// `dir`.
    pub fn finish(&mut self, dir: &mut SpillDir) -> Result<()> {
        if let Some(mut writer) = self.writer.take() {
            writer.flush().map_err(spill_error(&self.path))?;
            dir.written += (T::SIZE as u64) * self.items;
        }
        Ok(())
    }

    /// The list at `offset` of `len` items (after [`ListFile::flush`] or [`ListFile::finish`]).
    pub fn get(&self, offset: u64, len: u32) -> Result<Vec<T>> {
        let mut bytes = vec![0u8; T::SIZE * len as usize];
        read_at(&self.file, &mut bytes, offset * T::SIZE as u64, &self.path)?;
        Ok(bytes.chunks_exact(T::SIZE).map(T::decode).collect())
    }
}

/// The `u64` in 8 little-endian bytes.
fn le_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes);
    u64::from_le_bytes(b)
}

/// Signatures (and fact slots) on disk, one fixed-size record per document in input order,
/// read back by position, so verification holds only the pairs it is judging.
///
/// A record is the K values (`u32` LE), the weight (`f64` bits LE), then the offset (`u64`)
/// and count (`u32`) of the document's slots in a [`ListFile`].
pub struct SignatureTable {
    k: usize,
    file: File,
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    slots: ListFile,
    len: u64,
    scratch: Vec<u8>,
}

impl SignatureTable {
    /// An empty table for signatures of `k` values in `dir`.
    pub fn new(dir: &mut SpillDir, k: usize) -> Result<SignatureTable> {
        let (path, file) = dir.create("signatures")?;
        let writer = file
            .try_clone()
            .map(|f| BufWriter::with_capacity(1 << 16, f))
            .map_err(spill_error(&path))?;
        Ok(SignatureTable {
            k,
            file,
            path,
            writer: Some(writer),
            slots: ListFile::new(dir, "slots")?,
            len: 0,
            scratch: Vec::new(),
        })
    }

    /// Bytes per signature record.
    pub fn record_size(&self) -> usize {
        4 * self.k + 20
    }

    /// Appends the next document's signature and slots.
    pub fn push(&mut self, signature: &Signature, slots: &[Slot]) -> Result<()> {
        if signature.values.len() != self.k {
            return Err(Incompatible::new("K", self.k, signature.values.len()).into());
        }
        let (offset, count) = self.slots.push(slots)?;
        let Some(writer) = self.writer.as_mut() else {
            return Err(Error::Config(format!(
                "{} was written after it was finished",
                self.path.display()
            )));
        };
        self.scratch.clear();
        for v in &signature.values {
            self.scratch.extend_from_slice(&v.to_le_bytes());
        }
        self.scratch
            .extend_from_slice(&signature.weight.to_bits().to_le_bytes());
        self.scratch.extend_from_slice(&offset.to_le_bytes());
        self.scratch.extend_from_slice(&count.to_le_bytes());
        writer
            .write_all(&self.scratch)
            .map_err(spill_error(&self.path))?;
        self.len += 1;
        Ok(())
    }

    /// Flushes what was pushed so that [`SignatureTable::get`] can read it, counting its
    /// bytes in `dir`.
    pub fn finish(&mut self, dir: &mut SpillDir) -> Result<()> {
        if let Some(mut writer) = self.writer.take() {
            writer.flush().map_err(spill_error(&self.path))?;
            dir.written += self.len * self.record_size() as u64;
        }
        self.slots.finish(dir)
    }

    /// Signatures pushed.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Document `i`'s signature and slots (after [`SignatureTable::finish`]).
    pub fn get(&self, i: u32) -> Result<(Signature, Vec<Slot>)> {
        let size = self.record_size();
        let mut record = vec![0u8; size];
        read_at(&self.file, &mut record, i as u64 * size as u64, &self.path)?;
        let (signature, offset, count) = self.decode(&record);
        let slots = if count == 0 {
            Vec::new()
        } else {
            self.slots.get(offset, count)?
        };
        Ok((signature, slots))
    }

    /// The signatures of documents `docs`, without their slots, read in one block (after
    /// [`SignatureTable::finish`]).
    pub fn signatures(&self, docs: std::ops::Range<u32>) -> Result<Vec<Signature>> {
        let size = self.record_size();
        let mut block = vec![0u8; size * docs.len()];
        let offset = u64::from(docs.start) * size as u64;
        read_at(&self.file, &mut block, offset, &self.path)?;
        Ok(block
            .chunks_exact(size)
            .map(|record| self.decode(record).0)
            .collect())
    }

    /// A record's signature, and the offset and count of its slots.
    fn decode(&self, record: &[u8]) -> (Signature, u64, u32) {
        let k = self.k;
        let values = record[..4 * k]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let weight = f64::from_bits(le_u64(&record[4 * k..4 * k + 8]));
        let offset = le_u64(&record[4 * k + 8..4 * k + 16]);
        let c = &record[4 * k + 16..];
        let count = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        (Signature { values, weight }, offset, count)
    }
}

/// Fills `buf` from `file` at `offset` (positional: safe from several threads at once).
fn read_at(file: &File, buf: &mut [u8], offset: u64, path: &Path) -> Result<()> {
    #[cfg(unix)]
    let result = std::os::unix::fs::FileExt::read_exact_at(file, buf, offset);
    #[cfg(windows)]
    let result = {
        let mut done = 0;
        let mut result = Ok(());
        while done < buf.len() {
            match std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            ) {
                Ok(0) => {
                    result = Err(std::io::ErrorKind::UnexpectedEof.into());
                    break;
                }
                Ok(n) => done += n,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        result
    };
    result.map_err(spill_error(path))
}

/// The machine's physical memory in bytes (Linux `/proc/meminfo`), if known.
pub fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests;
