//! `storyprint._native`: the Python package's bridge to the storyprint library. Every
//! function turns Python values into the library's types, runs the library's own entry point
//! (the pipeline, the dedup runner, the signature export, the index) with the GIL released,
//! and turns the result back; `storyprint/__init__.py` gives it its Python shape.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyIterator};
use std::sync::Arc;

use storyprint::config::{Config, Overrides};
use storyprint::dedup::{DEFAULT_LEVEL, Dedup, Keep, Observer, Outputs};
use storyprint::export::{Signer, evidence};
use storyprint::features::DocFreq;
use storyprint::index::{AddOptions, AddStatus, Index as StoredIndex, OpenOptions, duplicate_at};
use storyprint::input::{InputOptions, Problem};
use storyprint::output::{self, Format};
use storyprint::similarity::{estimated_similarity, estimating};
use storyprint::{Document, Error, Fingerprints, Origin};

/// The allocator the `storyprint` command runs with (src/main.rs): the engine allocates per
/// document and per feature, and runs markedly slower on the system's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Python exception for a library error: `ValueError` for settings and inputs the caller
/// can change, `OSError` for files and the index on disk, with the library's message (the
/// command's).
fn py_error(error: Error) -> PyErr {
    let message = error.to_string();
    match error {
        Error::Config(_) | Error::Incompatible(_) | Error::Labels { .. } => {
            PyValueError::new_err(message)
        }
        Error::Json(_) => PyRuntimeError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// The configuration named by keyword options, as the command's flags name it (dashes as
/// underscores): `preset`, `features`, `weighting`, `hashes`, `measure`, `threshold`,
/// `level`, `exact`, `estimate`, `language`, `keep_stop_words`, `no_fact_check`,
/// `keep_chrome`, `statement_words`, `seed`. `None` values are left out.
fn config_of(options: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
    overrides_of(options)?.config().map_err(py_error)
}

/// The settings named by keyword options, as the library takes them.
fn overrides_of(options: Option<&Bound<'_, PyDict>>) -> PyResult<Overrides> {
    let mut o = Overrides::default();
    let Some(options) = options else {
        return Ok(o);
    };
    let parsed = |value: &Bound<'_, PyAny>| -> PyResult<String> { value.extract::<String>() };
    for (key, value) in options.iter() {
        if value.is_none() {
            continue;
        }
        let key: String = key.extract()?;
        let bad = |e: PyErr| PyValueError::new_err(format!("option {key}: {e}"));
        let setting = |s: String| -> PyResult<String> { Ok(s) };
        match key.as_str() {
            "preset" => o.preset = setting(parsed(&value)?)?.parse().map_err(py_error)?,
            "features" => o.features = Some(parsed(&value)?.parse().map_err(py_error)?),
            "weighting" => o.weighting = Some(parsed(&value)?.parse().map_err(py_error)?),
            "measure" => o.measure = Some(parsed(&value)?.parse().map_err(py_error)?),
            "level" => o.level = Some(parsed(&value)?.parse().map_err(py_error)?),
            "language" => o.language = Some(parsed(&value)?.parse().map_err(py_error)?),
            "hashes" => o.hashes = Some(value.extract().map_err(bad)?),
            "threshold" => o.threshold = Some(value.extract().map_err(bad)?),
            "statement_words" => o.statement_words = Some(value.extract().map_err(bad)?),
            "seed" => o.seed = Some(value.extract().map_err(bad)?),
            "exact" => o.exact = Some(value.extract().map_err(bad)?),
            "estimate" => {
                if value.extract::<bool>().map_err(bad)? {
                    o.exact = Some(false);
                }
            }
            "keep_stop_words" => o.keep_stop_words = value.extract().map_err(bad)?,
            "no_fact_check" => o.no_fact_check = value.extract().map_err(bad)?,
            "keep_chrome" => o.keep_chrome = value.extract().map_err(bad)?,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown option {key:?}; the options are the command's engine flags: \
                     preset, features, weighting, hashes, measure, threshold, level, exact, \
                     estimate, language, keep_stop_words, no_fact_check, keep_chrome, \
                     statement_words, seed"
                )));
            }
        }
    }
    Ok(o)
}

