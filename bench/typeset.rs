//! Typesetting ASCII news text as news sites write it, for benchmarks on realistic non-ASCII
//! text: curly apostrophes and quotes, dashes, non-breaking spaces and accented names.
//! Shared by `make_corpus` (the Unicode twin of a derived corpus) and `benches/stages.rs`.

/// Accented names that replace title-case words.
const NAMES: &[&str] = &[
    "Müller",
    "São Paulo",
    "Zelenskyy",
    "Gdańsk",
    "Kraków",
    "Zürich",
    "Bogotá",
    "Erdoğan",
    "Nestlé",
    "Citroën",
    "Société Générale",
    "Peña",
    "José",
    "Montréal",
    "Düsseldorf",
    "Škoda",
    "Dvořák",
    "Orbán",
    "Łódź",
    "Sánchez",
    "Gonçalves",
    "Malmö",
    "Tromsø",
    "Curaçao",
    "Nuñez",
    "Françoise",
    "Björn",
];

/// A word typeset: a title-case word (possessive or not) is one in ten times (by its hash) an
/// accented name; apostrophes become `’`, quotes `“` and `”`, dashes `—` and `–`.
pub fn typeset_word(word: &str, seed: u64) -> String {
    let letters = word.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
    let letters = letters.strip_suffix("'s").unwrap_or(letters);
    let mut chars = letters.chars();
    let title_case = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && letters.len() > 2
        && chars.all(|c| c.is_ascii_lowercase());
    let hash = storyprint::hash::mix(xxhash_rust::xxh3::xxh3_64(letters.as_bytes()) ^ seed);
    let word = if title_case && hash.is_multiple_of(10) {
        format!(
            "{}{}",
            NAMES[(hash >> 8) as usize % NAMES.len()],
            &word[letters.len()..]
        )
    } else {
        word.to_string()
    };
    match word.as_str() {
        "--" => return "—".to_string(),
        "-" => return "–".to_string(),
        _ => {}
    }
    let last = word.len().saturating_sub(1);
    word.char_indices()
        .map(|(i, c)| match c {
            '\'' => '’',
            '"' if i == 0 && last > 0 => '“',
            '"' => '”',
            c => c,
        })
        .collect()
}

/// Words typeset ([`typeset_word`]) and joined by spaces, a non-breaking one after each
/// number.
pub fn typeset(words: &[&str], seed: u64) -> String {
    let mut text = String::with_capacity(words.iter().map(|w| w.len() + 3).sum());
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let number = words[i - 1].starts_with(|c: char| c.is_ascii_digit());
            text.push(if number { '\u{a0}' } else { ' ' });
        }
        text.push_str(&typeset_word(word, seed));
    }
    text
}
