//! RFC 3261 §17 transaction state machines, sans-IO: inputs are messages and `now`, outputs are
//! bytes to (re)send and the next wake-up. TODO(txn helper)
