//! JSONL input: a document per line of a `.jsonl` file, plain or compressed (gzip, zstd),
//! read ahead on a thread of its own; a line is read capped at the document size limit, and
//! parsed for its text and id fields only.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::PathBuf;

use serde_json::Value;

use super::text::decode;
use super::time::{document_time, time_of_json};
use super::walk::{Source, SourceKind};
use super::{Document, InputOptions, Origin, Problem, ProblemKind, Record, RecordItem};

/// Bytes a [`Prefetch`] thread reads at a time.
const PREFETCH_BLOCK: usize = 1 << 20;

/// Blocks a [`Prefetch`] thread may read ahead of the consumer (bounds its memory).
const PREFETCH_AHEAD: usize = 4;

/// A reader whose reads (and decompression) run ahead on a thread of its own, in blocks, so
/// that they overlap with parsing and sketching instead of adding to the serial part of a
/// pass. The bytes are exactly the inner reader's; an error is returned where it happened.
struct Prefetch {
    blocks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl Prefetch {
    fn new(mut inner: impl Read + Send + 'static) -> Prefetch {
        let (send, blocks) = std::sync::mpsc::sync_channel(PREFETCH_AHEAD);
        std::thread::spawn(move || {
            loop {
                // `read_to_end` fills the block without zeroing it first, and retries
                // interrupted reads.
                let mut block = Vec::with_capacity(PREFETCH_BLOCK);
                let read = (&mut inner)
                    .take(PREFETCH_BLOCK as u64)
                    .read_to_end(&mut block);
                let read_nothing = block.is_empty();
                // The bytes read come first, then an error; stop at an error, at the end, or
                // when the consumer has gone.
                let error = read.err();
                if !block.is_empty() && send.send(Ok(block)).is_err() {
                    return;
                }
                match error {
                    Some(e) => {
                        let _ = send.send(Err(e));
                        return;
                    }
                    None if read_nothing => return,
                    None => {}
                }
            }
        });
        Prefetch {
            blocks,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.current.len() {
            match self.blocks.recv() {
                Ok(block) => {
                    self.current = block?;
                    self.pos = 0;
                }
                // The thread has finished: the end of the input.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
    }
}

/// A JSONL source being read line by line.
pub(super) struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: u64,
    /// Offset of the next line in the file (plain files) or in the decompressed stream.
    pos: u64,
    /// Lines starting at or after this offset belong to the next shard.
    end: u64,
}

impl Lines {
    /// Opens a JSONL source at the first line of `range` (a [`Shard`](super::Shard)'s byte
    /// range of a plain file), or at its start.
    pub(super) fn open(source: &Source, range: Option<(u64, u64)>) -> Result<Lines, Problem> {
        let unreadable = |e: io::Error| Problem {
            origin: Origin {
                path: source.path.clone(),
                line: None,
            },
            kind: ProblemKind::Unreadable(e.to_string()),
        };
        let mut pos = 0;
        let reader: Box<dyn BufRead + Send> = if source.path.as_os_str() == "-" {
            Box::new(Prefetch::new(io::stdin()))
        } else {
            let file = File::open(&source.path).map_err(unreadable)?;
            let (file, first) = match range {
                Some((start, _)) => enter_at_line(file, start).map_err(unreadable)?,
                None => (file, 0),
            };
            pos = first;
            match source.kind {
                SourceKind::JsonlGz => Box::new(Prefetch::new(flate2::read::MultiGzDecoder::new(
                    BufReader::new(file),
                ))),
                SourceKind::JsonlZst => Box::new(Prefetch::new(
                    zstd::stream::read::Decoder::new(file).map_err(unreadable)?,
                )),
                _ => Box::new(Prefetch::new(file)),
            }
        };
        let end = range.map_or(u64::MAX, |(_, end)| end);
        Ok(Lines {
            path: source.path.clone(),
            reader,
            line: 0,
            pos,
            end,
        })
    }

    /// The next non-blank line, unparsed: `Continue` with a line or a problem while the source
    /// goes on, `Break` when it is done (with the problem that ended it, if one did). Counts
    /// the lines read (blank and bad ones included) into `lines_read`.
    pub(super) fn next_raw(
        &mut self,
        limit: u64,
        lines_read: &mut u64,
    ) -> ControlFlow<Option<Raw>, Raw> {
        loop {
            self.line += 1;
            let origin = Origin {
                path: self.path.clone(),
                line: Some(self.line),
            };
            let fail = |kind| {
                Raw::Ready(Err(Problem {
                    origin: origin.clone(),
                    kind,
                }))
            };
            if self.pos >= self.end {
                return ControlFlow::Break(None);
            }
            let mut buf = Vec::new();
            let read = read_line_capped(&mut self.reader, &mut buf, limit, &mut self.pos);
            if !matches!(read, Ok(LineRead::End)) {
                *lines_read += 1;
            }
            match read {
                Err(e) => {
                    return ControlFlow::Break(Some(fail(ProblemKind::Unreadable(e.to_string()))));
                }
                Ok(LineRead::End) => return ControlFlow::Break(None),
                Ok(LineRead::TooLong(bytes)) => {
                    return ControlFlow::Continue(fail(ProblemKind::TooLarge { bytes, limit }));
                }
                Ok(LineRead::Line) => {}
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return ControlFlow::Continue(Raw::Line(RawLine { origin, bytes: buf }));
        }
    }
}

/// A JSONL line as read, not yet decoded or parsed: reading is sequential, parsing can run on
/// many threads ([`RawLine::parse`]), and [`Reader::complete`](super::Reader::complete) then
/// gives ids in input order.
#[derive(Debug)]
pub(crate) struct RawLine {
    origin: Origin,
    bytes: Vec<u8>,
}

impl RawLine {
    /// The record of the line (decoded, parsed), or why it is skipped; its id is not yet
    /// made unique ([`Reader::complete`](super::Reader::complete) does that).
    fn parse(self, options: &InputOptions) -> RecordItem {
        let RawLine { origin, bytes } = self;
        let line = match decode(bytes) {
            Ok(line) => line,
            Err(kind) => return Err(Problem { origin, kind }),
        };
        match parse_json_line(&line, options, origin.clone()) {
            Ok((doc, warning, untimed)) => {
                let mut raw = line;
                raw.truncate(raw.trim_end_matches(['\n', '\r']).len());
                Ok(Record {
                    doc,
                    raw: Some(raw),
                    warning,
                    untimed,
                })
            }
            Err(kind) => Err(Problem { origin, kind }),
        }
    }
}

/// What [`Reader::next_raw`](super::Reader::next_raw) yields: a JSONL line to parse, or an
/// item already complete (a text document, or a problem met while reading).
#[derive(Debug)]
pub(crate) enum Raw {
    /// A JSONL line.
    Line(RawLine),
    /// A record or problem needing no parse.
    Ready(RecordItem),
}

impl Raw {
    /// The item: parses a line, passes a ready item through.
    pub(crate) fn parse(self, options: &InputOptions) -> RecordItem {
        match self {
            Raw::Line(line) => line.parse(options),
            Raw::Ready(item) => item,
        }
    }
}

enum LineRead {
    Line,
    End,
    TooLong(u64),
}

/// Reads one line into `buf` without holding more than `limit` bytes of it: an over-long
/// line is consumed to its end and reported with its length.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    limit: u64,
    consumed: &mut u64,
) -> io::Result<LineRead> {
    let mut total: u64 = 0;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (any, total > limit) {
                (false, _) => LineRead::End,
                (true, true) => LineRead::TooLong(total),
                (true, false) => LineRead::Line,
            });
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        total += take as u64;
        if total <= limit + 1 {
            buf.extend_from_slice(&chunk[..take]);
        }
        reader.consume(take);
        *consumed += take as u64;
        if done {
            if total > limit + 1 {
                return Ok(LineRead::TooLong(total - 1));
            }
            return Ok(LineRead::Line);
        }
    }
}

/// Positions `file` at the first line that starts at or after `start` (a line that starts
/// before it belongs to the previous shard) and returns that line's offset.
fn enter_at_line(mut file: File, start: u64) -> io::Result<(File, u64)> {
    if start == 0 {
        return Ok((file, 0));
    }
    file.seek(SeekFrom::Start(start - 1))?;
    let mut reader = BufReader::new(file);
    let mut offset = start - 1;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                offset += i as u64 + 1;
                break;
            }
            None => {
                offset += chunk.len() as u64;
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
    let mut file = reader.into_inner();
    file.seek(SeekFrom::Start(offset))?;
    Ok((file, offset))
}

/// The document of a JSONL line, with a warning when its id field is there but neither a
/// string nor a number (the document is then named `file:line`, as one without an id), and
/// one when a time field is asked for and the line has none usable ([`document_time`]).
fn parse_json_line(
    line: &str,
    options: &InputOptions,
    origin: Origin,
) -> std::result::Result<(Document, Option<String>, Option<String>), ProblemKind> {
    let fields = parse_fields(line.trim_end_matches(['\n', '\r']), options).map_err(|e| {
        // serde_json says "… at line 1 column N": the line is ours, the column is useful.
        let message = e.to_string();
        let what = message.split(" at line ").next().unwrap_or(&message);
        ProblemKind::MalformedJson(format!("{what} at column {}", e.column()))
    })?;
    let Some(Fields { text, id, time }) = fields else {
        return Err(ProblemKind::MalformedJson("not a JSON object".into()));
    };
    let text = match text {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(ProblemKind::MalformedJson(format!(
                "field {:?} is not a string",
                options.text_field
            )));
        }
        None => {
            return Err(ProblemKind::MalformedJson(format!(
                "no {:?} field (set --text-field)",
                options.text_field
            )));
        }
    };
    if text.trim().is_empty() {
        return Err(ProblemKind::Empty);
    }
    let place = || {
        format!(
            "{}:{}",
            origin
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            origin.line.unwrap_or(0)
        )
    };
    let (id, warning) = match id {
        Some(Value::String(s)) => (s, None),
        Some(Value::Number(n)) => (n.to_string(), None),
        None => (place(), None),
        Some(other) => {
            let what = match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Array(_) => "an array",
                _ => "an object",
            };
            let id = place();
            let warning = format!(
                "{origin}: id field {:?} is {what}, not a string or a number; the document is \
                 named {id:?}",
                options.id_field
            );
            (id, Some(warning))
        }
    };
    let (time, untimed) = match &options.time_field {
        Some(field) => {
            let time = time.filter(|t| !t.is_null()).map(|t| time_of_json(&t));
            document_time(&origin, field, time)
        }
        None => (None, None),
    };
    let doc = Document {
        id,
        text,
        origin,
        time,
    };
    Ok((doc, warning, untimed))
}