/// Python strings as `&str`, held by Python objects: the engine reads the texts where Python
/// keeps them instead of copies in Rust strings. (The stable ABI of Python 3.9, which the
/// package is built for, cannot lend a string's own UTF-8, so each string is encoded once into
/// a `bytes` object, and the `&str` borrows that.)
fn borrowed(strings: &[PyBackedStr]) -> Vec<&str> {
    strings.iter().map(|s| &**s).collect()
}

/// Documents from ids and texts given in memory.
fn documents(ids: Vec<String>, texts: Vec<String>) -> PyResult<Vec<Document>> {
    if ids.len() != texts.len() {
        return Err(PyValueError::new_err(format!(
            "{} ids for {} texts",
            ids.len(),
            texts.len()
        )));
    }
    Ok(ids
        .into_iter()
        .zip(texts)
        .map(|(id, text)| Document {
            origin: Origin {
                path: id.clone().into(),
                line: None,
            },
            id,
            text,
            time: None,
        })
        .collect())
}

/// Fingerprints documents in memory and writes one result as the command would print it.
fn fingerprinted(
    py: Python<'_>,
    ids: Vec<String>,
    texts: Vec<String>,
    options: Option<&Bound<'_, PyDict>>,
    write: impl FnOnce(&mut Vec<u8>, &Fingerprints) -> storyprint::Result<()> + Send,
) -> PyResult<String> {
    let config = config_of(options)?;
    let docs = documents(ids, texts)?;
    py.detach(|| {
        let prints = Fingerprints::new(&docs, &config)?;
        let mut out = Vec::new();
        write(&mut out, &prints)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    })
    .map_err(py_error)
}

/// The clusters as the command's `--format json` writes them.
#[pyfunction]
#[pyo3(signature = (ids, texts, options=None))]
fn cluster_json(
    py: Python<'_>,
    ids: Vec<String>,
    texts: Vec<String>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    fingerprinted(py, ids, texts, options, |out, prints| {
        output::write_clusters(out, &prints.ids, &prints.clusters(), Format::Json)
    })
}

/// The verified pairs as the command's `pairs --format jsonl` writes them.
#[pyfunction]
#[pyo3(signature = (ids, texts, options=None))]
fn pairs_jsonl(
    py: Python<'_>,
    ids: Vec<String>,
    texts: Vec<String>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    fingerprinted(py, ids, texts, options, |out, prints| {
        output::write_pairs(out, &prints.ids, &prints.pairs(), Format::Jsonl)
    })
}

/// The dense similarity matrix, `n × n`.
#[pyfunction]
#[pyo3(signature = (texts, options=None))]
fn matrix<'py>(
    py: Python<'py>,
    texts: Vec<String>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = config_of(options)?;
    let n = texts.len();
    let ids = (0..n).map(|i| i.to_string()).collect();
    let docs = documents(ids, texts)?;
    let flat = py
        .detach(|| {
            let prints = Fingerprints::new(&docs, &config)?;
            Ok(prints.matrix().into_iter().flatten().collect::<Vec<f64>>())
        })
        .map_err(py_error)?;
    Ok(PyArray1::from_vec(py, flat).reshape([n, n])?.into_any())
}

/// What a dedup run reports that the caller returns: the documents skipped, by line.
#[derive(Default)]
struct Skipped(Vec<(u64, String)>);

impl Observer for Skipped {
    fn problem(&mut self, problem: &Problem) {
        if !problem.is_note() {
            // The message without the place, which names the spooled file.
            let message = problem.to_string();
            let place = format!("{}: ", problem.origin);
            let reason = message.strip_prefix(&place).unwrap_or(&message).to_string();
            self.0.push((problem.origin.line.unwrap_or(0), reason));
        }
    }
}

