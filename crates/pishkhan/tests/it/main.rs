//! Pishkhan's integration tests, in one test binary: the real router driven in process on both
//! databases, and the real `pishkhan` program started as a person would start it.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod api;
mod applications;
mod backup;
mod bank;
mod catalogue;
mod cli;
mod exchange;
mod http;
mod limits;
mod outputs;
mod payments;
mod portal;
mod proxy;
mod readiness;
mod s3;
mod spoken;
mod storage;
mod support;
