//! The HTML pages: login, consent, error. Plain forms, no JavaScript (REQUIREMENTS AS-11). This
//! module builds what the pages say, escaped; the [templates](crate::templates) (built-in or the
//! operator's) say where it goes.

use mcp_authz_metadata::{ResourceUri, Scope, ScopeToken};
use mcp_authz_store::Consent;

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::config::{DEFAULT_SERVICE_NAME, ServerConfig};
use crate::paths::Paths;
use crate::provenance::Provenance;
use crate::respond::{self, escape};
use crate::session::Pending;
use crate::templates::{PageTemplate, PageTemplates, STYLE};

/// The page `title` with `content` in the layout (the same chrome on every page).
pub(crate) fn page(templates: &PageTemplates, service: &str, title: &str, content: &str) -> String {
    templates.fill(
        PageTemplate::Layout,
        &[
            ("title", title),
            ("service", service),
            ("style", STYLE),
            ("content", content),
        ],
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
    config: &ServerConfig,
    pending: &Pending,
    request_id: &str,
    action: &str,
    notice: LoginNotice,
    upstream: Option<(&str, &str)>,
) -> String {
    let notice = login_notice(notice);
    let upstream = upstream
        .map(|(name, url)| {
            format!(
                "<p><a id=\"upstream-login\" href=\"{}\">Sign in with {}</a></p>",
                escape(url),
                escape(name)
            )
        })
        .unwrap_or_default();
    let content = config.templates.fill(
        PageTemplate::Login,
        &[
            ("service", &config.service_name),
            ("client", &client_summary(pending)),
            ("notice", &notice),
            ("action", action),
            ("hidden", &hidden(request_id, &pending.csrf)),
            ("upstream", &upstream),
        ],
    );
    page(
        &config.templates,
        &config.service_name,
        &format!("Sign in to {}", config.service_name),
        &content,
    )
}

/// The notice of a sign-in form.
fn login_notice(notice: LoginNotice) -> String {
    match notice {
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
    }
}

/// The notice and a username and password form posting to `action` with `hidden` fields (the
/// account pages' sign-in; the login page's own is its template).
pub(crate) fn login_form(action: &str, hidden: &str, notice: LoginNotice) -> String {
    format!(
        "{error}<form method=\"post\" action=\"{action}\">{hidden}\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div></form>",
        error = login_notice(notice),
        action = escape(action),
    )
}

/// One requested scope: its token, its short description (or that it has none), and its longer
/// explanation, if any, folded in a `<details>`. `class` is "" or " new"/" allowed".
fn scope_item(config: &ServerConfig, scope: &ScopeToken, class: &str) -> String {
    let description = match config.scope_descriptions.get(scope) {
        Some(text) => format!("<span class=\"scope-description\">{}</span>", escape(text)),
        None => "<span class=\"scope-description none\">(no description)</span>".to_owned(),
    };
    let details = match config.scope_details.get(scope) {
        Some(text) => format!(
            "<details class=\"scope-details\"><summary>More about {token}</summary>\
             <p>{}</p></details>",
            escape(text),
            token = escape(scope.as_str()),
        ),
        None => String::new(),
    };
    format!(
        "<li class=\"scope{class}\"><span class=\"scope-token\">{}</span>: {description}{details}</li>",
        escape(scope.as_str())
    )
}

/// What the consent page asks the user to allow: with a remembered consent, `allowed`, what is new
/// apart from what was allowed before.
fn permissions(config: &ServerConfig, pending: &Pending, allowed: Option<&Consent>) -> String {
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
    let scopes = |scope: &Scope, class: &str, none: &str| -> String {
        if scope.is_empty() {
            format!("<li>{none}</li>")
        } else {
            scope.iter().map(|s| scope_item(config, s, class)).collect()
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
    match allowed {
        None => format!(
            "<h3>Permissions</h3><ul id=\"scopes\">{}</ul>\
             <h3>On these resources</h3><ul id=\"resources\">{}</ul>",
            scopes(&new_scope, "", "(no specific permissions)"),
            resources(&new_resources, ""),
        ),
        Some(c) => {
            let old_resources: Vec<&ResourceUri> = c.resources.iter().collect();
            format!(
                "<p>It asks for <strong>more</strong> than you allowed before.</p>\
                 <h3>New permissions</h3><ul id=\"new-scopes\">{}</ul>\
                 <h3>New resources</h3><ul id=\"new-resources\">{}</ul>\
                 <h3>Already allowed permissions</h3><ul id=\"allowed-scopes\">{}</ul>\
                 <h3>Already allowed resources</h3><ul id=\"allowed-resources\">{}</ul>\
                 <p>Allowing remembers all of the permissions and resources above for this \
                 application.</p>",
                scopes(&new_scope, " new", "(no new permissions)"),
                resources(&new_resources, " new"),
                scopes(&c.scope, " allowed", "(no specific permissions)"),
                resources(&old_resources, " allowed"),
            )
        }
    }
}

/// The consent page: client name, redirect host, scopes, resources (AS-11). With a remembered
/// consent for this client, `allowed`, it lists what is new apart from what was allowed before; the
/// consent remembered on approval is exactly what the page lists (SEC-13). One form: "Not you? Sign
/// out" posts the same request id and CSRF token to the sign-out path (its `formaction`).
pub(crate) fn consent(
    config: &ServerConfig,
    pending: &Pending,
    request_id: &str,
    paths: &Paths,
    user: &str,
    allowed: Option<&Consent>,
) -> String {
    let content = config.templates.fill(
        PageTemplate::Consent,
        &[
            ("service", &config.service_name),
            ("user", user),
            ("sign_out", &paths.sign_out),
            ("applications", &paths.account_applications),
            ("client", &client_summary(pending)),
            ("permissions", &permissions(config, pending, allowed)),
            ("action", &paths.consent),
            ("hidden", &hidden(request_id, &pending.csrf)),
        ],
    );
    page(
        &config.templates,
        &config.service_name,
        &format!("{}: authorize access", config.service_name),
        &content,
    )
}

/// The message of an error page, kept in its response's extensions: the error mapping
/// ([`crate::error::wire`]) knows no configuration and renders the built-in page, which [`dress`]
/// renders again in the operator's templates with the service name.
#[derive(Debug, Clone)]
pub(crate) struct ErrorPage(String);

/// The built-in error page with `message` (SEC-1), to be [dressed](dress).
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response<Bytes> {
    let mut response = respond::html(
        status,
        error(&PageTemplates::default(), DEFAULT_SERVICE_NAME, message),
    );
    response
        .extensions_mut()
        .insert(ErrorPage(message.to_owned()));
    response
}

/// `response` with its error page, if it is one, in `config`'s templates and service name; any
/// other response as it is. Every public page method of the server passes its answer through it.
pub(crate) fn dress(config: &ServerConfig, mut response: Response<Bytes>) -> Response<Bytes> {
    if let Some(ErrorPage(message)) = response.extensions_mut().remove::<ErrorPage>() {
        *response.body_mut() =
            Bytes::from(error(&config.templates, &config.service_name, &message));
    }
    response
}

/// An error shown to the user instead of a redirect (SEC-1), in the operator's chrome: `templates`
/// and `service` name.
fn error(templates: &PageTemplates, service: &str, message: &str) -> String {
    let content = templates.fill(
        PageTemplate::Error,
        &[("service", service), ("message", message)],
    );
    page(
        templates,
        service,
        &format!("Authorization error: {service}"),
        &content,
    )
}
