//! Builds large benchmark corpora from Reuters-21578 with planted near-duplicates at known
//! word-edit rates. Every figure measured on its output is on *derived* data.
//!
//! ```text
//! cargo run --release --example make_corpus -- --docs 1000000 --edit-rate 0.01..0.10 \
//!     --dup-share 0.2 -o big.jsonl.zst
//! ```
//!
//! Each *original* is a Reuters document with 30 % of its words replaced by words drawn from
//! the corpus vocabulary, so that originals made from the same Reuters document are not
//! duplicates of each other (two of them share about 1 % of their word 5-grams). A share of
//! the documents (`--dup-share`) are instead *planted copies* of an earlier original, each
//! word edited (substituted, deleted, or followed by an inserted word, equally likely) with a
//! probability drawn uniformly from `--edit-rate`. The truth file (`OUTPUT.truth.tsv`) lists
//! `copy_id, original_id, edit_rate`. Output is deterministic for a given `--seed`.
//!
//! `--unicode SHARE` writes the *Unicode twin*: the same documents, ids and truth file, with
//! the originals of a share `SHARE` of the documents (and all their copies) typeset as news
//! sites write: apostrophes `’`, quotes `“…”`, dashes `—` and `–`, a non-breaking space after
//! each number, and title-case words replaced, one distinct word in ten, by an accented
//! name (`Müller`, `São Paulo`, `Gdańsk`…), the same one wherever the word occurs. So a copy
//! is typeset as its original and the near-duplicates are those of the ASCII twin (written
//! with `--unicode 0`, the default).
//!
//! ```text
//! cargo run --release --example make_corpus -- --docs 20000 --unicode 0.7 -o unicode.jsonl
//! ```
//!
//! `--script cyrillic` or `--script greek` writes every letter in that alphabet instead
//! (`a` → `а`/`α`, `b` → `б`/`β`…, capitals as capitals): the same documents, near-duplicates
//! and truth file, spelt as a Russian or Greek news corpus is, so that the cost of text that
//! is not Latin can be measured beside the twins. `--script han` writes every letter as one of
//! 26 common Chinese characters: not Chinese, but text of ideographs, each a word of its own
//! as in Chinese, with the twins' near-duplicates.

mod typeset;

use std::io::{BufRead, Write};
use std::path::PathBuf;

/// xorshift64*: tiny, fast and good enough to pick words.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(storyprint::hash::mix(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Args {
    docs: u64,
    edit: (f64, f64),
    dup_share: f64,
    seed: u64,
    unicode: f64,
    script: Option<&'static [char; 26]>,
    source: PathBuf,
    output: PathBuf,
}

/// The letters `a` to `z` as `--script cyrillic`, `greek` and `han` write them.
const CYRILLIC: [char; 26] = [
    'а', 'б', 'ц', 'д', 'е', 'ф', 'г', 'х', 'и', 'й', 'к', 'л', 'м', 'н', 'о', 'п', 'я', 'р', 'с',
    'т', 'у', 'в', 'ш', 'ж', 'ы', 'з',
];
const GREEK: [char; 26] = [
    'α', 'β', 'ψ', 'δ', 'ε', 'φ', 'γ', 'η', 'ι', 'ξ', 'κ', 'λ', 'μ', 'ν', 'ο', 'π', 'θ', 'ρ', 'σ',
    'τ', 'υ', 'ω', 'ς', 'χ', 'ϋ', 'ζ',
];

const HAN: [char; 26] = [
    '的', '一', '是', '不', '了', '人', '我', '在', '有', '他', '这', '中', '大', '来', '上', '国',
    '个', '到', '说', '们', '为', '子', '和', '你', '地', '出',
];

/// `text` with its ASCII letters written in `script` (capitals as that alphabet's capitals).
fn transliterate(text: &str, script: &[char; 26]) -> String {
    text.chars()
        .flat_map(|c| {
            let letter = c
                .is_ascii_alphabetic()
                .then(|| script[(c.to_ascii_lowercase() as u8 - b'a') as usize]);
            match letter {
                Some(l) if c.is_ascii_uppercase() => l.to_uppercase().collect::<Vec<char>>(),
                Some(l) => vec![l],
                None => vec![c],
            }
        })
        .collect()
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        docs: 100_000,
        edit: (0.01, 0.10),
        dup_share: 0.2,
        seed: 1,
        unicode: 0.0,
        script: None,
        source: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpora/reuters21578.jsonl.gz"),
        output: PathBuf::from("corpus.jsonl.zst"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--docs" => args.docs = value()?.parse()?,
            "--edit-rate" => {
                let v = value()?;
                let (lo, hi) = v.split_once("..").unwrap_or((&v, &v));
                args.edit = (lo.parse()?, hi.parse()?);
            }
            "--dup-share" => args.dup_share = value()?.parse()?,
            "--seed" => args.seed = value()?.parse()?,
            "--unicode" => args.unicode = value()?.parse()?,
            "--script" => {
                args.script = match value()?.as_str() {
                    "latin" => None,
                    "cyrillic" => Some(&CYRILLIC),
                    "greek" => Some(&GREEK),
                    "han" => Some(&HAN),
                    other => anyhow::bail!("--script {other}: latin, cyrillic, greek or han"),
                }
            }
            "--source" => args.source = value()?.into(),
            "-o" | "--output" => args.output = value()?.into(),
            other => anyhow::bail!(
                "unknown flag {other}; flags: --docs N --edit-rate LO..HI --dup-share F \
                 --seed N --unicode SHARE --script latin|cyrillic|greek|han --source FILE \
                 -o FILE(.jsonl|.jsonl.gz|.jsonl.zst)"
            ),
        }
    }
    if !(0.0..=1.0).contains(&args.unicode) {
        anyhow::bail!("--unicode must be a share within 0..1");
    }
    if !(0.0..=1.0).contains(&args.edit.0) || args.edit.1 < args.edit.0 || args.edit.1 > 1.0 {
        anyhow::bail!("--edit-rate must be LO..HI within 0..1");
    }
    Ok(args)
}

