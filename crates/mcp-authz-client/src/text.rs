//! How error messages show optional and repeated server-supplied values: in words, never as Rust
//! debug output (`Some("…")`, `["…"]`), so that an application can print an error to its user as it is.

use std::fmt::Display;

/// `": description"`, or nothing when the server gave none.
pub(crate) fn detail(description: &Option<String>) -> String {
    description
        .as_deref()
        .map_or_else(String::new, |d| format!(": {d}"))
}

/// `": code"`, or nothing when the answer named no error code.
pub(crate) fn code(code: Option<&impl Display>) -> String {
    code.map_or_else(String::new, |c| format!(": {c}"))
}

/// The items separated by commas, or `(none)`.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_in_words() {
        assert_eq!(detail(&Some("unknown client".into())), ": unknown client");
        assert_eq!(detail(&None), "");
        assert_eq!(code(Some(&"invalid_client")), ": invalid_client");
        assert_eq!(code(None::<&String>), "");
        assert_eq!(list(&["a".into(), "b".into()]), "a, b");
        assert_eq!(list(&[]), "(none)");
    }
}