/// Deduplicates the texts an iterator of `str` gives, in order, with the dedup runner: they
/// are written to a JSONL file in `temp_dir` (the runner reads its input twice), each named
/// by its place. Returns `(documents, removals, skipped)`: removals as `(removed, kept,
/// similarity)` places, the similarity as `removed.tsv` gives it; skipped as `(place,
/// reason)`.
#[pyfunction]
#[pyo3(signature = (texts, options=None, keep="first", exact=false, memory_mb=None, temp_dir=None))]
#[allow(clippy::type_complexity)]
fn dedup(
    py: Python<'_>,
    texts: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
    keep: &str,
    exact: bool,
    memory_mb: Option<u64>,
    temp_dir: Option<PathBuf>,
) -> PyResult<(u64, Vec<(u64, u64, f64)>, Vec<(u64, String)>)> {
    let config = (overrides_of(options)?)
        .config_at(DEFAULT_LEVEL)
        .map_err(py_error)?;
    let keep = match keep {
        "first" => Keep::First,
        "longest" => Keep::Longest,
        other => {
            return Err(PyValueError::new_err(format!(
                "keep must be \"first\" or \"longest\", not {other:?}"
            )));
        }
    };
    let temp_dir = temp_dir.unwrap_or_else(std::env::temp_dir);
    let spool = tempfile::Builder::new()
        .prefix("storyprint-dedup-")
        .suffix(".jsonl")
        .tempfile_in(&temp_dir)
        .map_err(|e| PyOSError::new_err(format!("{}: {e}", temp_dir.display())))?;
    let spool_error =
        |e: std::io::Error| PyOSError::new_err(format!("{}: {e}", spool.path().display()));
    let mut writer = BufWriter::new(spool.as_file());
    let mut n = 0u64;
    for text in PyIterator::from_object(texts)? {
        let text = text?;
        let text = text.extract::<String>().map_err(|_| {
            PyValueError::new_err(format!(
                "record {n}: the text is {}, not a str",
                text.get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |t| t.to_string())
            ))
        })?;
        let line = spooled_line(n, &text);
        writer.write_all(line.as_bytes()).map_err(spool_error)?;
        n += 1;
    }
    writer.flush().map_err(spool_error)?;
    drop(writer);
    let mut settings = Dedup::new(config, InputOptions::default());
    settings.keep = keep;
    settings.verify_exact = exact;
    settings.memory = memory_mb.map(|mb| mb.saturating_mul(1 << 20));
    settings.temp_dir = temp_dir;
    let paths = [spool.path().to_path_buf()];
    let (removed, skipped) = py
        .detach(|| {
            let mut removed = Vec::new();
            let mut skipped = Skipped::default();
            let outputs = Outputs {
                unique: &mut std::io::sink(),
                removed: Some(&mut removed),
                pairs: None,
            };
            settings.run(&paths, outputs, &mut skipped)?;
            Ok((removed, skipped.0))
        })
        .map_err(py_error)?;
    let removals = String::from_utf8_lossy(&removed)
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let removed = fields.next()?.parse().ok()?;
            let kept = fields.next()?.parse().ok()?;
            let similarity = fields.next()?.parse().ok()?;
            Some((removed, kept, similarity))
        })
        .collect();
    let skipped = skipped
        .into_iter()
        .map(|(line, why)| (line.saturating_sub(1), why))
        .collect();
    Ok((n, removals, skipped))
}

/// One spooled record: `{"id":"<place>","text":…}` and a newline.
fn spooled_line(place: u64, text: &str) -> String {
    let mut line = format!("{{\"id\":\"{place}\",\"text\":");
    line.push_str(&serde_json::Value::from(text).to_string());
    line.push_str("}\n");
    line
}

/// Signatures of texts, as `storyprint signatures` writes them (see `storyprint.Fingerprinter`).
#[pyclass(module = "storyprint._native")]
struct Fingerprinter {
    signer: Signer,
    /// Document frequencies given; `None`: counted from each call's texts.
    freq: Option<DocFreq>,
}

