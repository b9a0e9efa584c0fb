//! Attacks: keys.
