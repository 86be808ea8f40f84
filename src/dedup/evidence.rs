//! The keys of a document's evidence, which group the documents that LSH and verification
//! cannot tell apart: twins and crowds by their signatures, classes by their feature sets.

use crate::features::{Feature, Slot};
use crate::signature::Signature;

/// The key of a document's evidence, its signature (values and weight) and fact slots: equal
/// for documents with the same evidence (and, by a hash collision, rarely for others).
pub(super) fn evidence_key(signature: &Signature, slots: &[Slot]) -> u128 {
    let mut bytes = Vec::with_capacity(signature.values.len() * 4 + 8 + slots.len() * 16);
    for v in &signature.values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.extend_from_slice(&signature.weight.to_bits().to_le_bytes());
    key_with_slots(bytes, slots)
}

/// The key of a feature set and its slots (features are sorted by hash, slots by context).
pub(super) fn feature_key(features: &[Feature], slots: &[Slot]) -> u128 {
    let mut bytes = Vec::with_capacity(features.len() * 16 + 8 + slots.len() * 16);
    bytes.extend_from_slice(&(features.len() as u64).to_le_bytes());
    for &(hash, weight) in features {
        bytes.extend_from_slice(&hash.to_le_bytes());
        bytes.extend_from_slice(&weight.to_bits().to_le_bytes());
    }
    key_with_slots(bytes, slots)
}

/// The xxh3 of `bytes` followed by the slots' contexts and numbers.
fn key_with_slots(mut bytes: Vec<u8>, slots: &[Slot]) -> u128 {
    for &(context, number) in slots {
        bytes.extend_from_slice(&context.to_le_bytes());
        bytes.extend_from_slice(&number.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_128(&bytes)
}
