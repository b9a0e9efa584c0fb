//! Attacks: browser (filled in by the browser work).
