//! Page templates an operator may replace (issue #24): HTML with `{{placeholder}}` slots, checked
//! once when they are given, filled with escaped text or with HTML this crate built from escaped
//! text.

use std::path::Path;

use crate::respond::escape;

/// The longest template accepted, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 64 * 1024;

/// One of the pages' templates; each is the file `<name>.html` of a template directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PageTemplate {
    /// The chrome around every page: `<html lang>`, `<head>`, the header with the service name.
    Layout,
    /// The login form.
    Login,
    /// The consent form.
    Consent,
    /// The error page shown instead of a redirect.
    Error,
}

/// Whether a placeholder's value is text (escaped when filled in) or HTML built by the server from
/// escaped text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Html,
}

/// A placeholder of a template: its name, its kind, whether the template must have it.
struct Slot {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn slot(name: &'static str, kind: Kind, required: bool) -> Slot {
    Slot {
        name,
        kind,
        required,
    }
}

const LAYOUT: &[Slot] = &[
    slot("title", Kind::Text, true),
    slot("service", Kind::Text, false),
    slot("style", Kind::Html, false),
    slot("content", Kind::Html, true),
];
const LOGIN: &[Slot] = &[
    slot("service", Kind::Text, false),
    slot("client", Kind::Html, true),
    slot("notice", Kind::Html, true),
    slot("action", Kind::Text, true),
    slot("hidden", Kind::Html, true),
    slot("upstream", Kind::Html, false),
];
const CONSENT: &[Slot] = &[
    slot("service", Kind::Text, false),
    slot("user", Kind::Text, true),
    slot("sign_out", Kind::Text, false),
    slot("applications", Kind::Text, false),
    slot("client", Kind::Html, true),
    slot("permissions", Kind::Html, true),
    slot("action", Kind::Text, true),
    slot("hidden", Kind::Html, true),
];
const ERROR: &[Slot] = &[
    slot("service", Kind::Text, false),
    slot("message", Kind::Text, true),
];

impl PageTemplate {
    /// Every template.
    pub const ALL: [Self; 4] = [Self::Layout, Self::Login, Self::Consent, Self::Error];

    /// Its file name in a template directory: `layout.html`, `login.html`, `consent.html`,
    /// `error.html`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Layout => "layout.html",
            Self::Login => "login.html",
            Self::Consent => "consent.html",
            Self::Error => "error.html",
        }
    }

    /// The built-in template's text (a starting point for one of your own).
    pub fn builtin(self) -> &'static str {
        match self {
            Self::Layout => include_str!("../templates/layout.html"),
            Self::Login => include_str!("../templates/login.html"),
            Self::Consent => include_str!("../templates/consent.html"),
            Self::Error => include_str!("../templates/error.html"),
        }
    }

    fn slots(self) -> &'static [Slot] {
        match self {
            Self::Layout => LAYOUT,
            Self::Login => LOGIN,
            Self::Consent => CONSENT,
            Self::Error => ERROR,
        }
    }
}

/// The built-in style sheet, the layout's `{{style}}`.
pub(crate) const STYLE: &str = include_str!("../templates/style.css");

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A template file could not be read.
    #[error("cannot read template {file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A template directory holds a file that is no template (a misspelt name would be ignored).
    #[error(
        "{0} is not a page template (expected layout.html, login.html, consent.html or error.html)"
    )]
    UnknownFile(String),
    /// A template is empty or longer than [`MAX_TEMPLATE_LEN`] bytes.
    #[error("template {0} is empty or longer than {MAX_TEMPLATE_LEN} bytes")]
    Length(&'static str),
    /// `{{` without a closing `}}`.
    #[error("template {template}: `{{{{` at byte {offset} is not closed by `}}}}`")]
    Unclosed {
        /// The template's file name.
        template: &'static str,
        /// Where the `{{` is.
        offset: usize,
    },
    /// A placeholder the template does not have.
    #[error("template {template} has no placeholder {{{{{name}}}}}")]
    UnknownPlaceholder {
        /// The template's file name.
        template: &'static str,
        /// The unknown name.
        name: String,
    },
    /// A placeholder the page needs to work (a form's action, its hidden fields, what the user is
    /// asked to approve) is missing.
    #[error("template {template} must contain {{{{{name}}}}}")]
    MissingPlaceholder {
        /// The template's file name.
        template: &'static str,
        /// The missing placeholder.
        name: &'static str,
    },
}

/// The page templates: the built-in ones, each replaceable ([`PageTemplates::with`],
/// [`PageTemplates::from_dir`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageTemplates {
    layout: String,
    login: String,
    consent: String,
    error: String,
}

impl Default for PageTemplates {
    fn default() -> Self {
        Self {
            layout: PageTemplate::Layout.builtin().to_owned(),
            login: PageTemplate::Login.builtin().to_owned(),
            consent: PageTemplate::Consent.builtin().to_owned(),
            error: PageTemplate::Error.builtin().to_owned(),
        }
    }
}

