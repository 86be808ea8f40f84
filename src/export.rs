//! Parquet export (feature `parquet`): signatures and clusters as files a Spark, DataFusion
//! or pyarrow job can read, to take over or continue the work.
//!
//! Signatures file (one row per document, in input order):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `doc_id` | string | the document's id |
//! | `signature` | list<uint32> | the K MinHash values |
//! | `weight` | float64 | the weighted size of its feature set |
//! | `band_keys` | list<uint64> | the LSH band keys (xxh3, stable) |
//!
//! with the parameters in the file's key-value metadata (`storyprint.num_hashes`,
//! `storyprint.seed`, `storyprint.features`, `storyprint.bands`, `storyprint.rows`,
//! `storyprint.min_hits`, `storyprint.threshold`, `storyprint.measure`, `storyprint.format`:
//! the index format version, whose hashes the signatures use). Two documents are a
//! candidate pair when at least `min_hits` of their band keys agree position by position.
//!
//! Clusters file: `doc_id` (string), `cluster_id` (string: the id of the first document of
//! its connected component, in input order), `kept` (bool).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::config::{Config, Weighting};
use crate::dedup::{Sketching, count_terms, dedup_lsh_threshold, sketch_of};
use crate::error::{Error, Result};
use crate::input::{InputOptions, Reader, Record};
use crate::lsh::Banding;
use crate::output::OutputFile;
use crate::pipeline::params;
use crate::pool::Pool;
use crate::shingle::DocFreq;
use crate::signature::{Signature, Sketcher};
use crate::tokenize::Analyzer;

/// Rows per record batch (and per chunk of documents sketched in parallel).
const BATCH_ROWS: usize = 4096;

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Export(format!("{}: {e}", path.display()))
}

/// A Parquet writer into `path`, which it replaces only when [`close`] succeeds (`-`: standard
/// output).
fn open(
    path: &Path,
    schema: &Arc<Schema>,
    metadata: Vec<KeyValue>,
) -> Result<ArrowWriter<OutputFile>> {
    let file = OutputFile::create(path)?;
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(metadata))
        .build();
    ArrowWriter::try_new(file, Arc::clone(schema), Some(props)).map_err(|e| parquet_error(path, e))
}

/// Writes the file's footer and puts the file in place.
fn close(writer: ArrowWriter<OutputFile>, path: &Path) -> Result<()> {
    writer
        .into_inner()
        .map_err(|e| parquet_error(path, e))?
        .commit()
}

