//! TODO(policy helper)
