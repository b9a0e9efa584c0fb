//! The MCP tools. Each reads the validated claims the layer put into the HTTP request, which rmcp
//! passes to handlers as `http::request::Parts`.

use std::sync::{Arc, Mutex};

use mcp_authz_resource::VerifiedClaims;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{schemars, tool, tool_router};

use super::{READ_SCOPE, REQUIRED_SCOPE_META, WRITE_SCOPE};

/// The arguments of `add_note`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct AddNote {
    /// The note.
    text: String,
}

/// A shared notebook; every note records who wrote it. The MCP server handler.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    notes: Arc<Mutex<Vec<String>>>,
}

/// The claims of the request, when the server runs behind the layer.
fn claims(parts: &http::request::Parts) -> Option<&VerifiedClaims> {
    parts.extensions.get::<VerifiedClaims>()
}

fn who(parts: &http::request::Parts) -> String {
    claims(parts)
        .and_then(VerifiedClaims::subject)
        .unwrap_or("unknown")
        .to_owned()
}

impl Notes {
    /// An empty notebook.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[tool_router(server_handler)]
impl Notes {
    /// Needs only the base scope `mcp:tools`.
    #[tool(description = "Tell who is calling: subject, client and granted scope")]
    fn whoami(&self, Extension(parts): Extension<http::request::Parts>) -> String {
        match claims(&parts) {
            Some(c) => format!(
                "subject={} client={} scope={}",
                c.subject().unwrap_or("-"),
                c.client_id().map_or("-", |id| id.as_str()),
                c.scope()
            ),
            None => "no claims (is the server behind RequireBearerLayer?)".to_owned(),
        }
    }

    /// Needs `notes:read` (or `notes:write`, which implies it).
    #[tool(description = "List the notes", meta = required_scope(READ_SCOPE))]
    fn read_notes(&self) -> String {
        self.lock().join("\n")
    }

    /// Needs `notes:write`.
    #[tool(description = "Add a note", meta = required_scope(WRITE_SCOPE))]
    fn add_note(
        &self,
        Parameters(AddNote { text }): Parameters<AddNote>,
        Extension(parts): Extension<http::request::Parts>,
    ) -> String {
        let note = format!("{}: {text}", who(&parts));
        self.lock().push(note.clone());
        note
    }
}

/// The `_meta` of a tool that needs `scope` (shown by `mcp-authz tools`).
fn required_scope(scope: &str) -> rmcp::model::MetaObject {
    let mut meta = serde_json::Map::new();
    meta.insert(REQUIRED_SCOPE_META.to_owned(), scope.into());
    rmcp::model::MetaObject(meta)
}
