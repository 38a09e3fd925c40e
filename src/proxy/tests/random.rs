//! Randomized calls (filled in below).
