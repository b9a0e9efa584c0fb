//! Attacks: sessions.
