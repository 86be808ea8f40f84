use super::*;
use proptest::prelude::*;

fn sorted_through_runs<T: FixedRecord + std::fmt::Debug>(
    values: &[T],
    capacity: usize,
) -> (Vec<T>, usize) {
    let parent = tempfile::tempdir().unwrap();
    let mut dir = SpillDir::new(parent.path()).unwrap();
    let mut runs = SortedRuns::new("test", capacity);
    for &v in values {
        runs.push(v, &mut dir).unwrap();
    }
    let written = runs.runs();
    let merged = runs.finish(&mut dir, 1 << 16).unwrap();
    (merged.map(Result::unwrap).collect(), written)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Oracle: runs written and merged give what one in-memory sort gives, duplicates
    /// included, for any run size (down to one record per run, which forces more runs
    /// than [`FAN_IN`] and so the intermediate merges).
    #[test]
    fn merged_runs_equal_an_in_memory_sort(
        values in proptest::collection::vec(0u64..50, 0..300),
        capacity in 1usize..40,
    ) {
        let (merged, _) = sorted_through_runs(&values, capacity);
        let mut sorted = values.clone();
        sorted.sort_unstable();
        prop_assert_eq!(merged, sorted);
    }

    #[test]
    fn wide_records_round_trip_and_merge(values in proptest::collection::vec(any::<u128>(), 0..200)) {
        let (merged, _) = sorted_through_runs(&values, 7);
        let mut sorted = values.clone();
        sorted.sort_unstable();
        prop_assert_eq!(merged, sorted);
    }

    /// Oracle: a pair of records is its two little-endian encodings one after the other, and
    /// pairs merge in the order of the tuples.
    #[test]
    fn pair_records_are_their_parts_bytes_and_merge_as_tuples(
        pairs in proptest::collection::vec((any::<u128>(), any::<u32>()), 0..100),
        wide in proptest::collection::vec((any::<u64>(), 0u64..3), 0..100),
    ) {
        for &(key, doc) in &pairs {
            let mut bytes = [0u8; 20];
            (key, doc).encode(&mut bytes);
            prop_assert_eq!(&bytes[..16], &key.to_le_bytes()[..]);
            prop_assert_eq!(&bytes[16..], &doc.to_le_bytes()[..]);
            prop_assert_eq!(<(u128, u32)>::decode(&bytes), (key, doc));
        }
        let (merged, _) = sorted_through_runs(&pairs, 7);
        let mut sorted = pairs.clone();
        sorted.sort_unstable();
        prop_assert_eq!(merged, sorted);
        let (merged, _) = sorted_through_runs(&wide, 5);
        let mut sorted = wide.clone();
        sorted.sort_unstable();
        prop_assert_eq!(merged, sorted);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Oracle: runs whose capacity changes while records come (as the keys' buffer shrinks
    /// while the documents read hold more) still merge to the in-memory sort.
    #[test]
    fn runs_of_changing_capacity_equal_an_in_memory_sort(
        values in proptest::collection::vec(0u64..50, 0..300),
        capacities in proptest::collection::vec(1usize..40, 1..10),
    ) {
        let parent = tempfile::tempdir().unwrap();
        let mut dir = SpillDir::new(parent.path()).unwrap();
        let mut runs = SortedRuns::new("test", capacities[0]);
        let largest = capacities.iter().copied().max().unwrap();
        let step = values.len() / capacities.len() + 1;
        for (i, &v) in values.iter().enumerate() {
            if i % step == 0 {
                runs.set_capacity(capacities[i / step], &mut dir).unwrap();
            }
            runs.push(v, &mut dir).unwrap();
            prop_assert!(runs.buffer.capacity() <= largest);
        }
        let merged = runs.finish(&mut dir, 1 << 12).unwrap();
        let merged: Vec<u64> = merged.map(Result::unwrap).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        prop_assert_eq!(merged, sorted);
    }
}

#[test]
fn a_buffer_takes_its_capacity_at_its_first_record_and_no_more() {
    let parent = tempfile::tempdir().unwrap();
    let mut dir = SpillDir::new(parent.path()).unwrap();
    let mut runs = SortedRuns::<u128>::in_bytes("test", 1000);
    assert_eq!((runs.capacity, runs.buffer.capacity()), (62, 0));
    for v in 0..100u128 {
        runs.push(v, &mut dir).unwrap();
        assert_eq!(runs.buffer.capacity(), 62);
    }
    // A smaller capacity writes what no longer fits and frees the larger buffer.
    runs.set_capacity(10, &mut dir).unwrap();
    assert_eq!((runs.runs(), runs.buffer.capacity()), (2, 0));
    runs.push(7, &mut dir).unwrap();
    assert_eq!(runs.buffer.capacity(), 10);
}

#[test]
fn list_files_read_back_what_was_flushed_while_more_is_written() {
    let parent = tempfile::tempdir().unwrap();
    let mut dir = SpillDir::new(parent.path()).unwrap();
    let mut list = ListFile::<u32>::new(&mut dir, "test").unwrap();
    assert_eq!(list.push(&[3, 1, 4]).unwrap(), (0, 3));
    list.flush().unwrap();
    assert_eq!(list.get(0, 3).unwrap(), [3, 1, 4]);
    assert_eq!(list.push(&[u32::MAX, 0]).unwrap(), (3, 2));
    list.finish(&mut dir).unwrap();
    assert_eq!(list.get(1, 4).unwrap(), [1, 4, u32::MAX, 0]);
    assert_eq!(dir.written(), 5 * 4);
    assert!(list.push(&[1]).is_err());
}

#[test]
fn more_runs_than_the_fan_in_are_merged_in_groups() {
    let values: Vec<u64> = (0..1000u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9) % 997)
        .collect();
    let (merged, written) = sorted_through_runs(&values, 3);
    assert!(written > FAN_IN * 2, "{written} runs");
    let mut sorted = values;
    sorted.sort_unstable();
    assert_eq!(merged, sorted);
}

#[test]
fn signature_table_returns_what_was_pushed() {
    let parent = tempfile::tempdir().unwrap();
    let mut dir = SpillDir::new(parent.path()).unwrap();
    let mut table = SignatureTable::new(&mut dir, 3).unwrap();
    let docs: Vec<(Signature, Vec<Slot>)> = (0..5u32)
        .map(|i| {
            (
                Signature {
                    values: vec![i, u32::MAX - i, 7 * i],
                    weight: 1.5 * f64::from(i),
                },
                (0..u64::from(i % 3)).map(|s| (s, s * 31 + 1)).collect(),
            )
        })
        .collect();
    for (signature, slots) in &docs {
        table.push(signature, slots).unwrap();
    }
    table.finish(&mut dir).unwrap();
    assert_eq!(
        dir.written(),
        5 * (12 + 20) + 16 * 4 // 0, 1, 2, 0 and 1 slots
    );
    for i in [4u32, 0, 2, 3, 1] {
        assert_eq!(table.get(i).unwrap(), docs[i as usize]);
    }
    let wrong = Signature {
        values: vec![1],
        weight: 1.0,
    };
    let mut table = SignatureTable::new(&mut dir, 3).unwrap();
    assert!(matches!(
        table.push(&wrong, &[]),
        Err(Error::Incompatible(_))
    ));
}

#[test]
fn the_spill_directory_is_removed_when_dropped() {
    let parent = tempfile::tempdir().unwrap();
    let mut dir = SpillDir::new(parent.path()).unwrap();
    let mut runs = SortedRuns::new("test", 2);
    for v in [3u64, 1, 2] {
        runs.push(v, &mut dir).unwrap();
    }
    let merge = runs.finish(&mut dir, 1 << 12).unwrap();
    assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 1);
    assert!(dir.written() == 24 && dir.files() == 2);
    // Two runs and the lock; merging deletes the runs.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    drop(merge);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    drop(dir);
    assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
}