#[pymethods]
impl Fingerprinter {
    #[new]
    #[pyo3(signature = (options=None, frequencies=None, documents=None))]
    fn new(
        options: Option<&Bound<'_, PyDict>>,
        frequencies: Option<&Bound<'_, PyAny>>,
        documents: Option<u64>,
    ) -> PyResult<Fingerprinter> {
        let signer = Signer::new(config_of(options)?).map_err(py_error)?;
        let freq = match frequencies {
            None => None,
            Some(table) => Some(doc_freq(table, documents)?),
        };
        Ok(Fingerprinter { signer, freq })
    }

    /// The file metadata, `storyprint.*` keys.
    fn metadata(&self) -> Vec<(String, String)> {
        self.signer.metadata()
    }

    /// The rows of `texts` named `ids`, as a `pyarrow.RecordBatch` with the metadata.
    fn signatures<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<PyBackedStr>,
        texts: Vec<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if ids.len() != texts.len() {
            return Err(PyValueError::new_err(format!(
                "{} ids for {} texts",
                ids.len(),
                texts.len()
            )));
        }
        let (ids, texts) = (borrowed(&ids), borrowed(&texts));
        let batch = py
            .detach(|| self.with_freq(&texts, |freq| self.signer.batch(freq, &ids, &texts)))
            .map_err(py_error)?;
        let metadata: HashMap<String, String> = self.signer.metadata().into_iter().collect();
        let schema = Arc::new(batch.schema().as_ref().clone().with_metadata(metadata));
        let batch = batch
            .with_schema(schema)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        batch.to_pyarrow(py)
    }

    /// The document frequencies of `texts`: a `pyarrow.RecordBatch` of `term` and
    /// `documents` (both uint64), with `storyprint.documents` in the metadata.
    fn frequencies<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let texts = borrowed(&texts);
        let freq = py.detach(|| self.signer.frequencies(&texts));
        let mut counts: Vec<(u64, u64)> = freq.counts.into_iter().collect();
        counts.sort_unstable();
        let (terms, documents): (Vec<u64>, Vec<u64>) = counts.into_iter().unzip();
        let schema = arrow_schema_of_frequencies(freq.docs);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(terms)),
            Arc::new(UInt64Array::from(documents)),
        ];
        RecordBatch::try_new(schema, columns)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?
            .to_pyarrow(py)
    }

    /// The similarity dedup judges two texts by.
    fn similarity(&self, py: Python<'_>, a: String, b: String) -> PyResult<f64> {
        let config = estimating(self.signer.config());
        py.detach(|| {
            let texts = [a.as_str(), b.as_str()];
            let batch =
                self.with_freq(&texts, |freq| self.signer.batch(freq, &["a", "b"], &texts))?;
            let rows = evidence(&batch)?;
            let (x, y) = (&rows[0], &rows[1]);
            Ok(estimated_similarity(&config, (&x.0, &x.1), (&y.0, &y.1)))
        })
        .map_err(py_error)
    }

    /// The similarity dedup judges each pair of rows by: row `i` of `left` with row `i` of
    /// `right` (signatures rows: `signature`, `weight`, `fact_slots`).
    fn similarities<'py>(
        &self,
        py: Python<'py>,
        left: &Bound<'py, PyAny>,
        right: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (left, right) = paired(left, right)?;
        let config = estimating(self.signer.config());
        let similarities = py
            .detach(|| {
                let (left, right) = (evidence(&left)?, evidence(&right)?);
                Ok(left
                    .iter()
                    .zip(&right)
                    .map(|(x, y)| estimated_similarity(&config, (&x.0, &x.1), (&y.0, &y.1)))
                    .collect::<Vec<f64>>())
            })
            .map_err(py_error)?;
        Ok(PyArray1::from_vec(py, similarities))
    }

    /// The lowest level that counts as a match in this configuration.
    #[getter]
    fn level(&self) -> &'static str {
        self.signer.config().level.name()
    }

    /// The exact feature sets of `texts`: a `pyarrow.RecordBatch` of one `features` column.
    fn features<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let texts = borrowed(&texts);
        let batch = py
            .detach(|| self.with_freq(&texts, |freq| self.signer.features(freq, &texts)))
            .map_err(py_error)?;
        batch.to_pyarrow(py)
    }

    /// The exact similarity of row `i` of `left` with row `i` of `right` (rows with
    /// `features` and `fact_slots`).
    fn exact_similarities<'py>(
        &self,
        py: Python<'py>,
        left: &Bound<'py, PyAny>,
        right: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (left, right) = paired(left, right)?;
        let similarities = py
            .detach(|| self.signer.exact_similarities(&left, &right))
            .map_err(py_error)?;
        Ok(PyArray1::from_vec(py, similarities))
    }

    /// Each row's `features` contrasted with its `neighbours` (a list of feature sets): a
    /// batch of one `features` column.
    fn contrasted<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let batch = RecordBatch::from_pyarrow_bound(batch)?;
        let contrasted = py
            .detach(|| self.signer.contrasted(&batch))
            .map_err(py_error)?;
        contrasted.to_pyarrow(py)
    }

    /// The story score and level (`None` below the threshold) of verified pairs: row `i` of
    /// `left` with row `i` of `right` (contrasted `features` and `fact_slots`), whose
    /// similarity is `similarities[i]`.
    #[allow(clippy::type_complexity)]
    fn levels<'py>(
        &self,
        py: Python<'py>,
        left: &Bound<'py, PyAny>,
        right: &Bound<'py, PyAny>,
        similarities: Vec<f64>,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, Vec<Option<&'static str>>)> {
        let (left, right) = paired(left, right)?;
        let judged = py
            .detach(|| self.signer.levels(&left, &right, &similarities))
            .map_err(py_error)?;
        let (stories, levels): (Vec<f64>, Vec<Option<&'static str>>) = judged
            .into_iter()
            .map(|(story, level)| (story, level.map(|l| l.name())))
            .unzip();
        Ok((PyArray1::from_vec(py, stories), levels))
    }
}

