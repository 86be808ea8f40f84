//! Paths to sources: files named, directories walked recursively in sorted order (following
//! symbolic links, each directory once, so a link loop ends), FIFOs, sockets and devices in
//! a walked directory skipped with a note.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{InputOptions, Origin, Problem, ProblemKind};

/// The kind of a source file, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SourceKind {
    Text,
    Jsonl,
    JsonlGz,
    JsonlZst,
    Parquet,
}

pub(super) fn kind_of(path: &Path) -> Option<SourceKind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".jsonl.gz") || name.ends_with(".ndjson.gz") {
        Some(SourceKind::JsonlGz)
    } else if name.ends_with(".jsonl.zst") || name.ends_with(".ndjson.zst") {
        Some(SourceKind::JsonlZst)
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        Some(SourceKind::Jsonl)
    } else if name.ends_with(".parquet") {
        Some(SourceKind::Parquet)
    } else if name.ends_with(".txt") || name.ends_with(".md") {
        Some(SourceKind::Text)
    } else {
        None
    }
}

/// One file to read, with the id prefix for text documents.
#[derive(Debug, Clone)]
pub(super) struct Source {
    pub(super) path: PathBuf,
    /// The id a text document gets: its path relative to the directory given, or its name.
    pub(super) text_id: String,
    pub(super) kind: SourceKind,
}

/// Expands the given paths into sources (sorted within each directory), and notes for the
/// paths that cannot be read and the files skipped for their extension.
pub(super) fn expand(paths: &[PathBuf], options: &InputOptions) -> (Vec<Source>, Vec<Problem>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let kind = if options.stdin_jsonl {
                SourceKind::Jsonl
            } else {
                SourceKind::Text
            };
            sources.push(Source {
                path: path.clone(),
                text_id: "-".into(),
                kind,
            });
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => problems.push(Problem {
                origin: Origin {
                    path: path.clone(),
                    line: None,
                },
                kind: ProblemKind::Unreadable(e.to_string()),
            }),
            Ok(meta) if meta.is_dir() => {
                let mut walked = HashSet::new();
                walked.extend(file_identity(path));
                let mut walk = Walk {
                    root: path,
                    walked,
                    sources: &mut sources,
                    problems: &mut problems,
                };
                walk.dir(path);
            }
            Ok(_) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                sources.push(Source {
                    path: path.clone(),
                    text_id: name,
                    // A file named explicitly is read even with an unknown extension: as text.
                    kind: kind_of(path).unwrap_or(SourceKind::Text),
                });
            }
        }
    }
    (sources, problems)
}

/// The files the given paths name or hold (directories walked as the reader walks them),
/// without opening any; standard input (`-`) is not a file.
pub fn input_files(paths: &[PathBuf], options: &InputOptions) -> Vec<PathBuf> {
    expand(paths, options)
        .0
        .into_iter()
        .map(|source| source.path)
        .filter(|path| path.as_os_str() != "-")
        .collect()
}

/// What a path is, for telling whether two paths name one file or directory: its device and
/// inode when it exists (so hard and symbolic links compare equal), else the canonical path it
/// would be created at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum FileIdentity {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

/// The identity of `path` (see [`FileIdentity`]); `None` when neither it nor its directory
/// exists.
pub(crate) fn file_identity(path: &Path) -> Option<FileIdentity> {
    match std::fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::MetadataExt;
            Some(FileIdentity::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        Ok(_) => std::fs::canonicalize(path).ok().map(FileIdentity::Path),
        Err(_) => {
            let parent = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let dir = std::fs::canonicalize(parent).ok()?;
            Some(FileIdentity::Path(dir.join(path.file_name()?)))
        }
    }
}

/// A directory given as input, walked recursively in sorted order. Symbolic links are
/// followed, but each directory is walked once, by its identity: a loop (`self -> .`) ends.
struct Walk<'a> {
    root: &'a Path,
    walked: HashSet<FileIdentity>,
    sources: &'a mut Vec<Source>,
    problems: &'a mut Vec<Problem>,
}

impl Walk<'_> {
    fn note(&mut self, path: PathBuf, kind: ProblemKind) {
        self.problems.push(Problem {
            origin: Origin { path, line: None },
            kind,
        });
    }

    fn dir(&mut self, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.note(dir.to_path_buf(), ProblemKind::Unreadable(e.to_string())),
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => paths.push(entry.path()),
                Err(e) => self.note(dir.to_path_buf(), ProblemKind::Unreadable(e.to_string())),
            }
        }
        paths.sort();
        for path in paths {
            // A link that leads nowhere is taken for a file, which fails to open with a warning.
            let meta = std::fs::metadata(&path).ok();
            if meta.as_ref().is_some_and(|m| m.is_dir()) {
                let first_time = file_identity(&path).is_none_or(|id| self.walked.insert(id));
                if first_time {
                    self.dir(&path);
                } else {
                    self.note(path, ProblemKind::AlreadyWalked);
                }
                continue;
            }
            if meta.is_some_and(|m| !m.is_file()) {
                self.note(path, ProblemKind::SpecialFile);
                continue;
            }
            match kind_of(&path) {
                Some(kind) => {
                    let rel = path.strip_prefix(self.root).unwrap_or(&path);
                    let text_id = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    self.sources.push(Source {
                        path,
                        text_id,
                        kind,
                    });
                }
                None => self.note(path, ProblemKind::UnsupportedExtension),
            }
        }
    }
}

/// The first of `paths` that can be read only once: standard input (`-`), or a FIFO, socket
/// or device named directly. Commands that read their inputs twice refuse it.
pub fn read_once(paths: &[PathBuf]) -> Option<&PathBuf> {
    paths.iter().find(|path| {
        path.as_os_str() == "-"
            || std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
    })
}
