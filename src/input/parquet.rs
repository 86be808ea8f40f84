//! Parquet input (feature `parquet`): one document per row, the text and id in the columns
//! named by [`InputOptions::text_field`] and [`InputOptions::id_field`].
//!
//! A file is read one row group at a time, and only those two columns of it, in batches of
//! [`BATCH_ROWS`] rows: memory holds a batch, never the file. A row's place is its row number
//! in the file (1-based, as a JSONL line's), so its problems read `corpus.parquet:17: …`; a
//! row group that cannot be decoded is one problem naming the group and its rows, and reading
//! goes on with the next group. A row without an id (no id column, or a null) is named
//! `file:row`, as a JSONL line without one; ids may be strings or integers. With a time
//! column ([`InputOptions::time_field`](super::InputOptions::time_field)), it is read too: a
//! timestamp, date, number or string column.

use std::path::Path;

use super::{Origin, Problem, ProblemKind};

/// Rows decoded at a time.
#[cfg(feature = "parquet")]
const BATCH_ROWS: usize = 1024;

/// What a problem says when the Parquet decoder panics on a damaged file without a message
/// (it panics, rather than returning an error, on some: a column chunk with a negative range).
#[cfg(feature = "parquet")]
const DECODER_FAILED: &str = "the Parquet decoder failed on damaged data";

#[cfg(feature = "parquet")]
pub(super) use reading::Rows;

/// A problem about the whole file (`row` unknown).
fn file_problem(path: &Path, why: String) -> Problem {
    Problem {
        origin: Origin {
            path: path.to_path_buf(),
            line: None,
        },
        kind: ProblemKind::Unreadable(why),
    }
}

/// Without the feature, a Parquet file is a problem saying so.
#[cfg(not(feature = "parquet"))]
pub(super) enum Rows {}

#[cfg(not(feature = "parquet"))]
impl Rows {
    pub(super) fn open(path: &Path, _options: &super::InputOptions) -> Result<Rows, Problem> {
        Err(file_problem(
            path,
            "this storyprint was built without Parquet input (cargo feature `parquet`)".into(),
        ))
    }

    pub(super) fn next_row(&mut self) -> Option<super::RecordItem> {
        match *self {}
    }
}