impl Fingerprinter {
    /// `f` of the document frequencies given, or else of those of `texts`.
    fn with_freq<T>(&self, texts: &[&str], f: impl FnOnce(&DocFreq) -> T) -> T {
        match &self.freq {
            Some(freq) => f(freq),
            None => f(&self.counted(texts)),
        }
    }

    /// The frequencies of `texts` under IDF weighting; none without weighting.
    fn counted(&self, texts: &[&str]) -> DocFreq {
        match self.signer.config().weighting {
            storyprint::Weighting::Idf => self.signer.frequencies(texts),
            storyprint::Weighting::None => DocFreq::default(),
        }
    }
}

/// Two pyarrow batches whose rows are paired, row `i` with row `i`.
fn paired(
    left: &Bound<'_, PyAny>,
    right: &Bound<'_, PyAny>,
) -> PyResult<(RecordBatch, RecordBatch)> {
    let left = RecordBatch::from_pyarrow_bound(left)?;
    let right = RecordBatch::from_pyarrow_bound(right)?;
    if left.num_rows() != right.num_rows() {
        return Err(PyValueError::new_err(format!(
            "{} rows on the left, {} on the right",
            left.num_rows(),
            right.num_rows()
        )));
    }
    Ok((left, right))
}

/// The schema of a frequencies batch.
fn arrow_schema_of_frequencies(documents: u64) -> Arc<arrow_schema::Schema> {
    use arrow_schema::{DataType, Field, Schema};
    let metadata = [("storyprint.documents".to_string(), documents.to_string())];
    Arc::new(
        Schema::new(vec![
            Field::new("term", DataType::UInt64, false),
            Field::new("documents", DataType::UInt64, false),
        ])
        .with_metadata(HashMap::from(metadata)),
    )
}

