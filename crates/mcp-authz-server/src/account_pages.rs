//! The account pages' HTML: sign-in, and the connected applications of the signed-in user with a
//! revoke button each (REQUIREMENTS OB-3). Plain forms, no JavaScript, every text escaped; the
//! forms carry the session's CSRF token (SEC-4).

use std::collections::{BTreeMap, BTreeSet};

use mcp_authz_metadata::{ResourceUri, Scope, ScopeToken};
use mcp_authz_store::NumericDate;

use crate::applications::ConnectedApplication;
use crate::pages::{LoginNotice, login_form, page};
use crate::paths::Paths;
use crate::provenance::Provenance;
use crate::respond::escape;
use crate::templates::PageTemplates;

/// A hidden CSRF field.
fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    )
}

/// The sign-in page in front of the connected applications.
pub(crate) fn sign_in(service: &str, paths: &Paths, csrf: &str, notice: LoginNotice) -> String {
    let body = format!(
        "<h1>Sign in to <span id=\"service\">{service_html}</span></h1>\
         <p>Sign in to see the applications you authorized.</p>{form}",
        service_html = escape(service),
        form = login_form(&paths.account_sign_in, &csrf_field(csrf), notice),
    );
    page(
        &PageTemplates::default(),
        service,
        &format!("Sign in to {service}"),
        &body,
    )
}

/// `YYYY-MM-DD HH:MM UTC`, and the RFC 3339 form for `<time datetime>`.
fn utc(time: NumericDate) -> (String, String) {
    let secs = time.as_i64();
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, min, s) = (of_day / 3_600, of_day % 3_600 / 60, of_day % 60);
    (
        format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02} UTC"),
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z"),
    )
}

fn time_html(time: NumericDate) -> String {
    let (text, machine) = utc(time);
    format!("<time datetime=\"{machine}\">{text}</time>")
}

/// Where the client's name comes from (AS-11), by class (a page lists several).
fn provenance(client: Option<&Provenance>) -> String {
    match client {
        Some(Provenance::Operator) => "<p class=\"provenance provenance-operator\">Registered by \
             the operator of this service.</p>"
            .to_owned(),
        Some(Provenance::MetadataDocument { host }) => format!(
            "<p class=\"provenance provenance-document\">Name and addresses published by \
             <strong>{}</strong> (its client metadata document).</p>",
            escape(host)
        ),
        Some(Provenance::Dynamic) => "<p class=\"provenance provenance-dynamic warn\">Unverified: \
             this name was chosen by the application itself.</p>"
            .to_owned(),
        None => "<p class=\"provenance provenance-gone\">This application is no longer \
             registered.</p>"
            .to_owned(),
    }
}

fn scopes(scope: &Scope, descriptions: &BTreeMap<ScopeToken, String>) -> String {
    if scope.is_empty() {
        return "<li>(no specific permissions)</li>".to_owned();
    }
    scope
        .iter()
        .map(|s| {
            let description = match descriptions.get(s) {
                Some(text) => format!("<span class=\"scope-description\">{}</span>", escape(text)),
                None => "<span class=\"scope-description none\">(no description)</span>".to_owned(),
            };
            format!(
                "<li class=\"scope\"><span class=\"scope-token\">{}</span>: {description}</li>",
                escape(s.as_str())
            )
        })
        .collect()
}

fn application(
    index: usize,
    app: &ConnectedApplication,
    paths: &Paths,
    csrf: &str,
    descriptions: &BTreeMap<ScopeToken, String>,
) -> String {
    let scope = app
        .grants
        .iter()
        .map(|g| &g.scope)
        .chain(app.consent.as_ref().map(|c| &c.scope))
        .fold(Scope::new(), |all, s| all.union(s));
    let resources: BTreeSet<&ResourceUri> = app
        .grants
        .iter()
        .flat_map(|g| g.resources.iter())
        .chain(app.consent.iter().flat_map(|c| c.resources.iter()))
        .collect();
    let resources: String = if resources.is_empty() {
        "<li>(none)</li>".to_owned()
    } else {
        resources
            .iter()
            .map(|r| format!("<li class=\"resource\">{}</li>", escape(r.as_str())))
            .collect()
    };
    let last_used = match app.last_used {
        Some(time) => time_html(time),
        None => "never".to_owned(),
    };
    let name = escape(app.display_name());
    format!(
        "<li class=\"application\"><section aria-labelledby=\"app-{index}\">\
         <h2 id=\"app-{index}\">{name}</h2>\
         <p>Client id <code class=\"client-id\">{client_id}</code></p>{provenance}\
         <p>Permissions:</p><ul>{scopes}</ul><p>On:</p><ul>{resources}</ul>\
         <p>Authorized <span class=\"granted\">{granted}</span>; last used \
         <span class=\"last-used\">{last_used}</span>.</p>\
         <form method=\"post\" action=\"{action}\">{csrf}\
         <input type=\"hidden\" name=\"client_id\" value=\"{client_id}\">\
         <button type=\"submit\" class=\"revoke\">Revoke access of {name}</button></form>\
         </section></li>",
        client_id = escape(app.client_id.as_str()),
        provenance = provenance(app.client.as_ref().map(Provenance::of).as_ref()),
        scopes = scopes(&scope, descriptions),
        granted = time_html(app.granted_at),
        action = escape(&paths.account_revoke),
        csrf = csrf_field(csrf),
    )
}

/// What the applications page says above the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccountNotice {
    /// Nothing.
    None,
    /// An application's access was just revoked.
    Revoked,
}

/// The connected applications of the signed-in `user`, each with a revoke form, and a sign-out
/// form; every form carries the session's `csrf` token.
pub(crate) fn applications(
    service: &str,
    paths: &Paths,
    user: &str,
    csrf: &str,
    applications: &[ConnectedApplication],
    descriptions: &BTreeMap<ScopeToken, String>,
    notice: AccountNotice,
) -> String {
    let list = if applications.is_empty() {
        "<p id=\"no-applications\">You have not authorized any application.</p>".to_owned()
    } else {
        format!(
            "<ul id=\"applications\">{}</ul>",
            applications
                .iter()
                .enumerate()
                .map(|(i, app)| application(i, app, paths, csrf, descriptions))
                .collect::<String>()
        )
    };
    let notice = match notice {
        AccountNotice::None => "",
        AccountNotice::Revoked => {
            "<p role=\"status\" id=\"revoked\">Access revoked: the application's tokens no \
             longer work, and it has to ask you again.</p>"
        }
    };
    let body = format!(
        "<h1><span id=\"service\">{service_html}</span>: connected applications</h1>\
         <form method=\"post\" action=\"{sign_out}\">{csrf}\
         <p>Signed in as <strong id=\"user\">{user}</strong>. \
         <button type=\"submit\" id=\"sign-out\">Sign out</button></p></form>{notice}\
         <p>These applications can act for you with the permissions listed. Revoking one ends \
         its access at once.</p>{list}",
        service_html = escape(service),
        sign_out = escape(&paths.account_sign_out),
        csrf = csrf_field(csrf),
        user = escape(user),
    );
    page(
        &PageTemplates::default(),
        service,
        &format!("{service}: connected applications"),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_of_known_times() {
        assert_eq!(
            utc(NumericDate::from_secs(0)),
            ("1970-01-01 00:00 UTC".into(), "1970-01-01T00:00:00Z".into())
        );
        assert_eq!(
            utc(NumericDate::from_secs(1_709_210_096)),
            ("2024-02-29 12:34 UTC".into(), "2024-02-29T12:34:56Z".into())
        );
    }
}
