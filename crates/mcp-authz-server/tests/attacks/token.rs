//! Attacks: token (filled in by the token work).
