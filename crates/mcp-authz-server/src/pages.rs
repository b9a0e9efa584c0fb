//! The HTML pages: login, consent, error. Plain forms, no JavaScript (REQUIREMENTS AS-11).

use std::collections::BTreeMap;

use mcp_authz_metadata::{ResourceUri, Scope, ScopeToken};
use mcp_authz_store::Consent;

use crate::paths::Paths;
use crate::provenance::Provenance;
use crate::respond::escape;
use crate::session::Pending;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}\
.scope-token{font-family:monospace}.none{color:#555;font-style:italic}\
.warn{background:#fff3cd;border:1px solid #e0b000;padding:.75rem}\
label,input,button{display:block;margin:.5rem 0}button{padding:.5rem 1rem}";

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        title = escape(title),
    )
}

fn hidden(request_id: &str, csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(request_id),
        escape(csrf)
    )
}

fn redirect_host(pending: &Pending) -> String {
    let url = pending.redirect_uri.url();
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => url.scheme().to_owned(),
    }
}

fn client_summary(pending: &Pending) -> String {
    let mut html = format!(
        "<p><strong>{}</strong> (client id <code>{}</code>) will receive the result at \
         <strong>{}</strong>.</p>",
        escape(&pending.client_name),
        escape(pending.client_id.as_str()),
        escape(&redirect_host(pending)),
    );
    html.push_str(&match &pending.provenance {
        Provenance::Operator => {
            "<p class=\"provenance\" id=\"provenance-operator\">This application \
             was registered by the operator of this service.</p>"
                .to_owned()
        }
        Provenance::MetadataDocument { host } => format!(
            "<p class=\"provenance\" id=\"provenance-document\">This application's name and \
             addresses are published by <strong>{}</strong> (its client metadata document).</p>",
            escape(host)
        ),
        Provenance::Dynamic => {
            "<p class=\"provenance warn\" id=\"provenance-dynamic\">Unverified: \
             this name was chosen by the application itself.</p>"
                .to_owned()
        }
    });
    if pending.localhost_warning {
        html.push_str(
            "<p class=\"warn\" id=\"localhost-warning\">Warning: this application only redirects to \
             this computer (localhost). Any program running on this computer could be receiving \
             this authorization. Continue only if you just started this application yourself.</p>",
        );
    }
    html
}

/// What the login page tells the user above the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginNotice {
    /// Nothing: the first attempt.
    None,
    /// The previous attempt failed.
    Failed,
    /// Too many failures: this account may not be tried from here for this long (SEC-19).
    Locked(std::time::Duration),
}

/// The login page; `upstream` is (button label, start URL) of an upstream identity provider.
pub(crate) fn login(
    service: &str,
    pending: &Pending,
    request_id: &str,
    csrf: &str,
    action: &str,
    notice: LoginNotice,
    upstream: Option<(&str, &str)>,
) -> String {
    let body = format!(
        "<h1>Sign in to <span id=\"service\">{service}</span></h1>{summary}{form}{upstream}",
        upstream = upstream
            .map(|(name, url)| format!(
                "<p><a id=\"upstream-login\" href=\"{}\">Sign in with {}</a></p>",
                escape(url),
                escape(name)
            ))
            .unwrap_or_default(),
        service = escape(service),
        summary = client_summary(pending),
        form = login_form(action, &hidden(request_id, csrf), notice),
    );
    page(&format!("Sign in to {service}"), &body)
}

/// The notice and the username and password form posting to `action` with `hidden` fields: the
/// login page's and the account pages' sign-in.
pub(crate) fn login_form(action: &str, hidden: &str, notice: LoginNotice) -> String {
    let error = match notice {
        LoginNotice::None => String::new(),
        LoginNotice::Failed => {
            "<p class=\"warn\" role=\"alert\">The username or password is not correct.</p>"
                .to_owned()
        }
        LoginNotice::Locked(wait) => format!(
            "<p class=\"warn\" role=\"alert\" id=\"locked\">Too many failed sign-in attempts. \
             Try again in {} minute(s).</p>",
            wait.as_secs().div_ceil(60).max(1)
        ),
    };
    format!(
        "{error}<form method=\"post\" action=\"{action}\">{hidden}\
         <label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        action = escape(action),
    )
}