/// The Reuters texts, each as its words.
fn load(path: &PathBuf) -> anyhow::Result<Vec<Vec<String>>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (the source corpus)", path.display()))?;
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file));
    let mut docs = Vec::new();
    for line in reader.lines() {
        let doc: serde_json::Value = serde_json::from_str(&line?)?;
        if let Some(text) = doc["text"].as_str() {
            let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
            if words.len() >= 20 {
                docs.push(words);
            }
        }
    }
    Ok(docs)
}

/// Original number `k`: a Reuters document with 30 % of its words replaced.
fn original<'a>(k: u64, seed: u64, docs: &'a [Vec<String>], vocab: &[&'a str]) -> Vec<&'a str> {
    let mut rng = Rng::new(seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let base = &docs[rng.below(docs.len())];
    base.iter()
        .map(|w| {
            if rng.unit() < 0.3 {
                vocab[rng.below(vocab.len())]
            } else {
                w.as_str()
            }
        })
        .collect()
}

/// A copy of `words` with each word edited with probability `rate`.
fn edit<'a>(words: &[&'a str], rate: f64, rng: &mut Rng, vocab: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(words.len() + 8);
    for &w in words {
        if rng.unit() >= rate {
            out.push(w);
            continue;
        }
        match rng.below(3) {
            0 => out.push(vocab[rng.below(vocab.len())]),
            1 => {}
            _ => {
                out.push(w);
                out.push(vocab[rng.below(vocab.len())]);
            }
        }
    }
    out
}

/// Whether the documents of original number `original` are typeset as news sites write, in
/// the Unicode twin: decided by the original, so every copy is typeset as its original.
fn typeset_original(original: u64, seed: u64, share: f64) -> bool {
    share > 0.0
        && Rng::new(seed ^ original.wrapping_mul(0xc2b2_ae3d_27d4_eb4f) ^ 0x5eed).unit() < share
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let docs = load(&args.source)?;
    let vocab: Vec<&str> = docs.iter().flatten().map(String::as_str).collect();
    let file = std::fs::File::create(&args.output)?;
    let name = args.output.to_string_lossy().to_string();
    let mut out: Box<dyn Write> = if name.ends_with(".zst") {
        Box::new(zstd::Encoder::new(file, 3)?.auto_finish())
    } else if name.ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(std::io::BufWriter::new(file))
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.as_mut());
    let mut truth = std::io::BufWriter::new(std::fs::File::create(format!("{name}.truth.tsv"))?);
    writeln!(truth, "copy_id\toriginal_id\tedit_rate")?;
    let mut rng = Rng::new(args.seed);
    // Document id of each original, by original number.
    let mut originals: Vec<u64> = Vec::new();
    let mut typeset_docs = 0u64;
    for i in 0..args.docs {
        let (words, k) = if !originals.is_empty() && rng.unit() < args.dup_share {
            let k = rng.below(originals.len()) as u64;
            let rate = args.edit.0 + (args.edit.1 - args.edit.0) * rng.unit();
            let source = original(k, args.seed, &docs, &vocab);
            writeln!(truth, "d{i}\td{}\t{rate:.4}", originals[k as usize])?;
            (edit(&source, rate, &mut rng, &vocab), k)
        } else {
            let k = originals.len() as u64;
            originals.push(i);
            (original(k, args.seed, &docs, &vocab), k)
        };
        let unicode = typeset_original(k, args.seed, args.unicode);
        typeset_docs += u64::from(unicode);
        let text = if unicode {
            typeset::typeset(&words, args.seed)
        } else {
            words.join(" ")
        };
        let text = match args.script {
            Some(script) => transliterate(&text, script),
            None => text,
        };
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"id": format!("d{i}"), "text": text}),
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);
    truth.flush()?;
    eprintln!(
        "wrote {} documents ({} originals, {} typeset with non-ASCII text) to {} and its \
         .truth.tsv",
        args.docs,
        originals.len(),
        typeset_docs,
        name
    );
    Ok(())
}