/// Writes every document's signature and band keys to `out` (see the module docs); returns
/// the number of documents. With IDF weighting the inputs are read twice (frequencies
/// first), as `dedup` does, so the signatures are those `dedup` computes.
pub fn signatures(
    paths: &[PathBuf],
    options: &InputOptions,
    config: &Config,
    out: &Path,
) -> Result<u64> {
    config.validate()?;
    if config.weighting == Weighting::Idf
        && let Some(path) = crate::input::read_once(paths)
    {
        return Err(Error::Config(format!(
            "IDF weighting reads the inputs twice, so it cannot read standard input or a pipe \
             ({}); save it to a file first",
            path.display()
        )));
    }
    let mut freq = DocFreq::default();
    // The frequency pass's analyzer, with every word it stemmed, serves the signature pass.
    let analyzers = Pool::default();
    if config.weighting == Weighting::Idf {
        let analyzer = Analyzer::new(config.language);
        for_each_chunk(paths, options, |chunk| {
            for record in chunk {
                count_terms(&mut freq, &analyzer, config, &record.doc.text);
            }
            Ok(())
        })?;
        analyzers.give(analyzer);
    }
    let states = Pool::default();
    let banding = Banding::optimal(dedup_lsh_threshold(config), config.num_hashes);
    let sketcher = Sketcher::for_config(config);
    let p = params(config);
    let metadata = [
        ("num_hashes", p.num_hashes.to_string()),
        ("seed", p.seed.to_string()),
        ("features", p.features),
        ("bands", banding.bands.to_string()),
        ("rows", banding.rows.to_string()),
        ("min_hits", banding.min_hits.to_string()),
        ("threshold", config.threshold.to_string()),
        ("measure", format!("{:?}", config.measure)),
        // Signatures of one configuration differ across index formats (format 3 changed the
        // shingle hashes and the copies), so the file says which it holds.
        ("format", crate::index::FORMAT_VERSION.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| KeyValue::new(format!("storyprint.{k}"), v))
    .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Utf8, false),
        Field::new(
            "signature",
            DataType::List(Arc::new(Field::new("item", DataType::UInt32, true))),
            false,
        ),
        Field::new("weight", DataType::Float64, false),
        Field::new(
            "band_keys",
            DataType::List(Arc::new(Field::new("item", DataType::UInt64, true))),
            false,
        ),
    ]));
    let mut writer = open(out, &schema, metadata)?;
    let mut written = 0u64;
    for_each_chunk(paths, options, |chunk| {
        let sigs: Vec<Signature> = chunk
            .par_iter()
            .map_init(
                || states.lend(|| Sketching::with_analyzer(config, &freq, analyzers.take())),
                |state, record| sketch_of(state, &sketcher, config, &record.doc.text).0,
            )
            .collect();
        let mut values = ListBuilder::new(UInt32Builder::new());
        let mut keys = ListBuilder::new(UInt64Builder::new());
        for sig in &sigs {
            values.values().append_slice(&sig.values);
            values.append(true);
            for band in 0..banding.bands {
                keys.values().append_value(banding.band_key(sig, band));
            }
            keys.append(true);
        }
        let ids = StringArray::from_iter_values(chunk.iter().map(|r| r.doc.id.as_str()));
        let weights = Float64Array::from_iter_values(sigs.iter().map(|s| s.weight));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids),
            Arc::new(values.finish()),
            Arc::new(weights),
            Arc::new(keys.finish()),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
            .map_err(|e| parquet_error(out, e))?;
        writer.write(&batch).map_err(|e| parquet_error(out, e))?;
        written += chunk.len() as u64;
        Ok(())
    })?;
    close(writer, out)?;
    Ok(written)
}

/// Writes the cluster assignment, rows of `(doc_id, cluster_id, kept)` (see the module
/// docs).
pub fn write_clusters(out: &Path, rows: &[(String, String, bool)]) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Utf8, false),
        Field::new("cluster_id", DataType::Utf8, false),
        Field::new("kept", DataType::Boolean, false),
    ]));
    let mut writer = open(out, &schema, Vec::new())?;
    for rows in rows.chunks(BATCH_ROWS) {
        let mut ids = StringBuilder::new();
        let mut clusters = StringBuilder::new();
        for (id, cluster, _) in rows {
            ids.append_value(id);
            clusters.append_value(cluster);
        }
        let kept: BooleanArray = rows.iter().map(|r| Some(r.2)).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids.finish()),
            Arc::new(clusters.finish()),
            Arc::new(kept),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
            .map_err(|e| parquet_error(out, e))?;
        writer.write(&batch).map_err(|e| parquet_error(out, e))?;
    }
    close(writer, out)
}

/// Streams the inputs in chunks of [`BATCH_ROWS`] records (skipped documents are skipped, as
/// everywhere).
fn for_each_chunk(
    paths: &[PathBuf],
    options: &InputOptions,
    mut chunk_fn: impl FnMut(&[Record]) -> Result<()>,
) -> Result<()> {
    let mut reader = Reader::new(paths, options.clone());
    let mut chunk = Vec::with_capacity(BATCH_ROWS);
    while let Some(item) = reader.next_record() {
        if let Ok(record) = item {
            chunk.push(record);
            if chunk.len() == BATCH_ROWS {
                chunk_fn(&chunk)?;
                chunk.clear();
            }
        }
    }
    if !chunk.is_empty() {
        chunk_fn(&chunk)?;
    }
    Ok(())
}
