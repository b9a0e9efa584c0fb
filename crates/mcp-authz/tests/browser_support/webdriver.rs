//! The handful of W3C WebDriver commands the browser tests use
//! (<https://www.w3.org/TR/webdriver2/>), as JSON over reqwest: new session, navigate, current URL,
//! page source, find element(s), element text, send keys, click, switch to frame, cookies, execute
//! script, key actions, window size, screenshot, delete session.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

/// The member that holds a web element reference in WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A failed WebDriver command: the command and the remote end's `error` and `message`.
#[derive(Debug)]
pub(crate) struct WebDriverError {
    command: String,
    /// The W3C error code, e.g. `no such element`.
    pub(crate) error: String,
    message: String,
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.command, self.error, self.message)
    }
}

/// A web element reference, valid in the browsing context it was found in.
#[derive(Debug, Clone)]
pub(crate) struct Element(String);

impl Element {
    fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// A WebDriver session: one headless Chromium.
pub(crate) struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    base: String,
}

impl Session {
    /// Starts headless Chromium with a fresh profile in `user_data_dir`.
    pub(crate) async fn start(
        driver: &str,
        chromium: &str,
        user_data_dir: &Path,
    ) -> Result<Self, WebDriverError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| transport("new session", &e))?;
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", user_data_dir.display()),
        ];
        let body = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": { "pageLoad": 60_000, "script": 30_000, "implicit": 0 },
                    "goog:chromeOptions": { "binary": chromium, "args": args },
                }
            }
        });
        let value = send(
            "new session",
            http.post(format!("{driver}/session")).json(&body),
        )
        .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| malformed("new session", &value))?;
        Ok(Self {
            base: format!("{driver}/session/{id}"),
            http,
        })
    }

    async fn get(&self, command: &str, path: &str) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.base);
        send(command, self.http.get(url)).await
    }

    async fn post(&self, command: &str, path: &str, body: Value) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.base);
        send(command, self.http.post(url).json(&body)).await
    }

    /// Navigates the top-level browsing context and waits for the page to load.
    pub(crate) async fn goto(&self, url: &str) -> Result<(), WebDriverError> {
        self.post("navigate to", "/url", json!({ "url": url }))
            .await
            .map(drop)
    }

    /// The top-level browsing context's URL.
    pub(crate) async fn current_url(&self) -> Result<String, WebDriverError> {
        let value = self.get("get current url", "/url").await?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed("get current url", &value))
    }

    /// The current browsing context's document, serialised.
    pub(crate) async fn source(&self) -> Result<String, WebDriverError> {
        let value = self.get("get page source", "/source").await?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed("get page source", &value))
    }

    /// The first element matching a CSS selector in the current browsing context.
    pub(crate) async fn find(&self, css: &str) -> Result<Element, WebDriverError> {
        let body = json!({ "using": "css selector", "value": css });
        let value = self.post("find element", "/element", body).await?;
        element(&value).ok_or_else(|| malformed("find element", &value))
    }

    /// Every element matching a CSS selector in the current browsing context.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, WebDriverError> {
        let body = json!({ "using": "css selector", "value": css });
        let value = self.post("find elements", "/elements", body).await?;
        let list = value
            .as_array()
            .ok_or_else(|| malformed("find elements", &value))?;
        list.iter()
            .map(|v| element(v).ok_or_else(|| malformed("find elements", v)))
            .collect()
    }

    /// An element's rendered text.
    pub(crate) async fn text(&self, element: &Element) -> Result<String, WebDriverError> {
        let value = self
            .get("get element text", &format!("/element/{}/text", element.0))
            .await?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed("get element text", &value))
    }

    /// Types `text` into an element.
    pub(crate) async fn send_keys(
        &self,
        element: &Element,
        text: &str,
    ) -> Result<(), WebDriverError> {
        let path = format!("/element/{}/value", element.0);
        self.post("element send keys", &path, json!({ "text": text }))
            .await
            .map(drop)
    }

    /// Clicks an element (and waits for a navigation it starts).
    pub(crate) async fn click(&self, element: &Element) -> Result<(), WebDriverError> {
        let path = format!("/element/{}/click", element.0);
        self.post("element click", &path, json!({})).await.map(drop)
    }

    /// Makes the browsing context of an `<iframe>` element current.
    pub(crate) async fn switch_to_frame(&self, frame: &Element) -> Result<(), WebDriverError> {
        self.post(
            "switch to frame",
            "/frame",
            json!({ "id": frame.reference() }),
        )
        .await
        .map(drop)
    }

    /// Makes the top-level browsing context current again.
    pub(crate) async fn switch_to_top(&self) -> Result<(), WebDriverError> {
        self.post("switch to frame", "/frame", json!({ "id": null }))
            .await
            .map(drop)
    }

    /// The cookie `name` of the current page's origin, as the W3C cookie object (`value`,
    /// `httpOnly`, `sameSite`, …), HttpOnly cookies included; `None` if there is none.
    pub(crate) async fn cookie(&self, name: &str) -> Result<Option<Value>, WebDriverError> {
        let value = self.get("get all cookies", "/cookie").await?;
        let list = value
            .as_array()
            .ok_or_else(|| malformed("get all cookies", &value))?;
        Ok(list.iter().find(|c| c["name"] == name).cloned())
    }

    /// Runs a script's body in the current browsing context and returns its result.
    pub(crate) async fn execute(&self, script: &str) -> Result<Value, WebDriverError> {
        let body = json!({ "script": script, "args": [] });
        self.post("execute script", "/execute/sync", body).await
    }

    /// Presses and releases one key (a WebDriver key code such as `"\u{E004}"`, Tab) in whatever
    /// has the focus, as a user would.
    pub(crate) async fn press_key(&self, key: &str) -> Result<(), WebDriverError> {
        let body = json!({ "actions": [{
            "type": "key",
            "id": "keyboard",
            "actions": [{ "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }],
        }]});
        self.post("perform actions", "/actions", body)
            .await
            .map(drop)
    }

    /// Resizes the browser window (the viewport follows).
    pub(crate) async fn set_window_size(
        &self,
        width: u32,
        height: u32,
    ) -> Result<(), WebDriverError> {
        let body = json!({ "width": width, "height": height });
        self.post("set window rect", "/window/rect", body)
            .await
            .map(drop)
    }

    /// A PNG of the top-level browsing context's viewport.
    pub(crate) async fn screenshot(&self) -> Result<Vec<u8>, WebDriverError> {
        use base64::Engine as _;
        let value = self.get("take screenshot", "/screenshot").await?;
        value
            .as_str()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .ok_or_else(|| malformed("take screenshot", &value))
    }

    /// Polls the top-level URL until `done` holds for it (at most about 30 s), and returns it.
    pub(crate) async fn wait_for_url(
        &self,
        what: &str,
        done: impl Fn(&str) -> bool,
    ) -> Result<String, WebDriverError> {
        let mut url = self.current_url().await?;
        for _ in 0..300 {
            if done(&url) {
                return Ok(url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            url = self.current_url().await?;
        }
        Err(WebDriverError {
            command: format!("wait for {what}"),
            error: "timeout".to_owned(),
            message: format!("still at {url}"),
        })
    }

    /// Ends the session and closes the browser.
    pub(crate) async fn quit(self) -> Result<(), WebDriverError> {
        send("delete session", self.http.delete(&self.base))
            .await
            .map(drop)
    }
}

fn element(value: &Value) -> Option<Element> {
    value[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned()))
}

fn transport(command: &str, error: &reqwest::Error) -> WebDriverError {
    WebDriverError {
        command: command.to_owned(),
        error: "transport".to_owned(),
        message: error.to_string(),
    }
}

fn malformed(command: &str, value: &Value) -> WebDriverError {
    WebDriverError {
        command: command.to_owned(),
        error: "malformed response".to_owned(),
        message: value.to_string(),
    }
}

/// Sends a command and unwraps the `value` member of the answer, or its error.
async fn send(command: &str, request: reqwest::RequestBuilder) -> Result<Value, WebDriverError> {
    let response = request.send().await.map_err(|e| transport(command, &e))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| transport(command, &e))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    Err(WebDriverError {
        command: command.to_owned(),
        error: value["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_owned(),
        message: value["message"].as_str().unwrap_or_default().to_owned(),
    })
}
