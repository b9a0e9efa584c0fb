//! The HTML pages: login, consent, error. Plain forms, no JavaScript (REQUIREMENTS AS-11).

use crate::respond::escape;
use crate::session::Pending;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}\
.warn{background:#fff3cd;border:1px solid #e0b000;padding:.75rem}\
label,input,button{display:block;margin:.5rem 0}button{padding:.5rem 1rem}";

fn page(title: &str, body: &str) -> String {
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
    if pending.localhost_warning {
        html.push_str(
            "<p class=\"warn\" id=\"localhost-warning\">Warning: this application only redirects to \
             this computer (localhost). Any program running on this computer could be receiving \
             this authorization. Continue only if you just started this application yourself.</p>",
        );
    }
    html
}

/// The login page; `upstream` is (button label, start URL) of an upstream identity provider.
pub(crate) fn login(
    pending: &Pending,
    request_id: &str,
    csrf: &str,
    action: &str,
    failed: bool,
    upstream: Option<(&str, &str)>,
) -> String {
    let error = if failed {
        "<p class=\"warn\" role=\"alert\">The username or password is not correct.</p>"
    } else {
        ""
    };
    let body = format!(
        "<h1>Sign in</h1>{summary}{error}\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>{upstream}",
        upstream = upstream
            .map(|(name, url)| format!(
                "<p><a id=\"upstream-login\" href=\"{}\">Sign in with {}</a></p>",
                escape(url),
                escape(name)
            ))
            .unwrap_or_default(),
        summary = client_summary(pending),
        action = escape(action),
        hidden = hidden(request_id, csrf),
    );
    page("Sign in", &body)
}

/// The consent page: client name, redirect host, scopes, resources (AS-11).
pub(crate) fn consent(
    pending: &Pending,
    request_id: &str,
    csrf: &str,
    action: &str,
    user: &str,
) -> String {
    let scopes: String = if pending.scope.is_empty() {
        "<li>(no specific permissions)</li>".to_owned()
    } else {
        pending
            .scope
            .iter()
            .map(|s| format!("<li class=\"scope\">{}</li>", escape(s.as_str())))
            .collect()
    };
    let resources: String = pending
        .resources
        .iter()
        .map(|r| format!("<li class=\"resource\">{}</li>", escape(r.as_str())))
        .collect();
    let body = format!(
        "<h1>Authorize access</h1><p>Signed in as <strong>{user}</strong>.</p>{summary}\
         <p>It asks for these permissions:</p><ul>{scopes}</ul>\
         <p>on:</p><ul>{resources}</ul>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        user = escape(user),
        summary = client_summary(pending),
        action = escape(action),
        hidden = hidden(request_id, csrf),
    );
    page("Authorize access", &body)
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