#[cfg(feature = "parquet")]
mod reading {
    use std::fs::File;
    use std::path::{Path, PathBuf};

    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    };
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_schema::DataType;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::{
        ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
        ParquetRecordBatchReaderBuilder,
    };

    use super::{BATCH_ROWS, DECODER_FAILED, file_problem};
    use crate::error::caught;
    use crate::input::time::document_time;
    use crate::input::{
        Document, InputOptions, Origin, Problem, ProblemKind, Record, RecordItem, parse_time,
        time_of_json,
    };

    /// A Parquet file being read row by row.
    pub(in crate::input) struct Rows {
        columns: Columns,
        file: File,
        metadata: ArrowReaderMetadata,
        /// The projection: the text column, and the id column when there is one.
        mask: ProjectionMask,
        /// The next row group to open.
        next_group: usize,
        /// The current row group's batches.
        batches: Option<ParquetRecordBatchReader>,
        /// The current batch and the next row in it.
        batch: Option<(RecordBatch, usize)>,
        /// Rows of the file given out so far, and the first row of the current group.
        rows: u64,
        group_start: u64,
    }

    impl Rows {
        /// Opens `path`, reads its footer and finds the two columns.
        pub(in crate::input) fn open(path: &Path, options: &InputOptions) -> Result<Rows, Problem> {
            let fail = |why: String| file_problem(path, why);
            let file = File::open(path).map_err(|e| fail(e.to_string()))?;
            let metadata = caught(DECODER_FAILED, || {
                ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
            })
            .and_then(|loaded| loaded.map_err(|e| e.to_string()))
            .map_err(|e| fail(format!("not a readable Parquet file: {e}")))?;
            let schema = metadata.schema();
            let text = schema.index_of(&options.text_field).map_err(|_| {
                fail(format!(
                    "no {:?} column (set --text-field)",
                    options.text_field
                ))
            })?;
            let text_type = schema.field(text).data_type();
            if !matches!(
                text_type,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                return Err(fail(format!(
                    "column {:?} is {text_type}, not a string",
                    options.text_field
                )));
            }
            let mut columns = vec![text];
            columns.extend(schema.index_of(&options.id_field).ok());
            let time_field = options.time_field.as_deref();
            columns.extend(time_field.and_then(|field| schema.index_of(field).ok()));
            let mask = ProjectionMask::roots(metadata.parquet_schema(), columns);
            Ok(Rows {
                columns: Columns {
                    path: path.to_path_buf(),
                    text_field: options.text_field.clone(),
                    id_field: options.id_field.clone(),
                    time_field: options.time_field.clone(),
                    max_doc_bytes: options.max_doc_bytes,
                },
                file,
                metadata,
                mask,
                next_group: 0,
                batches: None,
                batch: None,
                rows: 0,
                group_start: 0,
            })
        }

        /// The next row's record, or why it is skipped; `None` at the end of the file.
        pub(in crate::input) fn next_row(&mut self) -> Option<RecordItem> {
            loop {
                if let Some((batch, at)) = &mut self.batch {
                    if *at < batch.num_rows() {
                        let row = *at;
                        *at += 1;
                        self.rows += 1;
                        return Some(self.columns.record(batch, row, self.rows));
                    }
                    self.batch = None;
                }
                if let Some(batches) = &mut self.batches {
                    // A decoder error and a caught decoder panic are one problem.
                    let next = caught(DECODER_FAILED, || batches.next())
                        .and_then(|next| next.transpose().map_err(|e| e.to_string()));
                    match next {
                        Ok(Some(batch)) => {
                            self.batch = Some((batch, 0));
                            continue;
                        }
                        Ok(None) => self.batches = None,
                        Err(e) => {
                            self.batches = None;
                            return Some(Err(self.group_problem(e)));
                        }
                    }
                }
                if let Err(problem) = self.open_group()? {
                    return Some(Err(problem));
                }
            }
        }

        /// Opens the next row group; `None` when there is none left.
        fn open_group(&mut self) -> Option<Result<(), Problem>> {
            let groups = self.metadata.metadata().row_groups();
            let group = self.next_group;
            let rows = groups.get(group)?.num_rows();
            self.group_start = groups[..group].iter().map(|g| g.num_rows() as u64).sum();
            self.rows = self.group_start;
            self.next_group += 1;
            let opened = self
                .file
                .try_clone()
                .map_err(|e| e.to_string())
                .and_then(|file| {
                    caught(DECODER_FAILED, || {
                        ParquetRecordBatchReaderBuilder::new_with_metadata(
                            file,
                            self.metadata.clone(),
                        )
                        .with_row_groups(vec![group])
                        .with_projection(self.mask.clone())
                        .with_batch_size(BATCH_ROWS)
                        .build()
                    })?
                    .map_err(|e| e.to_string())
                });
            Some(match opened {
                Ok(batches) => {
                    self.batches = Some(batches);
                    Ok(())
                }
                Err(e) => Err(self.group_problem_at(group, rows as u64, e)),
            })
        }

        /// A problem decoding the current row group.
        fn group_problem(&self, e: impl std::fmt::Display) -> Problem {
            let group = self.next_group - 1;
            let rows = self.metadata.metadata().row_groups()[group].num_rows() as u64;
            self.group_problem_at(group, rows, e)
        }

        fn group_problem_at(&self, group: usize, rows: u64, e: impl std::fmt::Display) -> Problem {
            let first = self.group_start + 1;
            let last = self.group_start + rows;
            file_problem(
                &self.columns.path,
                format!("row group {group} (rows {first} to {last}): {e}; its rows are skipped"),
            )
        }
    }

    /// Where a file's documents are: its path, the columns, the size limit.
    struct Columns {
        path: PathBuf,
        text_field: String,
        id_field: String,
        time_field: Option<String>,
        max_doc_bytes: u64,
    }

    impl Columns {
        /// The record of row `row` of `batch`, the file's row `file_row` (1-based).
        fn record(&self, batch: &RecordBatch, row: usize, file_row: u64) -> RecordItem {
            let origin = Origin {
                path: self.path.clone(),
                line: Some(file_row),
            };
            let fail = |kind| {
                Err(Problem {
                    origin: origin.clone(),
                    kind,
                })
            };
            let text = batch
                .column_by_name(&self.text_field)
                .and_then(|column| string_at(column, row));
            let Some(text) = text else {
                return fail(ProblemKind::Empty);
            };
            if text.len() as u64 > self.max_doc_bytes {
                return fail(ProblemKind::TooLarge {
                    bytes: text.len() as u64,
                    limit: self.max_doc_bytes,
                });
            }
            if text.trim().is_empty() {
                return fail(ProblemKind::Empty);
            }
            let text = text.strip_prefix('\u{feff}').unwrap_or(text).to_string();
            let place = || {
                format!(
                    "{}:{}",
                    self.path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    file_row
                )
            };
            let (id, warning) = match batch.column_by_name(&self.id_field) {
                None => (place(), None),
                Some(column) if column.is_null(row) => (place(), None),
                Some(column) => match id_at(column, row) {
                    Some(id) => (id, None),
                    None => {
                        let id = place();
                        let warning = format!(
                            "{origin}: id column {:?} is {}, not a string or an integer; the \
                             document is named {id:?}",
                            self.id_field,
                            column.data_type()
                        );
                        (id, Some(warning))
                    }
                },
            };
            let (time, untimed) = match &self.time_field {
                Some(field) => {
                    let column = batch.column_by_name(field);
                    let time = column.filter(|c| !c.is_null(row)).map(|c| time_at(c, row));
                    document_time(&origin, field, time)
                }
                None => (None, None),
            };
            Ok(Record {
                doc: Document {
                    id,
                    text,
                    origin,
                    time,
                },
                raw: None,
                warning,
                untimed,
            })
        }
    }

    /// The string at `row` of a string column; `None` for a null.
    fn string_at(column: &ArrayRef, row: usize) -> Option<&str> {
        if column.is_null(row) {
            return None;
        }
        if let Some(strings) = column.as_string_opt::<i32>() {
            Some(strings.value(row))
        } else if let Some(strings) = column.as_string_opt::<i64>() {
            Some(strings.value(row))
        } else {
            column.as_string_view_opt().map(|s| s.value(row))
        }
    }

    /// The time at `row` (not null) of a time column, in Unix seconds: a timestamp (of any
    /// unit, rounded down to the second), a date, a number of seconds, or a string
    /// [`parse_time`] reads.
    fn time_at(column: &ArrayRef, row: usize) -> crate::Result<i64> {
        macro_rules! scaled {
            ($($t:ty => $per_second:expr),*) => {
                $(if let Some(values) = column.as_primitive_opt::<$t>() {
                    return Ok(i64::from(values.value(row)).div_euclid($per_second));
                })*
            };
        }
        scaled!(
            TimestampSecondType => 1, TimestampMillisecondType => 1_000,
            TimestampMicrosecondType => 1_000_000, TimestampNanosecondType => 1_000_000_000,
            Int8Type => 1, Int16Type => 1, Int32Type => 1, Int64Type => 1, UInt8Type => 1,
            UInt16Type => 1, UInt32Type => 1
        );
        if let Some(days) = column.as_primitive_opt::<Date32Type>() {
            return Ok(i64::from(days.value(row)) * 86_400);
        }
        let value = |v: serde_json::Value| time_of_json(&v);
        if let Some(values) = column.as_primitive_opt::<UInt64Type>() {
            return value(values.value(row).into());
        }
        if let Some(values) = column.as_primitive_opt::<Float64Type>() {
            return value(values.value(row).into());
        }
        if let Some(values) = column.as_primitive_opt::<Float32Type>() {
            return value(values.value(row).into());
        }
        match string_at(column, row) {
            Some(text) => parse_time(text),
            None => Err(crate::Error::Time {
                value: column.data_type().to_string(),
                why: "the column is not a timestamp, date, number or string",
            }),
        }
    }

    /// The id at `row` (not null) of an id column: a string, or an integer written in
    /// decimal; `None` for another type.
    fn id_at(column: &ArrayRef, row: usize) -> Option<String> {
        macro_rules! integer {
            ($($t:ty),*) => {
                $(if let Some(values) = column.as_primitive_opt::<$t>() {
                    return Some(values.value(row).to_string());
                })*
            };
        }
        integer!(
            Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
            UInt64Type
        );
        string_at(column, row).map(str::to_string)
    }
}
