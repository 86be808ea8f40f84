//! # storyprint
//!
//! Fingerprints news articles and finds duplicates and *rewrites of the same story*.
//!
//! The pipeline, one module per stage, in the order data flows:
//! [`input`] → [`normalize`] → [`tokenize`] → [`features`] → [`signature`]
//! (weighted MinHash) → [`lsh`] → candidates (one interface over every place band keys are
//! held) → [`similarity`] → [`contrast`] → [`verdict`] (copy, rewrite,
//! related) → [`cluster`] → [`output`]; [`explain`] says
//! why two documents match and [`report`] shows it. [`sign`] is the signing stage every
//! runner signs documents with (text to signature and fact slots), [`keep`] the keep rule
//! of a dedup, [`runner`] the settings, reads and
//! writing pass every dedup runner shares; [`hash`] holds the frozen hash functions every fingerprint is built from.
//! [`pipeline`] runs them end to end; [`config`] holds the settings; [`dedup`] streams a
//! corpus of any size through the same stages and writes it back without its duplicates,
//! spilling sorted runs to disk (`spill`) beyond its memory budget.
//!
//! ```
//! use storyprint::{Config, Document, Fingerprints, Origin};
//! let doc = |id: &str, text: &str| Document {
//!     id: id.into(),
//!     text: text.into(),
//!     origin: Origin { path: id.into(), line: None },
//!     time: None,
//! };
//! let docs = [
//!     doc("a", "Lukashenko pardoned 23 political prisoners: three women and 20 men."),
//!     doc("b", "Three women and 20 men, 23 political prisoners, were pardoned by Lukashenko."),
//!     doc("c", "Lukashenko met Putin in Minsk to discuss gas prices."),
//! ];
//! let prints = Fingerprints::new(&docs, &Config::default()).unwrap();
//! let clusters = prints.clusters();
//! assert_eq!(clusters.len(), 1);
//! assert_eq!(clusters[0].members, [0, 1]);
//! ```

#![warn(missing_docs)]

mod candidates;
pub mod cluster;
pub mod config;
pub mod contrast;
pub mod dedup;
#[cfg(feature = "dist")]
pub mod dist;
pub mod error;
pub mod eval;
pub mod explain;
#[cfg(feature = "parquet")]
pub mod export;
pub mod features;
pub mod hash;
#[cfg(feature = "index")]
pub mod index;
pub mod input;
pub mod keep;
pub mod lsh;
pub mod normalize;
pub mod output;
pub mod pipeline;
mod pool;
mod probe;
pub mod report;
pub mod runner;
pub mod sign;
pub mod signature;
pub mod similarity;
pub(crate) mod sort;
pub(crate) mod spill;
pub mod tokenize;
pub mod verdict;

pub use cluster::{Cluster, Edge};
pub use config::{Config, Family, Features, Language, Measure, Weighting};
pub use error::{Error, Result};
pub use input::{Batch, Document, InputOptions, Origin, Problem};
pub use pipeline::Fingerprints;
pub use verdict::Level;
