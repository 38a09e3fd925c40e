//! The tokio shell: sockets, timers, signals. The only code that does I/O.
