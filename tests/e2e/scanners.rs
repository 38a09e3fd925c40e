//! Scanners.
