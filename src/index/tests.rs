use std::path::Path;
use std::time::Duration;

use redb::{Database, ReadableDatabase};

use super::open::{open_database, stored_settings};
use super::store::{self, DOC_FREQ, FORMAT_KEY, META, UPGRADE_KEY};
use super::upgrade::{start_upgrade, upgrade_chunk};
use super::*;
use crate::error::Error;
use crate::input::{Document, Origin};
use crate::signature::Sketcher;
use crate::verdict::Level;

/// An upgrade stopped after its first document (as by a kill between transactions) goes
/// on from its marker when the index is next opened, and the index is whole.
#[test]
fn an_interrupted_upgrade_goes_on_when_the_index_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index-v2");
    std::fs::copy(fixture.join(DB_FILE), dir.path().join(DB_FILE)).unwrap();
    {
        let db = open_database(dir.path(), Duration::ZERO).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        let (config, banding, version) =
            stored_settings(&meta, dir.path(), &OpenOptions::existing())
                .unwrap()
                .unwrap();
        drop((meta, txn));
        assert_eq!(version, 2);
        let freq = start_upgrade(&db).unwrap();
        let sketcher = Sketcher::for_config(&config);
        let analyzers = crate::sign::Analyzers::new(config.language);
        let done =
            upgrade_chunk(&db, &config, &banding, (&freq, &sketcher, &analyzers), 1).unwrap();
        assert!(!done);
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert!(store::meta_u64(&meta, UPGRADE_KEY).unwrap() > 0);
    }
    let mut index = Index::open(dir.path(), &OpenOptions::existing()).unwrap();
    assert_eq!(index.stats().unwrap().format_version, FORMAT_VERSION);
    assert_eq!(index.check_integrity().unwrap().documents, 4);
    let txn = index.db.begin_read().unwrap();
    let meta = txn.open_table(META).unwrap();
    assert_eq!(store::meta_value(&meta, UPGRADE_KEY).unwrap(), None);
}

fn doc(id: &str, text: &str) -> Document {
    Document {
        id: id.into(),
        text: text.into(),
        origin: Origin {
            path: id.into(),
            line: None,
        },
        time: None,
    }
}

const PARDON: &str = "Belarus leader Alexander Lukashenko pardoned 23 political prisoners \
    on Friday, three women and 20 men convicted of crimes of an extremist orientation, \
    his press service said, ahead of talks with the European Union.";
const PARDON_REWRITE: &str = "Twenty men and three women, 23 political prisoners in all, \
    were pardoned by Lukashenko on Friday; they had been convicted of crimes of an \
    extremist orientation, before talks with the European Union.";
const RATES: &str = "The central bank raised its main interest rate by half a point to \
    4.5 percent on Thursday, citing stubborn inflation in services and wages.";

fn open(dir: &Path) -> Index {
    Index::open(dir, &OpenOptions::create(Config::default())).unwrap()
}

fn at(added_at: u64) -> AddOptions {
    AddOptions {
        added_at,
        find_duplicates: true,
    }
}

#[test]
fn add_check_replace_remove_and_check_integrity() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = open(dir.path());
    let outcomes = index
        .add(&[doc("pardon", PARDON), doc("rates", RATES)], &at(100))
        .unwrap();
    assert_eq!(outcomes[0].status, AddStatus::New);
    let matches = index.check(PARDON_REWRITE, None, None).unwrap();
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(matches[0].id, "pardon");
    assert!(
        index
            .check(PARDON, Some("pardon"), None)
            .unwrap()
            .is_empty()
    );
    // Adding the rewrite counts it as a duplicate; adding the same text again is a no-op.
    let outcomes = index
        .add(
            &[doc("rewrite", PARDON_REWRITE), doc("rates", RATES)],
            &at(200),
        )
        .unwrap();
    assert_eq!(outcomes[0].duplicate_of.as_ref().unwrap().id, "pardon");
    assert_eq!(outcomes[1].status, AddStatus::Unchanged);
    // New text under a known id replaces the old version.
    let outcomes = index.add(&[doc("rates", PARDON)], &at(300)).unwrap();
    assert_eq!(outcomes[0].status, AddStatus::Replaced);
    assert!(index.check(RATES, None, None).unwrap().is_empty());
    index.check_integrity().unwrap();
    assert_eq!(
        index.remove(&["rates".into(), "nope".into()]).unwrap(),
        ["nope"]
    );
    assert_eq!(index.expire(150).unwrap(), 1, "pardon was added at 100");
    assert_eq!(index.stats().unwrap().documents, 1);
    let report = index.check_integrity().unwrap();
    assert_eq!(report.documents, 1);
    assert_eq!(report.band_entries, index.banding().bands as u64);
}

