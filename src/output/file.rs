//! Output files, written whole or not at all, and the check that no output replaces an input.
//!
//! Every command that writes a file writes it through [`OutputFile`]: a temporary file in the
//! destination's directory, flushed, synced and renamed over the destination only when the run
//! has succeeded. Until then the destination keeps its previous content, and a run that fails
//! or is killed leaves no partial file under the destination's name. `-` is standard output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::{FileIdentity, InputOptions, file_identity, input_files};

/// The path that means standard output wherever an output path is taken.
pub const STDOUT: &str = "-";

/// Whether `path` names standard output (`-`).
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == STDOUT
}

/// An output being written: see the module docs. Dropped without [`OutputFile::commit`], it
/// removes its temporary file and leaves the destination as it was.
///
/// ```
/// use std::io::Write;
/// use storyprint::output::OutputFile;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.txt");
/// std::fs::write(&path, "previous\n").unwrap();
/// let mut failed = OutputFile::create(&path).unwrap();
/// writeln!(failed, "half").unwrap();
/// drop(failed);
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous\n");
/// let mut out = OutputFile::create(&path).unwrap();
/// writeln!(out, "new").unwrap();
/// out.commit().unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
/// ```
pub struct OutputFile {
    writer: BufWriter<Destination>,
    path: PathBuf,
}

/// Where an [`OutputFile`]'s bytes go.
enum Destination {
    /// Standard output (`-`).
    Stdout(io::Stdout),
    /// A destination that is not a regular file (`/dev/null`, a FIFO): written in place, since
    /// it cannot be replaced.
    Direct(File),
    /// A temporary file that replaces `target` on commit.
    Replacing {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
    },
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::Direct(file) => file.write(buf),
            Destination::Replacing { temp, .. } => temp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::Direct(file) => file.flush(),
            Destination::Replacing { temp, .. } => temp.flush(),
        }
    }
}

