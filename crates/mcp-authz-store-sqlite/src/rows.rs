//! Rows of the token tables (`codes`, `grants`, `refresh_tokens`) to records. Each decoder reads its
//! columns in the order of its `*_columns!` macro, starting at a base index, so that joins can
//! decode two records from one row, and reads rows of either SQLite library ([`Columns`]).

use crate::codec::{digest, opt_time, parse_list, parsed, scope, time};
use crate::columns::Columns;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri};
use mcp_authz_pkce::CodeChallenge;
use mcp_authz_store::{
    AuthorizationCode, Entity, FamilyId, Grant, RefreshToken, Revocation, RevocationReason,
    StoreError, Subject,
};

/// The columns [`code`] reads, in order (a macro, for `concat!` into SQL text).
macro_rules! code_columns {
    () => {
        "hash, client_id, redirect_uri, code_challenge, resources, scope, subject, family_id, \
         issued_at, expires_at, consumed_at"
    };
}

/// The columns [`grant`] reads, in order, with an optional table prefix (`g.`).
macro_rules! grant_columns {
    ($($p:literal)?) => {
        concat!(
            $($p,)? "id, ", $($p,)? "client_id, ", $($p,)? "subject, ", $($p,)? "scope, ",
            $($p,)? "resources, ", $($p,)? "created_at, ", $($p,)? "expires_at, ",
            $($p,)? "revoked_at, ", $($p,)? "revoked_reason"
        )
    };
}

/// The columns [`token`] reads, in order, with an optional table prefix (`t.`).
macro_rules! token_columns {
    ($($p:literal)?) => {
        concat!(
            $($p,)? "hash, ", $($p,)? "family_id, ", $($p,)? "issued_at, ", $($p,)? "expires_at, ",
            $($p,)? "rotated_at"
        )
    };
}

pub(crate) use {code_columns, grant_columns, token_columns};

/// The number of [`token_columns!`].
pub(crate) const TOKEN_WIDTH: usize = 5;

/// An authorization code from [`code_columns!`] at `base`.
pub(crate) fn code(row: &impl Columns, base: usize) -> Result<AuthorizationCode, StoreError> {
    const E: Entity = Entity::AuthorizationCode;
    let at = |i: usize| base + i;
    Ok(AuthorizationCode {
        hash: digest(E, row.blob(at(0), E)?)?,
        client_id: parsed(E, "client_id", ClientId::parse(row.text(at(1), E)?))?,
        redirect_uri: parsed(E, "redirect_uri", RedirectUri::parse(row.text(at(2), E)?))?,
        code_challenge: parsed(
            E,
            "code_challenge",
            row.text(at(3), E)?.parse::<CodeChallenge>(),
        )?,
        resources: parse_list(E, "resources", row.text(at(4), E)?, ResourceUri::parse)?,
        scope: scope(E, "scope", row.text(at(5), E)?)?,
        subject: parsed(E, "subject", Subject::parse(row.text(at(6), E)?))?,
        family_id: parsed(E, "family_id", FamilyId::parse(row.text(at(7), E)?))?,
        issued_at: time(E, "issued_at", row.int(at(8), E)?)?,
        expires_at: time(E, "expires_at", row.int(at(9), E)?)?,
        consumed_at: opt_time(E, "consumed_at", row.opt_int(at(10), E)?)?,
    })
}

/// A grant from [`grant_columns!`] at `base`.
pub(crate) fn grant(row: &impl Columns, base: usize) -> Result<Grant, StoreError> {
    const E: Entity = Entity::Grant;
    let at = |i: usize| base + i;
    let revoked_at = opt_time(E, "revoked_at", row.opt_int(at(7), E)?)?;
    let reason = row.opt_text(at(8), E)?;
    let revoked = match (revoked_at, reason) {
        (None, None) => None,
        (Some(at), Some(reason)) => Some(Revocation {
            at,
            reason: RevocationReason::parse(reason).ok_or_else(|| {
                StoreError::corrupt(E, "column revoked_reason: unknown revocation reason")
            })?,
        }),
        _ => {
            return Err(StoreError::corrupt(
                E,
                "revoked_at and revoked_reason must be set together",
            ));
        }
    };
    Ok(Grant {
        id: parsed(E, "id", FamilyId::parse(row.text(at(0), E)?))?,
        client_id: parsed(E, "client_id", ClientId::parse(row.text(at(1), E)?))?,
        subject: parsed(E, "subject", Subject::parse(row.text(at(2), E)?))?,
        scope: scope(E, "scope", row.text(at(3), E)?)?,
        resources: parse_list(E, "resources", row.text(at(4), E)?, ResourceUri::parse)?,
        created_at: time(E, "created_at", row.int(at(5), E)?)?,
        expires_at: time(E, "expires_at", row.int(at(6), E)?)?,
        revoked,
    })
}

/// A refresh token from [`token_columns!`] at `base`.
pub(crate) fn token(row: &impl Columns, base: usize) -> Result<RefreshToken, StoreError> {
    const E: Entity = Entity::RefreshToken;
    let at = |i: usize| base + i;
    Ok(RefreshToken {
        hash: digest(E, row.blob(at(0), E)?)?,
        family_id: parsed(E, "family_id", FamilyId::parse(row.text(at(1), E)?))?,
        issued_at: time(E, "issued_at", row.int(at(2), E)?)?,
        expires_at: time(E, "expires_at", row.int(at(3), E)?)?,
        rotated_at: opt_time(E, "rotated_at", row.opt_int(at(4), E)?)?,
    })
}