/// The fields a JSONL line is read for; `None` when the line is not a JSON object.
struct Fields {
    text: Option<Value>,
    id: Option<Value>,
    /// The time field's value, when one is asked for.
    time: Option<Value>,
}

/// Parses one JSON value, keeping only the text, id and time fields of an object: every other
/// field is validated but not built (a full `Value` allocates every field and key). A
/// repeated key keeps its last value, as a `Value` map does; the time field may be the id
/// field.
fn parse_fields(line: &str, options: &InputOptions) -> serde_json::Result<Option<Fields>> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Seed<'o>(&'o InputOptions);

    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = Option<Fields>;

        fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = Option<Fields>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Fields {
                text: None,
                id: None,
                time: None,
            };
            let time_field = self.0.time_field.as_deref();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if *key == self.0.text_field {
                    fields.text = Some(map.next_value()?);
                } else if *key == self.0.id_field {
                    let id: Value = map.next_value()?;
                    if time_field == Some(&*key) {
                        fields.time = Some(id.clone());
                    }
                    fields.id = Some(id);
                } else if time_field == Some(&*key) {
                    fields.time = Some(map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(Some(fields))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            IgnoredAny.visit_seq(seq).map(|_| None)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    let mut de = serde_json::Deserializer::from_str(line);
    let fields = Seed(options).deserialize(&mut de)?;
    de.end()?;
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_yields_the_inner_bytes_and_then_its_error() {
        let data: Vec<u8> = (0..3 * PREFETCH_BLOCK + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut read = Vec::new();
        Prefetch::new(io::Cursor::new(data.clone()))
            .read_to_end(&mut read)
            .unwrap();
        assert_eq!(read, data);

        /// Ten bytes, then a failure.
        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(io::Error::other("disk on fire"));
                }
                buf[..10].fill(b'x');
                Ok(10)
            }
        }
        let mut prefetch = Prefetch::new(Failing(false));
        let mut first = [0u8; 10];
        prefetch.read_exact(&mut first).unwrap();
        let error = prefetch.read(&mut first).unwrap_err();
        assert_eq!(error.to_string(), "disk on fire");
        assert_eq!(prefetch.read(&mut first).unwrap(), 0);
    }

    /// Oracle: the field parser reads what a full `serde_json::Value` holds (last of a repeated
    /// key, numbers as ids) and rejects what it rejects, other fields included.
    #[test]
    fn field_parser_agrees_with_full_values() {
        let options = InputOptions::default();
        let lines = [
            r#"{"id":"a","meta":{"x":[1,2,{"y":null}]},"text":"one"}"#,
            r#"{"text":"first","id":3,"text":"last"}"#,
            r#"{"id":1.5e3,"text":"t","extra":"\u00e9\n"}"#,
            r#"{"id":"a","meta":{"x":[1,2},"text":"one"}"#,
            r#"{"id":"a","text":"one"} trailing"#,
            r#"{"id":"a","text":7}"#,
            r#"[{"id":"a","text":"one"}]"#,
            r#""text""#,
        ];
        for line in lines {
            let full = serde_json::from_str::<Value>(line).ok().map(|v| match v {
                Value::Object(mut map) => Some((map.remove("text"), map.remove("id"))),
                _ => None,
            });
            let fast = parse_fields(line, &options)
                .ok()
                .map(|f| f.map(|f| (f.text, f.id)));
            assert_eq!(fast, full, "{line}");
        }
    }
}
