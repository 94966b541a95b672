//! sales_exporter computes sales performance indicators (revenue, conversion, acquisition
//! cost and more) per rep, team and company inside the sales database, on a schedule, and
//! serves them to Prometheus.
//!
//! Layout, in the order data flows:
//! - [`config`]: the TOML file, validated into typed settings;
//! - [`model`]: the canonical sales model and its mapping onto the operator's schema;
//! - [`calendar`]: the calendar and rolling windows in the business time zone;
//! - [`source`]: one or two aggregate queries per relation in each backend's dialect, and
//!   the drivers;
//! - [`indicators`]: aggregate rows into values per scope and window;
//! - [`catalogue`]: the name, unit and help text of every exported metric;
//! - [`snapshot`]: one refresh rendered once into exposition text;
//! - [`refresh`]: the schedule, keeping the last good snapshot, self-metrics, reloads;
//! - [`backoff`]: the capped, jittered delay before retrying a failed refresh;
//! - [`signal`]: SIGHUP, SIGTERM and SIGINT, and the notices sent to systemd;
//! - [`report`]: the reconciliation table behind `--report`;
//! - [`http`]: the endpoints, which read the published snapshot and nothing else;
//! - [`demo`]: the deterministic demo database behind `--demo`;
//! - [`allocator`]: keeps memory a refresh freed from staying with the process.

#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod allocator;
pub mod backoff;
pub mod calendar;
pub mod catalogue;
pub mod config;
pub mod demo;
pub mod http;
pub mod indicators;
pub mod model;
pub mod refresh;
pub mod report;
pub mod signal;
pub mod snapshot;
pub mod source;
