//! TODO(digest helper)
