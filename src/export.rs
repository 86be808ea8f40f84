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
//! Judging pairs at a level (`dedup` above `related`) takes the exact feature sets, which
//! [`Signer::features`] gives as rows of one `features` column
//! (`list<struct<hash: uint64, weight: float64>>`, sorted by hash). A job that has them pairs
//! rows to [`Signer::exact_similarities`], contrasts a document with its candidates'
//! ([`Signer::contrasted`]) and takes the story score and level of its verified pairs
//! ([`Signer::levels`]): the judgements `dedup` makes, step by step, on rows another engine
//! holds.
//!
//! Clusters file: `doc_id` (string), `cluster_id` (string: the id of the first document of
//! its connected component, in input order), `kept` (bool).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, Float64Array, ListArray, RecordBatch, StringArray, StructArray, UInt32Array,
    UInt64Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::file::metadata::KeyValue;
use rayon::prelude::*;

use crate::config::{Config, Weighting};
use crate::contrast::contrasted;
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature, Slot};
use crate::input::{InputOptions, Reader, Record};
use crate::lsh::{Banding, Scan};
use crate::output::parquet::{BATCH_ROWS, close, open, parquet_error};
use crate::pool::Pool;
use crate::runner::{Dedup, Summary};
use crate::sign::Signing;
use crate::signature::{Signature, SignatureParams};
use crate::similarity::{Evidence, similarity_of, story_of};
use crate::verdict::{Level, level};

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
        let slots = structs(
            slot_fields(),
            vec![
                Arc::new(UInt64Array::from(contexts)),
                Arc::new(UInt64Array::from(numbers)),
            ],
        )?;
        let weights = Float64Array::from_iter_values(sketches.iter().map(|(s, _)| s.weight));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(ids)),
            list(value_offsets, Arc::new(UInt32Array::from(values)))?,
            Arc::new(weights),
            list(key_offsets, Arc::new(UInt64Array::from(keys)))?,
            list(slot_offsets, slots)?,
        ];
        RecordBatch::try_new(self.schema(), columns).map_err(|e| Error::Export(e.to_string()))
    }
}

/// Exact verification and the story score, row by row: what a job that holds the rows in
/// another engine (the Spark example) calls to judge pairs as `dedup` judges them.
impl Signer {
    /// The exact feature sets of `texts` weighted by `freq`, as `dedup` verifies them: one
    /// `features` column.
    pub fn features(&self, freq: &DocFreq, texts: &[&str]) -> Result<RecordBatch> {
        let signing = &self.signing;
        let sets: Vec<Vec<Feature>> = texts
            .par_iter()
            .map_init(
                || signing.analyzer(),
                |analyzer, text| signing.exact_features(analyzer, freq, text),
            )
            .collect();
        features_batch(&sets)
    }

    /// The exact similarity of row `i` of `left` with row `i` of `right` (rows with
    /// `features` and `fact_slots` columns), as `dedup` verifies a candidate pair.
    pub fn exact_similarities(&self, left: &RecordBatch, right: &RecordBatch) -> Result<Vec<f64>> {
        let config = self.exact_config();
        self.pairwise(left, right, |a, b| similarity_of(&config, a, b))
    }

    /// Each row's `features` contrasted with its `neighbours` (a list of feature sets: the
    /// documents it is a candidate pair with, [`crate::contrast`]): one `features` column.
    pub fn contrasted(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let own = features_of(batch, "features")?;
        let lists = list_column(batch, "neighbours")?;
        let neighbours = (0..batch.num_rows())
            .map(|row| feature_lists(&lists.value(row), "neighbours"))
            .collect::<Result<Vec<_>>>()?;
        let sets: Vec<Vec<Feature>> = own
            .par_iter()
            .zip(&neighbours)
            .map(|(own, near)| contrasted(own, near.iter().map(Vec::as_slice)))
            .collect();
        features_batch(&sets)
    }

    /// The story score and level of verified pairs: row `i` of `left` with row `i` of
    /// `right` (rows with contrasted `features` and `fact_slots`), whose similarity is
    /// `similarities[i]`; the level is `None` below the threshold.
    pub fn levels(
        &self,
        left: &RecordBatch,
        right: &RecordBatch,
        similarities: &[f64],
    ) -> Result<Vec<(f64, Option<Level>)>> {
        if similarities.len() != left.num_rows() {
            return Err(Error::Config(format!(
                "{} similarities for {} pairs",
                similarities.len(),
                left.num_rows()
            )));
        }
        let config = self.exact_config();
        let stories = self.pairwise(left, right, |a, b| story_of(&config, a, b))?;
        Ok(stories
            .into_iter()
            .zip(similarities)
            .map(|(story, &similarity)| (story, level(similarity, story, config.threshold)))
            .collect())
    }

    /// The configuration with exact verification: how `dedup` judges pairs above `related`.
    fn exact_config(&self) -> Config {
        Config {
            exact: true,
            ..self.config().clone()
        }
    }

