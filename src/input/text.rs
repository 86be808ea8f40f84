//! Text input: a `.txt` or `.md` file, or standard input by default, is one document.

use std::fs::File;
use std::io::{self, Read};

use super::walk::Source;
use super::{Document, Item, Origin, Problem, ProblemKind};

/// The document of a text source (a whole file, or standard input), or why it is skipped.
pub(super) fn read_text(source: &Source, limit: u64) -> Item {
    let origin = Origin {
        path: source.path.clone(),
        line: None,
    };
    let fail = |kind| Problem {
        origin: origin.clone(),
        kind,
    };
    let mut bytes = Vec::new();
    let result = if source.path.as_os_str() == "-" {
        io::stdin().lock().take(limit + 1).read_to_end(&mut bytes)
    } else {
        File::open(&source.path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    if let Err(e) = result {
        return Err(fail(ProblemKind::Unreadable(e.to_string())));
    }
    if bytes.len() as u64 > limit {
        let size = std::fs::metadata(&source.path)
            .map(|m| m.len())
            .unwrap_or(bytes.len() as u64);
        return Err(fail(ProblemKind::TooLarge { bytes: size, limit }));
    }
    let text = decode(bytes).map_err(fail)?;
    Ok(Document {
        id: source.text_id.clone(),
        text,
        origin,
        time: None,
    })
}

/// Decodes UTF-8, dropping a byte-order mark; empty (white-space only) text is a problem.
pub(super) fn decode(bytes: Vec<u8>) -> std::result::Result<String, ProblemKind> {
    let text = String::from_utf8(bytes).map_err(|e| ProblemKind::InvalidUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if text.trim().is_empty() {
        return Err(ProblemKind::Empty);
    }
    Ok(text)
}
