//! `application/x-www-form-urlencoded` parsing with the OAuth rules on top (OAuth 2.1 §3.2, RFC 6749 §3.1):
//! a parameter sent without a value is treated as omitted, and no parameter may appear twice, except
//! those a specification allows to repeat (`resource`, RFC 8707 §2).

use std::borrow::Cow;

use percent_encoding::percent_decode;

/// Largest form body or query string this crate parses (64 KiB).
pub const MAX_FORM_LEN: usize = 64 * 1024;

/// Why a form body or query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// Longer than [`MAX_FORM_LEN`] bytes.
    #[error("the form is longer than {MAX_FORM_LEN} bytes")]
    TooLong,
    /// A parameter that may appear only once appeared again (OAuth 2.1 §3.2).
    #[error("parameter {0} is included more than once")]
    Duplicate(String),
    /// A name or value whose percent-decoded bytes are not UTF-8.
    #[error("a parameter name or value is not UTF-8 after percent-decoding")]
    NotUtf8,
}

/// The parameters of one form, in order, with empty values dropped.
#[derive(Debug, Default)]
pub(crate) struct FormParams {
    pairs: Vec<(String, String)>,
}

impl FormParams {
    /// Parses `input`, keeping the parameters named in `single` (at most once each) and `repeatable`
    /// (any number of times). Other parameters are ignored, repeated or not: OAuth 2.1 §3.1 forbids
    /// repeating the parameters it defines, and says unknown ones are ignored.
    pub(crate) fn parse(
        input: &[u8],
        single: &[&str],
        repeatable: &[&str],
    ) -> Result<Self, FormError> {
        if input.len() > MAX_FORM_LEN {
            return Err(FormError::TooLong);
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for segment in input.split(|b| *b == b'&') {
            if segment.is_empty() {
                continue;
            }
            let (name, value) = match segment.iter().position(|b| *b == b'=') {
                Some(eq) => (
                    segment.get(..eq).unwrap_or_default(),
                    segment.get(eq + 1..).unwrap_or_default(),
                ),
                None => (segment, &[][..]),
            };
            if value.is_empty() {
                // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
                // omitted from the request."
                continue;
            }
            let name = decode(name)?;
            let is_single = single.contains(&name.as_str());
            if !is_single && !repeatable.contains(&name.as_str()) {
                continue;
            }
            if is_single && pairs.iter().any(|(n, _)| *n == name) {
                return Err(FormError::Duplicate(name));
            }
            let value = decode(value)?;
            pairs.push((name, value));
        }
        Ok(Self { pairs })
    }

    /// The value of a single-valued parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes one form component: `+` is a space, then percent-decoding, then strict UTF-8.
pub(crate) fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus_free: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Cow<'_, [u8]> = percent_decode(&plus_free).into();
    String::from_utf8(bytes.into_owned()).map_err(|_| FormError::NotUtf8)
}

/// Whether `input` (a query string or form body) carries a parameter named `name`, with or without a
/// value. Never fails: undecodable components are compared after lossy decoding.
pub(crate) fn has_param(input: &str, name: &str) -> bool {
    form_urlencoded::parse(input.as_bytes()).any(|(n, _)| n == name)
}

/// Builds a form body or query string.
pub(crate) struct FormWriter(form_urlencoded::Serializer<'static, String>);

impl FormWriter {
    pub(crate) fn new() -> Self {
        Self(form_urlencoded::Serializer::new(String::new()))
    }

    pub(crate) fn pair(&mut self, name: &str, value: &str) -> &mut Self {
        self.0.append_pair(name, value);
        self
    }

    pub(crate) fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.0.append_pair(name, value);
        }
        self
    }

    pub(crate) fn finish(&mut self) -> String {
        self.0.finish()
    }
}