impl OutputFile {
    /// Starts writing `path` (`-`: standard output). Fails when its directory does not exist
    /// or is not writable, or when `path` is a directory, before anything is written.
    pub fn create(path: &Path) -> Result<OutputFile> {
        let failed = |error| Error::Io {
            path: path.to_path_buf(),
            error,
        };
        let destination = if is_stdout(path) {
            Destination::Stdout(io::stdout())
        } else {
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => {
                    return Err(failed(io::Error::new(
                        io::ErrorKind::IsADirectory,
                        "is a directory",
                    )));
                }
                Ok(meta) if !meta.is_file() => Destination::Direct(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(failed)?,
                ),
                // A symbolic link is followed: the file it names is replaced, not the link.
                Ok(meta) => {
                    let target = std::fs::canonicalize(path).map_err(failed)?;
                    replacing(target, Some(meta.permissions())).map_err(failed)?
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    replacing(path.to_path_buf(), None).map_err(failed)?
                }
                Err(e) => return Err(failed(e)),
            }
        };
        Ok(OutputFile {
            writer: BufWriter::new(destination),
            path: path.to_path_buf(),
        })
    }

    /// The path given to [`OutputFile::create`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the temporary file over the destination (flushes standard
    /// output).
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let failed = |error| match is_stdout(&path) {
            // A closed pipe shows as a failed write of output, which the command line forgives.
            true => Error::Output(error),
            false => Error::Io {
                path: path.clone(),
                error,
            },
        };
        let destination = self
            .writer
            .into_inner()
            .map_err(|e| failed(e.into_error()))?;
        match destination {
            Destination::Stdout(mut out) => out.flush().map_err(failed),
            Destination::Direct(mut file) => file.flush().map_err(failed),
            Destination::Replacing { temp, target } => {
                temp.as_file().sync_all().map_err(failed)?;
                temp.persist(&target).map_err(|e| failed(e.error))?;
                sync_directory(&target).map_err(failed)
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// The suffix of the temporary files outputs are written to.
const PARTIAL: &str = ".partial";

/// Removes the temporary files `.NAME.*.partial` in `dir` that a killed run writing `NAME`
/// left: those nobody holds locked (a run holds its own locked until it ends). Best effort:
/// what cannot be removed stays.
fn remove_abandoned(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Neither follows a symbolic link; only a regular file is opened (a pipe could block).
        let ours = name.starts_with(prefix) && name.ends_with(PARTIAL);
        if !(ours && entry.file_type().is_ok_and(|t| t.is_file())) {
            continue;
        }
        if let Ok(file) = File::open(entry.path())
            && file.try_lock().is_ok()
        {
            // Removed while locked: a run that created it and waits for its lock finds it gone.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A temporary file for `target` in `dir`, named with `prefix`, held locked for the life of the
/// run (see [`remove_abandoned`]; unlocked where the file system does not lock files). When
/// another run removed it between its creation and its lock, another is made.
fn locked_temp(builder: &tempfile::Builder, dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    loop {
        let temp = builder.tempfile_in(dir)?;
        if temp.as_file().lock().is_err() || std::fs::symlink_metadata(temp.path()).is_ok() {
            return Ok(temp);
        }
    }
}

/// A temporary file beside `target` (named after it, hidden) with the permissions `target`
/// has, or those a new file gets. Those a killed run left for `target` are removed first.
fn replacing(
    target: PathBuf,
    permissions: Option<std::fs::Permissions>,
) -> io::Result<Destination> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(PARTIAL);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // What `File::create` asks for; the umask narrows it.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // The directory's own error says what is wrong more plainly than the temporary file's,
    // which names the temporary file.
    std::fs::metadata(dir)?;
    remove_abandoned(dir, &prefix);
    let temp = locked_temp(&builder, dir).map_err(|e| {
        let kind = e.kind();
        io::Error::new(
            kind,
            format!("cannot create a file in {}: {kind}", dir.display()),
        )
    })?;
    if let Some(permissions) = permissions {
        temp.as_file().set_permissions(permissions)?;
    }
    Ok(Destination::Replacing { temp, target })
}

/// Syncs the directory holding `path`, so that a rename into it survives a crash.
fn sync_directory(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether an output at `path` is checked against the inputs and the other outputs: a file or
/// a path not yet created, not standard output or a device (`/dev/null` may take every output).
fn is_checked(path: &Path) -> bool {
    !is_stdout(path) && std::fs::metadata(path).map_or(true, |meta| meta.is_file())
}

/// Refuses, before anything is opened for writing, an output that is one of the inputs (the
/// paths given, or a file found in a directory given), by path, link or inode, and two outputs
/// that are the same file: writing them would replace what is read, or one output the other.
pub fn check_outputs(outputs: &[&Path], inputs: &[PathBuf], options: &InputOptions) -> Result<()> {
    let outputs: Vec<(&Path, FileIdentity)> = outputs
        .iter()
        .filter(|path| is_checked(path))
        .filter_map(|&path| file_identity(path).map(|id| (path, id)))
        .collect();
    for (n, (output, id)) in outputs.iter().enumerate() {
        if let Some((other, _)) = outputs[..n].iter().find(|(_, other)| other == id) {
            return Err(Error::OutputConflict {
                output: output.to_path_buf(),
                reason: format!("it is also the output {}", other.display()),
            });
        }
    }
    if outputs.is_empty() {
        return Ok(());
    }
    for input in input_files(inputs, options) {
        let Some(input_id) = file_identity(&input) else {
            continue;
        };
        if let Some((output, _)) = outputs.iter().find(|(_, id)| *id == input_id) {
            return Err(Error::OutputConflict {
                output: output.to_path_buf(),
                reason: format!(
                    "it is the input {}, which writing it would replace",
                    input.display()
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tsv");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        let mut out = OutputFile::create(&path).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_output_replaces_the_file_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut out = OutputFile::create(&link).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn outputs_that_are_inputs_or_each_other_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "{}\n").unwrap();
        let options = InputOptions::default();
        let fresh = dir.path().join("out.jsonl");
        let inputs = [input.clone()];
        assert!(check_outputs(&[&fresh], &inputs, &options).is_ok());
        assert!(check_outputs(&[&input], &inputs, &options).is_err());
        let dirs = [dir.path().to_path_buf()];
        assert!(check_outputs(&[&input], &dirs, &options).is_err());
        assert!(check_outputs(&[&fresh, &fresh], &inputs, &options).is_err());
        let stdout = Path::new(STDOUT);
        assert!(check_outputs(&[stdout, stdout], &inputs, &options).is_ok());
    }
}
