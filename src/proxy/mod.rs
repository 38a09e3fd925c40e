//! The RFC 3261 §16 proxy core, sans-IO.
