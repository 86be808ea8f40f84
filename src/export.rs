//! Parquet export (feature `parquet`): signatures and clusters as files a Spark, DataFusion
//! or pyarrow job can read, to take over or continue the work.
//!
//! Signatures file (one row per document, in input order):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `doc_id` | string | the document's id |
//! | `signature` | `list<uint32>` | the K MinHash values |
//! | `weight` | float64 | the weighted size of its feature set |
//! | `band_keys` | `list<uint64>` | the LSH band keys (xxh3, stable) |
//! | `fact_slots` | `list<struct<context: uint64, number: uint64>>` | the fact slots the fact check compares (empty without it) |
//!
//! with the parameters in the file's key-value metadata (`storyprint.num_hashes`,
//! `storyprint.seed`, `storyprint.features`, `storyprint.bands`, `storyprint.rows`,
//! `storyprint.min_hits`, `storyprint.threshold`, `storyprint.measure`, `storyprint.format`).
//! `num_hashes`, `seed`, `features` and `format` are the [`SignatureParams`] the signatures
//! were made with: `features` is [`SignatureParams::settings_text`], `format` the
//! [`SIGNATURE_FORMAT`](crate::signature::SIGNATURE_FORMAT) whose hashes they use. Two
//! documents are a candidate pair when at least `min_hits` of their band keys agree position
//! by position.
//! [`Signer`] makes the same rows from texts in memory (the Python package's
//! `Fingerprinter.signatures`), and [`evidence`] reads a row back for verification.
//!
//! Clusters file: `doc_id` (string), `cluster_id` (string: the id of the first document of
//! its connected component, in input order), `kept` (bool).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_array::{
    ArrayRef, Float64Array, ListArray, RecordBatch, StringArray, StructArray, UInt32Array,
    UInt64Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::file::metadata::KeyValue;
use rayon::prelude::*;

use crate::config::{Config, Weighting};
use crate::error::{Error, Result};
use crate::features::{DocFreq, Slot};
use crate::input::{InputOptions, Reader, Record};
use crate::lsh::{Banding, Scan};
use crate::output::parquet::{BATCH_ROWS, close, open, parquet_error};
use crate::pool::Pool;
use crate::runner::{Dedup, Summary};
use crate::sign::Signing;
use crate::signature::{Signature, SignatureParams};

/// Writes every document's signature, band keys and fact slots to `out` (see the module
/// docs); returns the number of documents. With IDF weighting the inputs are read twice
/// (frequencies first), as `dedup` does, so the signatures are those `dedup` computes.
pub fn signatures(
    paths: &[PathBuf],
    options: &InputOptions,
    config: &Config,
    out: &Path,
) -> Result<u64> {
    let signer = Signer::new(config.clone())?;
    if config.weighting == Weighting::Idf
        && let Some(path) = crate::input::read_once(paths)
    {
        return Err(Error::Config(format!(
            "IDF weighting reads the inputs twice, so it cannot read standard input or a pipe \
             ({}); save it to a file first",
            path.display()
        )));
    }
    // The frequency pass of every runner (its analyzers, with every word they stemmed, serve
    // the signature pass).
    let freq = match config.weighting {
        Weighting::Idf => Dedup::new(config.clone(), options.clone()).frequencies(
            paths,
            &signer.signing,
            &mut (),
            &mut Summary::default(),
        ),
        Weighting::None => DocFreq::default(),
    };
    let metadata = signer
        .metadata()
        .into_iter()
        .map(|(k, v)| KeyValue::new(k, v))
        .collect();
    let schema = signer.schema();
    let mut writer = open(out, &schema, metadata)?;
    let mut written = 0u64;
    for_each_chunk(paths, options, |chunk| {
        let ids: Vec<&str> = chunk.iter().map(|r| r.doc.id.as_str()).collect();
        let texts: Vec<&str> = chunk.iter().map(|r| r.doc.text.as_str()).collect();
        let batch = signer
            .batch(&freq, &ids, &texts)
            .map_err(|e| parquet_error(out, e))?;
        writer.write(&batch).map_err(|e| parquet_error(out, e))?;
        written += chunk.len() as u64;
        Ok(())
    })?;
    close(writer, out)?;
    Ok(written)
}

/// Makes the signatures file's rows from texts in memory, as `storyprint signatures` does for
/// each chunk of its inputs (the Python package's `Fingerprinter` is one).
pub struct Signer {
    /// The signing stage, whose analyzers are kept between batches with the words they have
    /// stemmed.
    signing: Signing,
    banding: Banding,
}