    /// `judge` of row `i` of `left` with row `i` of `right`, both rows with `features` and
    /// `fact_slots`, in parallel.
    fn pairwise(
        &self,
        left: &RecordBatch,
        right: &RecordBatch,
        judge: impl Fn(&Evidence<'_>, &Evidence<'_>) -> f64 + Sync,
    ) -> Result<Vec<f64>> {
        if left.num_rows() != right.num_rows() {
            return Err(Error::Config(format!(
                "{} rows on the left, {} on the right",
                left.num_rows(),
                right.num_rows()
            )));
        }
        let (features_a, features_b) = (
            features_of(left, "features")?,
            features_of(right, "features")?,
        );
        let (slots_a, slots_b) = (slots_of(left)?, slots_of(right)?);
        // Exact judgements read features and slots only.
        let no_signature = Signature {
            values: Vec::new(),
            weight: 0.0,
        };
        Ok((0..left.num_rows())
            .into_par_iter()
            .map(|i| {
                let evidence = |features, slots| Evidence {
                    features,
                    signature: &no_signature,
                    slots,
                };
                judge(
                    &evidence(&features_a[i], &slots_a[i]),
                    &evidence(&features_b[i], &slots_b[i]),
                )
            })
            .collect())
    }
}

/// The fields of a weighted feature.
fn feature_fields() -> Fields {
    Fields::from(vec![
        Field::new("hash", DataType::UInt64, false),
        Field::new("weight", DataType::Float64, false),
    ])
}

/// A batch of one `features` column of `sets`.
fn features_batch(sets: &[Vec<Feature>]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "features",
        list_of(DataType::Struct(feature_fields())),
        false,
    )]));
    RecordBatch::try_new(schema, vec![feature_column(sets)?])
        .map_err(|e| Error::Export(e.to_string()))
}

/// A `features` column of `sets`.
fn feature_column(sets: &[Vec<Feature>]) -> Result<ArrayRef> {
    let mut offsets = Vec::with_capacity(sets.len() + 1);
    offsets.push(0);
    let (mut hashes, mut weights) = (Vec::new(), Vec::new());
    for set in sets {
        for &(hash, weight) in set {
            hashes.push(hash);
            weights.push(weight);
        }
        offsets.push(offset(hashes.len())?);
    }
    let items = structs(
        feature_fields(),
        vec![
            Arc::new(UInt64Array::from(hashes)),
            Arc::new(Float64Array::from(weights)),
        ],
    )?;
    list(offsets, items)
}

/// A column of structs with `fields`, the field `i` of row `r` at `columns[i][r]`.
fn structs(fields: Fields, columns: Vec<ArrayRef>) -> Result<ArrayRef> {
    let array =
        StructArray::try_new(fields, columns, None).map_err(|e| Error::Export(e.to_string()))?;
    Ok(Arc::new(array))
}

/// The list column `name` of `batch`.
fn list_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ListArray> {
    batch
        .column_by_name(name)
        .ok_or_else(|| Error::Config(format!("no {name:?} column in the rows")))?
        .as_list_opt::<i32>()
        .ok_or_else(|| wrong_column(name))
}

/// The error of a column that is not of the type its name says.
fn wrong_column(name: &str) -> Error {
    Error::Config(format!("column {name:?} is not as storyprint writes it"))
}

/// The feature sets of the `features`-typed list column `name`.
fn features_of(batch: &RecordBatch, name: &str) -> Result<Vec<Vec<Feature>>> {
    feature_lists(list_column(batch, name)?, name)
}

/// The feature sets of a list of `struct<hash, weight>` (the column `name`).
fn feature_lists(lists: &dyn Array, name: &str) -> Result<Vec<Vec<Feature>>> {
    let lists = lists
        .as_list_opt::<i32>()
        .ok_or_else(|| wrong_column(name))?;
    let items = lists
        .values()
        .as_struct_opt()
        .ok_or_else(|| wrong_column(name))?;
    let hashes = items
        .column(0)
        .as_primitive_opt::<UInt64Type>()
        .ok_or_else(|| wrong_column(name))?;
    let weights = items
        .column(1)
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| wrong_column(name))?;
    Ok(row_pairs(lists, hashes.values(), weights.values()))
}

/// The fact slots of each row of `batch`'s `fact_slots` column.
fn slots_of(batch: &RecordBatch) -> Result<Vec<Vec<Slot>>> {
    let lists = list_column(batch, "fact_slots")?;
    let items = lists
        .values()
        .as_struct_opt()
        .ok_or_else(|| wrong_column("fact_slots"))?;
    let part = |i: usize| {
        items
            .column(i)
            .as_primitive_opt::<UInt64Type>()
            .ok_or_else(|| wrong_column("fact_slots"))
    };
    let (contexts, numbers) = (part(0)?, part(1)?);
    Ok(row_pairs(lists, contexts.values(), numbers.values()))
}

/// Each row of a list of two-field structs whose fields are `firsts` and `seconds`, as
/// pairs.
fn row_pairs<A: Copy, B: Copy>(lists: &ListArray, firsts: &[A], seconds: &[B]) -> Vec<Vec<(A, B)>> {
    lists
        .offsets()
        .windows(2)
        .map(|w| {
            let (from, to) = (w[0] as usize, w[1] as usize);
            firsts[from..to]
                .iter()
                .copied()
                .zip(seconds[from..to].iter().copied())
                .collect()
        })
        .collect()
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
    let signatures = list_column(batch, "signature")?;
    let weights = batch
        .column_by_name("weight")
        .ok_or_else(|| Error::Config("no \"weight\" column in the rows".into()))?
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| wrong_column("weight"))?;
    let values = signatures
        .values()
        .as_primitive_opt::<UInt32Type>()
        .ok_or_else(|| wrong_column("signature"))?;
    let slots = slots_of(batch)?;
    Ok(signatures
        .offsets()
        .windows(2)
        .zip(slots)
        .enumerate()
        .map(|(row, (w, slots))| {
            let signature = Signature {
                values: values.values()[w[0] as usize..w[1] as usize].to_vec(),
                weight: weights.value(row),
            };
            (signature, slots)
        })
        .collect())
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