impl PageTemplates {
    /// These templates with `which` replaced by `text`, checked: every `{{name}}` is a placeholder of
    /// that template and the required ones are there.
    ///
    /// ```
    /// use mcp_authz_server::{PageTemplate, PageTemplates, TemplateError};
    /// let ok = PageTemplates::default()
    ///     .with(PageTemplate::Error, "<h1>Oops</h1><p>{{message}}</p>");
    /// assert!(ok.is_ok());
    /// let typo = PageTemplates::default().with(PageTemplate::Error, "<p>{{mesage}}</p>");
    /// assert!(matches!(typo, Err(TemplateError::UnknownPlaceholder { .. })));
    /// ```
    pub fn with(mut self, which: PageTemplate, text: &str) -> Result<Self, TemplateError> {
        check(which, text)?;
        let slot = match which {
            PageTemplate::Layout => &mut self.layout,
            PageTemplate::Login => &mut self.login,
            PageTemplate::Consent => &mut self.consent,
            PageTemplate::Error => &mut self.error,
        };
        *slot = text.to_owned();
        Ok(self)
    }

    /// The built-in templates with those of `dir` in their place: each of `layout.html`,
    /// `login.html`, `consent.html` and `error.html` it holds replaces the built-in one; any other
    /// file is refused ([`TemplateError::UnknownFile`]), as is a template that does not check.
    pub fn from_dir(dir: &Path) -> Result<Self, TemplateError> {
        let read_error = |file: &Path, e: std::io::Error| TemplateError::Read {
            file: file.display().to_string(),
            reason: e.to_string(),
        };
        let entries = std::fs::read_dir(dir).map_err(|e| read_error(dir, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| read_error(dir, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        let mut templates = Self::default();
        for name in names {
            let Some(which) = PageTemplate::ALL
                .into_iter()
                .find(|t| t.file_name() == name)
            else {
                return Err(TemplateError::UnknownFile(name));
            };
            let path = dir.join(&name);
            let text = std::fs::read_to_string(&path).map_err(|e| read_error(&path, e))?;
            templates = templates.with(which, &text)?;
        }
        Ok(templates)
    }

    pub(crate) fn text(&self, which: PageTemplate) -> &str {
        match which {
            PageTemplate::Layout => &self.layout,
            PageTemplate::Login => &self.login,
            PageTemplate::Consent => &self.consent,
            PageTemplate::Error => &self.error,
        }
    }

    /// Fills `which` with `values` (name, value): text values escaped, HTML ones as they are. A
    /// placeholder without a value becomes empty; the template was checked, so none is unknown.
    pub(crate) fn fill(&self, which: PageTemplate, values: &[(&str, &str)]) -> String {
        let text = self.text(which);
        let mut out = String::with_capacity(text.len() + 2048);
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                // Checked templates have none; keep the text as it is.
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            let kind = which
                .slots()
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.kind);
            let value = values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or_default();
            match kind {
                Some(Kind::Html) => out.push_str(value),
                Some(Kind::Text) => out.push_str(&escape(value)),
                None => {}
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// Checks `text` as template `which`.
fn check(which: PageTemplate, text: &str) -> Result<(), TemplateError> {
    let template = which.file_name();
    if text.trim().is_empty() || text.len() > MAX_TEMPLATE_LEN {
        return Err(TemplateError::Length(template));
    }
    let mut seen = Vec::new();
    let mut offset = 0;
    while let Some(found) = text[offset..].find("{{") {
        let start = offset + found;
        let after = start + 2;
        let end = text[after..].find("}}").ok_or(TemplateError::Unclosed {
            template,
            offset: start,
        })? + after;
        let name = &text[after..end];
        let Some(slot) = which.slots().iter().find(|s| s.name == name) else {
            return Err(TemplateError::UnknownPlaceholder {
                template,
                name: name.chars().take(40).collect(),
            });
        };
        seen.push(slot.name);
        offset = end + 2;
    }
    if let Some(missing) = which
        .slots()
        .iter()
        .find(|s| s.required && !seen.contains(&s.name))
    {
        return Err(TemplateError::MissingPlaceholder {
            template,
            name: missing.name,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_templates_check() {
        for which in PageTemplate::ALL {
            check(which, which.builtin()).unwrap();
        }
    }

    #[test]
    fn text_is_escaped_and_html_is_not() {
        let templates = PageTemplates::default()
            .with(
                PageTemplate::Error,
                "<p title=\"{{service}}\">{{message}}</p>",
            )
            .unwrap();
        assert_eq!(
            templates.fill(
                PageTemplate::Error,
                &[("service", "a\"b"), ("message", "<x>&")]
            ),
            "<p title=\"a&quot;b\">&lt;x&gt;&amp;</p>"
        );
    }

    #[test]
    fn malformed_templates_are_refused() {
        let with = |text: &str| PageTemplates::default().with(PageTemplate::Error, text);
        assert_eq!(
            with("{{message}} {{oops").unwrap_err(),
            TemplateError::Unclosed {
                template: "error.html",
                offset: 12
            }
        );
        assert_eq!(
            with("<p></p>").unwrap_err(),
            TemplateError::MissingPlaceholder {
                template: "error.html",
                name: "message"
            }
        );
        assert_eq!(with(" ").unwrap_err(), TemplateError::Length("error.html"));
        assert!(matches!(
            with("{{message}}{{user}}").unwrap_err(),
            TemplateError::UnknownPlaceholder { .. }
        ));
    }
}