#[test]
fn directories_left_by_killed_runs_are_removed_and_live_ones_kept() {
    let parent = tempfile::tempdir().unwrap();
    let live = SpillDir::new(parent.path()).unwrap();
    // What a killed run leaves: its directory and files, its lock file unlocked.
    let abandoned = parent.path().join(format!("{PREFIX}killed"));
    std::fs::create_dir(&abandoned).unwrap();
    std::fs::write(abandoned.join(LOCK), b"").unwrap();
    std::fs::write(abandoned.join("bands-0.bin"), [0u8; 64]).unwrap();
    // A run's directory before its lock exists, and a directory that is not ours.
    let starting = parent.path().join(format!("{PREFIX}starting"));
    let other = parent.path().join("other");
    std::fs::create_dir(&starting).unwrap();
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join(LOCK), b"").unwrap();

    let next = SpillDir::new(parent.path()).unwrap();
    assert!(!abandoned.exists());
    for kept in [live.path(), next.path(), &starting, &other] {
        assert!(kept.exists(), "{}", kept.display());
    }
    let live_path = live.path().to_path_buf();
    drop(live);
    assert!(!live_path.exists());
}

#[test]
fn a_missing_parent_directory_is_an_error_naming_it() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("missing");
    let e = SpillDir::new(&missing).unwrap_err();
    assert!(e.to_string().contains(&*missing.to_string_lossy()), "{e}");
}
