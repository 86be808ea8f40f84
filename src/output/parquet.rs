//! Parquet files (feature `parquet`): a writer that replaces its file only once complete, and
//! the clusters file the dataflow runner writes (its schema is in `storyprint::export`).

use std::path::Path;
use std::sync::Arc;

use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::OutputFile;
use crate::error::{Error, Result};

/// Rows per record batch of a Parquet file (and, in `storyprint::export`, per chunk of
/// documents sketched in parallel).
pub(crate) const BATCH_ROWS: usize = 4096;

/// An export error naming the file.
pub(crate) fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Export(format!("{}: {e}", path.display()))
}

/// A Parquet writer into `path`, which it replaces only when [`close`] succeeds (`-`: standard
/// output).
pub(crate) fn open(
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
pub(crate) fn close(writer: ArrowWriter<OutputFile>, path: &Path) -> Result<()> {
    writer
        .into_inner()
        .map_err(|e| parquet_error(path, e))?
        .commit()
}

/// Writes the cluster assignment, rows of `(doc_id, cluster_id, kept)` (see
/// `storyprint::export`).
#[cfg(feature = "dist")]
pub(crate) fn write_clusters(out: &Path, rows: &[(String, String, bool)]) -> Result<()> {
    use arrow_array::builder::StringBuilder;
    use arrow_array::{ArrayRef, BooleanArray, RecordBatch};
    use arrow_schema::{DataType, Field};

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
