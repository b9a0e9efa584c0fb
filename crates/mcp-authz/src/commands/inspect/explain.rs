//! `mcp-authz inspect --explain ID`: the entry of `docs/requirements.md` for a requirement ID, so the
//! IDs in a report can be looked up without the repository at hand.

/// The project's requirements page, compiled in.
const REQUIREMENTS: &str = include_str!("../../../../../docs/requirements.md");

/// The entry for `id` (case-insensitive, e.g. `rs-2`): its heading line and text up to the next
/// heading, or `None` for an unknown ID.
pub(super) fn entry(id: &str) -> Option<String> {
    let wanted = id.trim().to_ascii_uppercase();
    let mut lines = REQUIREMENTS.lines().skip_while(|line| {
        line.strip_prefix("### ")
            .and_then(|rest| rest.split_whitespace().next())
            != Some(wanted.as_str())
    });
    let heading = lines.next()?.trim_start_matches("### ").to_owned();
    let body: Vec<&str> = lines.take_while(|line| !line.starts_with('#')).collect();
    Some(format!("{heading}\n{}\n", body.join("\n").trim()))
}

/// Every requirement ID on the page, in order.
pub(super) fn ids() -> impl Iterator<Item = &'static str> {
    REQUIREMENTS
        .lines()
        .filter_map(|line| line.strip_prefix("### "))
        .filter_map(|rest| rest.split_whitespace().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_has_an_entry_with_text() {
        let ids: Vec<_> = ids().collect();
        assert_eq!(ids.len(), 75, "{ids:?}");
        for id in ids {
            let text = entry(id).unwrap_or_default();
            assert!(text.starts_with(id), "{id}: {text}");
            assert!(text.lines().count() >= 2, "{id} has no text");
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_unknown_ids_are_none() {
        let text = entry("rs-2").unwrap_or_default();
        assert!(
            text.starts_with("RS-2 — a request without a token"),
            "{text}"
        );
        assert!(!text.contains("RS-3"), "{text}");
        assert!(entry("RS-99").is_none());
        assert!(entry("RS").is_none());
    }
}
