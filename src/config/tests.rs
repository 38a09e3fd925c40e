//! Validator and compile tests over whole config documents.
