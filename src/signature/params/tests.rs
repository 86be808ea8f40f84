use super::*;
use crate::config::Config;

/// The parameters the format 3 fixture index stores (`tests/fixtures/index-v3`).
const DEFAULT_JSON: &str = r#"{"num_hashes":256,"seed":6270991009654767617,"features":"stems:1,stems:2,facts*2;weighting=Idf;language=english;stop_words=true;strip_chrome=true;statement_words=20"}"#;

/// The parameters the format 1 and 2 fixtures store: written before statements existed.
const LEGACY_JSON: &str = r#"{"num_hashes":256,"seed":6270991009654767617,"features":"stems:1,stems:2,facts*2;weighting=Idf;language=english;stop_words=true;strip_chrome=true"}"#;

#[test]
fn stored_parameters_keep_their_bytes() {
    let params = SignatureParams::of(&Config::default());
    assert_eq!(serde_json::to_string(&params).unwrap(), DEFAULT_JSON);
    let read: SignatureParams = serde_json::from_str(DEFAULT_JSON).unwrap();
    assert_eq!(read, params);
    assert_eq!(
        SignatureParams::of(&Config::classic()).settings_text(),
        "words:5;weighting=None;language=english;stop_words=true;strip_chrome=false"
    );
}

#[test]
fn parameters_stored_before_statements_read_as_statements_off() {
    let read: SignatureParams = serde_json::from_str(LEGACY_JSON).unwrap();
    assert_eq!(read.statement_words, 0);
    assert_eq!(
        read,
        SignatureParams::of(&Config {
            statement_words: 0,
            ..Config::default()
        })
    );
    assert_eq!(serde_json::to_string(&read).unwrap(), LEGACY_JSON);
}

#[test]
fn settings_text_round_trips() {
    let configs = [
        Config::default(),
        Config::classic(),
        Config {
            features: "stems:1,pairs:3*0.5,chars:5,facts*2.25".parse().unwrap(),
            weighting: Weighting::None,
            language: Language::German,
            stop_words: false,
            strip_chrome: false,
            statement_words: 7,
            num_hashes: 64,
            seed: 3,
            ..Config::default()
        },
    ];
    for config in configs {
        let params = SignatureParams::of(&config);
        let text = params.settings_text();
        let read = SignatureParams::from_settings_text(64, 3, &text).unwrap();
        assert_eq!(read.settings_text(), text);
        assert_eq!(
            read,
            SignatureParams {
                num_hashes: 64,
                seed: 3,
                ..params
            }
        );
    }
}

#[test]
fn malformed_settings_texts_are_refused() {
    let good = "stems:1;weighting=Idf;language=english;stop_words=true;strip_chrome=true";
    assert!(SignatureParams::from_settings_text(1, 1, good).is_ok());
    for bad in [
        "",
        "stems:1;weighting=Idf;language=english;stop_words=true",
        "stems:1;weighting=idf;language=english;stop_words=true;strip_chrome=true",
        "stems:1;weighting=Idf;language=klingon;stop_words=true;strip_chrome=true",
        "stems:1;weighting=Idf;language=english;stop_words=yes;strip_chrome=true",
        "stems:1;weighting=Idf;weighting=Idf;language=english;stop_words=true;strip_chrome=true",
        "stems:1;weighting=Idf;language=english;stop_words=true;strip_chrome=true;shingles=3",
        "stems:1;weighting=Idf;language=english;stop_words=true;strip_chrome=true;statement_words",
    ] {
        assert!(
            SignatureParams::from_settings_text(1, 1, bad).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn the_first_differing_parameter_is_named_with_both_values() {
    let ours = SignatureParams::of(&Config::default());
    assert_eq!(ours.check_compatible(&ours.clone()), Ok(()));
    let classic = SignatureParams::of(&Config::classic());
    assert_eq!(
        ours.check_compatible(&classic),
        Err(Incompatible::new(
            "features",
            "stems:1,stems:2,facts*2",
            "words:5"
        ))
    );
    let differing = |change: fn(&mut SignatureParams)| {
        let mut theirs = ours.clone();
        change(&mut theirs);
        ours.check_compatible(&theirs).unwrap_err().to_string()
    };
    assert_eq!(differing(|p| p.format = 2), "signature format 3 vs 2");
    assert_eq!(
        differing(|p| p.weighting = Weighting::None),
        "weighting idf vs none"
    );
    assert_eq!(
        differing(|p| p.language = Language::French),
        "language english vs french"
    );
    assert_eq!(
        differing(|p| p.stop_words = false),
        "stop words removed vs kept"
    );
    assert_eq!(
        differing(|p| p.strip_chrome = false),
        "page chrome stripped vs kept"
    );
    assert_eq!(
        differing(|p| p.statement_words = 0),
        "statement words 20 vs off"
    );
    assert_eq!(differing(|p| p.num_hashes = 64), "K 256 vs 64");
    assert_eq!(differing(|p| p.seed = 1), "seed 0x5707091920240001 vs 0x1");
}