impl Signer {
    /// A signer for a configuration (validated).
    pub fn new(config: Config) -> Result<Signer> {
        config.validate()?;
        Ok(Signer {
            banding: Banding::for_config(&config, Scan::Streaming),
            signing: Signing::new(&config),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.signing.config()
    }

    /// The banding the band keys are cut by (dedup's).
    pub fn banding(&self) -> Banding {
        self.banding
    }

    /// The file's key-value metadata (`storyprint.num_hashes`, …; see the module docs).
    pub fn metadata(&self) -> Vec<(String, String)> {
        let (config, banding) = (self.config(), &self.banding);
        let p = SignatureParams::of(config);
        [
            ("num_hashes", p.num_hashes.to_string()),
            ("seed", p.seed.to_string()),
            ("features", p.settings_text()),
            ("bands", banding.bands.to_string()),
            ("rows", banding.rows.to_string()),
            ("min_hits", banding.min_hits.to_string()),
            ("threshold", config.threshold.to_string()),
            ("measure", format!("{:?}", config.measure)),
            // Signatures of one configuration differ across formats, so the file says which
            // it holds.
            ("format", p.format.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("storyprint.{k}"), v))
        .collect()
    }

    /// The columns (without metadata).
    pub fn schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("doc_id", DataType::Utf8, false),
            Field::new("signature", list_of(DataType::UInt32), false),
            Field::new("weight", DataType::Float64, false),
            Field::new("band_keys", list_of(DataType::UInt64), false),
            Field::new(
                "fact_slots",
                list_of(DataType::Struct(slot_fields())),
                false,
            ),
        ]))
    }

    /// The document frequencies of `texts`, counted as the frequency pass counts them.
    pub fn frequencies(&self, texts: &[&str]) -> DocFreq {
        self.signing.frequencies(texts)
    }

    /// The rows of documents `ids` with texts `texts` (as many), weighted by `freq`, sketched
    /// in parallel.
    pub fn batch(&self, freq: &DocFreq, ids: &[&str], texts: &[&str]) -> Result<RecordBatch> {
        let signing = &self.signing;
        let states = Pool::default();
        let sketches: Vec<(Signature, Vec<Slot>)> = texts
            .par_iter()
            .map_init(
                || states.lend(|| signing.state(freq)),
                |state, text| signing.sign(state, text),
            )
            .collect();
        // The states' analyzers go back to the stage for the next batch.
        drop(states);
        // Every column in one buffer of its final size: no builder growing and copying.
        let hashes: usize = sketches.iter().map(|(sig, _)| sig.values.len()).sum();
        let mut values = Vec::with_capacity(hashes);
        let mut value_offsets = Vec::with_capacity(sketches.len() + 1);
        let (mut contexts, mut numbers, mut slot_offsets) = (Vec::new(), Vec::new(), vec![0]);
        value_offsets.push(0);
        for (sig, slots) in &sketches {
            values.extend_from_slice(&sig.values);
            value_offsets.push(offset(values.len())?);
            for &(context, number) in slots {
                contexts.push(context);
                numbers.push(number);
            }
            slot_offsets.push(offset(contexts.len())?);
        }
        let bands = self.banding.bands;
        let mut keys = vec![0u64; sketches.len() * bands];
        keys.par_chunks_mut(bands.max(1))
            .zip(&sketches)
            .for_each(|(row, (sig, _))| {
                for (key, (_, value)) in row.iter_mut().zip(self.banding.band_keys(sig)) {
                    *key = value;
                }
            });
        let key_offsets = (0..=sketches.len())
            .map(|row| offset(row * bands))
            .collect::<Result<Vec<i32>>>()?;
        let slots = StructArray::try_new(
            slot_fields(),
            vec![
                Arc::new(UInt64Array::from(contexts)),
                Arc::new(UInt64Array::from(numbers)),
            ],
            None,
        )
        .map_err(|e| Error::Export(e.to_string()))?;
        let weights = Float64Array::from_iter_values(sketches.iter().map(|(s, _)| s.weight));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(ids)),
            list(value_offsets, Arc::new(UInt32Array::from(values)))?,
            Arc::new(weights),
            list(key_offsets, Arc::new(UInt64Array::from(keys)))?,
            list(slot_offsets, Arc::new(slots))?,
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::Export(e.to_string()))
    }
}

/// A list column's offset: `at` items before the row's end.
fn offset(at: usize) -> Result<i32> {
    i32::try_from(at).map_err(|e| Error::Export(e.to_string()))
}

/// A list column of `items`, row `i` the items from `offsets[i]` to `offsets[i + 1]`.
fn list(offsets: Vec<i32>, items: ArrayRef) -> Result<ArrayRef> {
    let field = Arc::new(Field::new("item", items.data_type().clone(), true));
    let array = ListArray::try_new(field, OffsetBuffer::new(offsets.into()), items, None)
        .map_err(|e| Error::Export(e.to_string()))?;
    Ok(Arc::new(array))
}

/// A list column's type, items of type `item`.
fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

/// The fields of a fact slot.
fn slot_fields() -> Fields {
    Fields::from(vec![
        Field::new("context", DataType::UInt64, false),
        Field::new("number", DataType::UInt64, false),
    ])
}

/// Each row's signature and fact slots, read back from the `signature`, `weight` and
/// `fact_slots` columns of signatures rows (a file's, or [`Signer::batch`]'s), to judge pairs
/// with [`crate::similarity::estimated_similarity`].
pub fn evidence(batch: &RecordBatch) -> Result<Vec<(Signature, Vec<Slot>)>> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| Error::Config(format!("no {name:?} column in the signatures")))
    };
    let wrong = |name: &str| {
        Error::Config(format!(
            "column {name:?} is not as a signatures file has it"
        ))
    };
    let signatures = column("signature")?
        .as_list_opt::<i32>()
        .ok_or_else(|| wrong("signature"))?;
    let weights = column("weight")?
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| wrong("weight"))?;
    let slots = column("fact_slots")?
        .as_list_opt::<i32>()
        .ok_or_else(|| wrong("fact_slots"))?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let values = signatures.value(row);
        let values = values
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| wrong("signature"))?;
        let doc_slots = slots.value(row);
        let doc_slots = doc_slots
            .as_struct_opt()
            .ok_or_else(|| wrong("fact_slots"))?;
        let part = |i: usize| {
            doc_slots
                .column(i)
                .as_primitive_opt::<UInt64Type>()
                .ok_or_else(|| wrong("fact_slots"))
        };
        let (contexts, numbers) = (part(0)?, part(1)?);
        let signature = Signature {
            values: values.values().to_vec(),
            weight: weights.value(row),
        };
        let slots = contexts
            .values()
            .iter()
            .copied()
            .zip(numbers.values().iter().copied());
        rows.push((signature, slots.collect()));
    }
    Ok(rows)
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