/// The consent page: client name, redirect host, scopes, resources (AS-11). With a remembered
/// consent for this client, `allowed`, it lists what is new apart from what was allowed before; the
/// consent remembered on approval is exactly what the page lists (SEC-13). One form: "Not you? Sign
/// out" posts the same request id and CSRF token to the sign-out path (its `formaction`).
pub(crate) fn consent(
    service: &str,
    pending: &Pending,
    request_id: &str,
    paths: &Paths,
    user: &str,
    allowed: Option<&Consent>,
    descriptions: &BTreeMap<ScopeToken, String>,
) -> String {
    let (new_scope, new_resources): (Scope, Vec<&ResourceUri>) = match allowed {
        Some(c) => (
            pending.scope.difference(&c.scope),
            pending
                .resources
                .iter()
                .filter(|r| !c.resources.contains(r))
                .collect(),
        ),
        None => (pending.scope.clone(), pending.resources.iter().collect()),
    };
    // `class` is "scope"/"resource", then "new" or "allowed" when there is a remembered consent.
    let scopes = |scope: &Scope, class: &str, none: &str| -> String {
        if scope.is_empty() {
            format!("<li>{none}</li>")
        } else {
            scope
                .iter()
                .map(|s| {
                    let description = match descriptions.get(s) {
                        Some(text) => format!("<span class=\"scope-description\">{}</span>", escape(text)),
                        None => "<span class=\"scope-description none\">(no description)</span>"
                            .to_owned(),
                    };
                    format!(
                        "<li class=\"scope{class}\"><span class=\"scope-token\">{}</span>: {description}</li>",
                        escape(s.as_str())
                    )
                })
                .collect()
        }
    };
    let resources = |list: &[&ResourceUri], class: &str| -> String {
        if list.is_empty() {
            "<li>(no new resources)</li>".to_owned()
        } else {
            list.iter()
                .map(|r| format!("<li class=\"resource{class}\">{}</li>", escape(r.as_str())))
                .collect()
        }
    };
    let asks = match allowed {
        None => format!(
            "<p>It asks for these permissions:</p><ul>{}</ul><p>on:</p><ul>{}</ul>",
            scopes(&new_scope, "", "(no specific permissions)"),
            resources(&new_resources, ""),
        ),
        Some(c) => {
            let old_resources: Vec<&ResourceUri> = c.resources.iter().collect();
            format!(
                "<p>It asks for <strong>more</strong> than you allowed before. New permissions:</p>\
                 <ul id=\"new-scopes\">{}</ul><p>New resources:</p><ul id=\"new-resources\">{}</ul>\
                 <p>Already allowed permissions:</p><ul id=\"allowed-scopes\">{}</ul>\
                 <p>Already allowed resources:</p><ul id=\"allowed-resources\">{}</ul>\
                 <p>Allowing remembers all of the permissions and resources above for this \
                 application.</p>",
                scopes(&new_scope, " new", "(no new permissions)"),
                resources(&new_resources, " new"),
                scopes(&c.scope, " allowed", "(no specific permissions)"),
                resources(&old_resources, " allowed"),
            )
        }
    };
    let body = format!(
        "<h1><span id=\"service\">{service_html}</span>: authorize access</h1><form method=\"post\" action=\"{action}\">{hidden}\
         <p>Signed in as <strong id=\"user\">{user}</strong>. \
         <button type=\"submit\" id=\"sign-out\" formaction=\"{sign_out}\">Not you? Sign out</button></p>\
         {summary}{asks}\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>\
         <p id=\"revoke-later\">You can revoke this access later at \
         <a href=\"{applications}\">connected applications</a>.</p>",
        service_html = escape(service),
        user = escape(user),
        sign_out = escape(&paths.sign_out),
        applications = escape(&paths.account_applications),
        summary = client_summary(pending),
        action = escape(&paths.consent),
        hidden = hidden(request_id, &pending.csrf),
    );
    page(&format!("{service}: authorize access"), &body)
}

/// An error shown to the user instead of a redirect (SEC-1).
pub(crate) fn error(message: &str) -> String {
    page(
        "Authorization error",
        &format!(
            "<h1>Authorization error</h1><p id=\"error\">{}</p>\
             <p>You were not redirected because the request could not be verified.</p>",
            escape(message)
        ),
    )
}
