//! Scope hierarchy (REQUIREMENTS RS-6): a broader scope implies narrower ones, transitively.

use std::collections::{BTreeMap, BTreeSet};

use mcp_authz_metadata::{Scope, ScopeToken};

/// Which scopes imply which: granting `files:write` may imply `files:read`, and `admin` may imply
/// `files:write` (and so `files:read`). Implication is transitive; cycles are harmless.
///
/// ```
/// use mcp_authz_metadata::{Scope, ScopeToken};
/// use mcp_authz_resource::ScopeHierarchy;
/// let tok = |s: &str| ScopeToken::parse(s).unwrap();
/// let hierarchy = ScopeHierarchy::new()
///     .imply(tok("admin"), [tok("files:write")])
///     .imply(tok("files:write"), [tok("files:read")]);
/// let granted: Scope = "admin".parse().unwrap();
/// assert!(hierarchy.satisfies(&granted, &"files:read".parse().unwrap()));
/// assert!(!hierarchy.satisfies(&"files:read".parse().unwrap(), &"files:write".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeHierarchy {
    implies: BTreeMap<ScopeToken, BTreeSet<ScopeToken>>,
}

impl ScopeHierarchy {
    /// A hierarchy where every scope implies only itself.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares that `broader` implies each of `narrower`.
    #[must_use]
    pub fn imply(
        mut self,
        broader: ScopeToken,
        narrower: impl IntoIterator<Item = ScopeToken>,
    ) -> Self {
        self.implies.entry(broader).or_default().extend(narrower);
        self
    }

    /// Every scope token the hierarchy mentions.
    pub fn tokens(&self) -> impl Iterator<Item = &ScopeToken> {
        self.implies
            .iter()
            .flat_map(|(broad, narrow)| std::iter::once(broad).chain(narrow.iter()))
    }

    /// `granted` together with every scope it implies, transitively.
    pub fn expand(&self, granted: &Scope) -> Scope {
        let mut out = granted.clone();
        let mut work: Vec<&ScopeToken> = granted.iter().collect();
        while let Some(token) = work.pop() {
            for implied in self.implies.get(token).into_iter().flatten() {
                if out.insert(implied.clone()) {
                    work.push(implied);
                }
            }
        }
        out
    }

    /// The scopes of `required` that `granted` does not provide, even through the hierarchy.
    pub fn missing(&self, granted: &Scope, required: &Scope) -> Scope {
        if required.is_subset(granted) {
            return Scope::new();
        }
        required.difference(&self.expand(granted))
    }

    /// `true` when `granted` provides every scope of `required`, directly or through the hierarchy.
    pub fn satisfies(&self, granted: &Scope, required: &Scope) -> bool {
        self.missing(granted, required).is_empty()
    }
}