/// Regression: documents were signed with one document too few in the count (N), so a
/// rewrite of an indexed story could miss every band.
#[test]
fn the_last_document_added_is_signed_as_the_batch_pipeline_signs_it() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let docs = [doc("rates", RATES), doc("pardon", PARDON)];
    index.add(&docs, &at(1)).unwrap();
    let batch = crate::Fingerprints::new(&docs, &Config::default()).unwrap();
    let stored = index.get("pardon").unwrap().unwrap();
    assert_eq!(stored.signature, batch.signatures[1]);
    let matches = index.check(PARDON_REWRITE, None, None).unwrap();
    assert_eq!(matches[0].id, "pardon");
}

/// The document frequencies checks keep in memory are never used after a write: after an
/// add and after a removal (which leaves the sequence number as it was), a check weighs
/// with the new frequencies, as the same check of the freshly reopened index does.
#[test]
fn checks_after_a_write_weigh_with_the_new_frequencies() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = open(dir.path());
    index
        .add(&[doc("pardon", PARDON), doc("rates", RATES)], &at(1))
        .unwrap();
    let similarity = |index: &Index| index.check(PARDON_REWRITE, None, None).unwrap()[0].similarity;
    let more = "Lukashenko pardoned more political prisoners convicted of extremism.";
    let writes: [&dyn Fn(&Index); 2] = [
        &|index| drop(index.add(&[doc("more", more)], &at(2)).unwrap()),
        &|index| assert!(index.remove(&["more".into()]).unwrap().is_empty()),
    ];
    for write in writes {
        let before = similarity(&index);
        write(&index);
        let after = similarity(&index);
        assert_ne!(before.to_bits(), after.to_bits());
        drop(index);
        index = open(dir.path());
        assert_eq!(after.to_bits(), similarity(&index).to_bits());
    }
}

#[test]
fn check_and_add_adds_only_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let (matches, added) = index
        .check_and_add(&doc("a", PARDON), None, None, 1)
        .unwrap();
    assert!(matches.is_empty());
    assert_eq!(added, Some(AddStatus::New));
    // A match below the level asked for does not block the add.
    let (matches, added) = (index.check_and_add(&doc("b", PARDON_REWRITE), None, None, 2)).unwrap();
    assert_eq!(matches[0].id, "a");
    assert!(matches[0].level >= Level::Rewrite, "{matches:?}");
    assert_eq!(added, None);
    assert!(!index.contains("b").unwrap());
    let copy = Some(Level::Copy);
    let (matches, added) = (index.check_and_add(&doc("b", PARDON_REWRITE), None, copy, 2)).unwrap();
    assert_eq!((matches.len(), added), (1, Some(AddStatus::New)));
}

#[test]
fn incompatible_settings_and_other_format_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let other = Config {
        num_hashes: 128,
        ..Config::default()
    };
    let err = Index::open(dir.path(), &OpenOptions::create(other)).unwrap_err();
    assert!(matches!(err, Error::IncompatibleIndex { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("other engine settings than asked for: its K 256, asked for 128;"),
        "{err}"
    );
    {
        let db = Database::create(dir.path().join(DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert(FORMAT_KEY, 99u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Index::open(dir.path(), &OpenOptions::existing()).unwrap_err();
    assert!(err.to_string().contains("format version 99"), "{err}");
}

#[test]
fn a_missing_index_is_created_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idx");
    let err = Index::open(&path, &OpenOptions::existing()).unwrap_err();
    assert!(matches!(err, Error::NoIndex(_)));
    open(&path);
    assert!(path.join(DB_FILE).exists());
}

#[test]
fn a_second_open_waits_then_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let _held = open(dir.path());
    let options = OpenOptions::existing().waiting(Duration::from_millis(200));
    let err = Index::open(dir.path(), &options).unwrap_err();
    assert!(matches!(err, Error::IndexLocked { .. }), "{err}");
    assert!(err.to_string().contains("in use by another"), "{err}");
}

#[test]
fn the_integrity_check_finds_tables_that_disagree() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(dir.path());
        index.add(&[doc("a", PARDON)], &at(1)).unwrap();
        let txn = index.db.begin_write().unwrap();
        txn.open_table(DOC_FREQ).unwrap().insert(42, 7).unwrap();
        txn.commit().unwrap();
    }
    let mut index = Index::open(dir.path(), &OpenOptions::existing()).unwrap();
    let err = index.check_integrity().unwrap_err();
    assert!(matches!(err, Error::IndexCorrupt(_)), "{err}");
}
