//! Character classes of RFC 9110 §5.6 and RFC 6750 §2.1.

/// `tchar`: the characters of a `token` (RFC 9110 §5.6.2).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// The characters of `token68` and `b64token` before the trailing `=` (RFC 9110 §11.2, RFC 6750 §2.1).
pub(crate) fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// `qdtext` (RFC 9110 §5.6.4): HTAB, SP, visible ASCII except `"` and `\`, obs-text.
pub(crate) fn is_qdtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff)
}

/// What may follow `\` in a `quoted-pair`: HTAB, SP, VCHAR, obs-text.
pub(crate) fn is_quoted_pair_char(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff)
}

/// `true` when `s` is a non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// `true` when `s` is `token68`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(is_token68_char)
}

/// Appends `value` as a `quoted-string`, escaping `"` and `\`. `false` (and nothing useful written) when
/// `value` holds a character a quoted-string cannot carry (controls other than HTAB, DEL).
pub(crate) fn write_quoted(out: &mut String, value: &str) -> bool {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\t' | ' '..='~' => out.push(c),
            c if (c as u32) >= 0x80 => out.push(c),
            _ => return false,
        }
    }
    out.push('"');
    true
}
