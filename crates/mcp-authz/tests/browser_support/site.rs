//! The test's own web origin: a loopback listener on another port that serves the client's redirect
//! URI and any page the test puts there (e.g. one that frames the authorization server).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

type Pages = Arc<Mutex<HashMap<String, String>>>;

/// A loopback origin `http://127.0.0.1:<port>` serving HTML pages by path.
pub(crate) struct Site {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    pages: Pages,
}

impl Site {
    /// Starts the listener on an ephemeral port; it serves `/callback` from the start.
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let pages: Pages = Arc::default();
        pages.lock().unwrap().insert(
            "/callback".to_owned(),
            "<!DOCTYPE html><title>callback</title><p id=\"callback\">The client received the \
             authorization response.</p>"
                .to_owned(),
        );
        let app = axum::Router::new()
            .fallback(serve_page)
            .with_state(pages.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, pages }
    }

    /// Serves `html` at `path` from now on.
    pub(crate) fn put(&self, path: &str, html: String) {
        self.pages.lock().unwrap().insert(path.to_owned(), html);
    }

    /// `<base><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn serve_page(State(pages): State<Pages>, request: Request) -> Response {
    let page = pages.lock().unwrap().get(request.uri().path()).cloned();
    match page {
        Some(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