/// Document frequencies from a `pyarrow.RecordBatch` of `term` and `documents`; the number
/// of documents counted is `documents`, or the batch's `storyprint.documents` metadata.
fn doc_freq(table: &Bound<'_, PyAny>, documents: Option<u64>) -> PyResult<DocFreq> {
    let batch = RecordBatch::from_pyarrow_bound(table)?;
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "frequencies need a uint64 column {name:?} (as Fingerprinter.frequencies gives)"
                ))
            })
    };
    let (terms, counts) = (column("term")?, column("documents")?);
    let docs = match documents {
        Some(n) => n,
        None => batch
            .schema()
            .metadata()
            .get("storyprint.documents")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                PyValueError::new_err(
                    "the number of documents counted is unknown: pass documents=N",
                )
            })?,
    };
    let mut freq = DocFreq {
        docs,
        ..DocFreq::default()
    };
    for (term, count) in terms.values().iter().zip(counts.values()) {
        *freq.counts.entry(*term).or_insert(0) += count;
    }
    Ok(freq)
}

/// A persistent index, the command's on-disk format (see `storyprint.Index`).
#[pyclass(module = "storyprint._native")]
struct Index {
    /// One call at a time: redb transactions are made by one thread.
    index: Mutex<StoredIndex>,
}

#[pymethods]
impl Index {
    #[new]
    #[pyo3(signature = (path, options=None))]
    fn new(py: Python<'_>, path: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Index> {
        let given = options.is_some_and(|o| !o.is_empty());
        let open = OpenOptions::create(config_of(options)?);
        let open = if given { open } else { open.any_settings() };
        let index = py
            .detach(|| StoredIndex::open(&path, &open))
            .map_err(py_error)?;
        Ok(Index {
            index: Mutex::new(index),
        })
    }

    /// Adds (or replaces) one document; returns "new", "replaced" or "unchanged".
    fn add(&self, py: Python<'_>, id: String, text: String) -> PyResult<&'static str> {
        if id.len() > storyprint::index::MAX_ID_BYTES {
            return Err(PyValueError::new_err(format!(
                "id of {} bytes (over {})",
                id.len(),
                storyprint::index::MAX_ID_BYTES
            )));
        }
        let docs = documents(vec![id], vec![text])?;
        let outcomes = py
            .detach(|| self.locked()?.add(&docs, &AddOptions::now()))
            .map_err(py_error)?;
        Ok(match outcomes.first().map(|o| o.status) {
            Some(AddStatus::Replaced) => "replaced",
            Some(AddStatus::Unchanged) => "unchanged",
            _ => "new",
        })
    }

    /// The indexed documents similar to `text`, best first, as `(id, similarity)`.
    #[pyo3(signature = (text, id=None, threshold=None))]
    fn check(
        &self,
        py: Python<'_>,
        text: String,
        id: Option<String>,
        threshold: Option<f64>,
    ) -> PyResult<(bool, Vec<CheckedMatch>)> {
        let (matches, level) = py
            .detach(|| {
                let index = self.locked()?;
                let matches = index.check(&text, id.as_deref(), threshold)?;
                Ok::<_, Error>((matches, index.config().level))
            })
            .map_err(py_error)?;
        let duplicate = duplicate_at(&matches, level);
        let matches = matches
            .into_iter()
            .map(|m| (m.id, m.similarity, m.story, m.level.name()))
            .collect();
        Ok((duplicate, matches))
    }

    /// Documents held.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let stats = py.detach(|| self.locked()?.stats()).map_err(py_error)?;
        Ok(usize::try_from(stats.documents).unwrap_or(usize::MAX))
    }
}

/// A match as `Index.check` gives it: id, similarity, story score, level.
type CheckedMatch = (String, f64, Option<f64>, &'static str);

impl Index {
    fn locked(&self) -> storyprint::Result<std::sync::MutexGuard<'_, StoredIndex>> {
        self.index
            .lock()
            .map_err(|_| Error::IndexCorrupt("a call on this index failed midway".into()))
    }
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cluster_json, m)?)?;
    m.add_function(wrap_pyfunction!(pairs_jsonl, m)?)?;
    m.add_function(wrap_pyfunction!(matrix, m)?)?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add_class::<Fingerprinter>()?;
    m.add_class::<Index>()?;
    m.add("EMPTY", storyprint::signature::EMPTY)?;
    m.add("DEDUP_LEVEL", DEFAULT_LEVEL.name())?;
    Ok(())
}
