//! Attacks: serve.
