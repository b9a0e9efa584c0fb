//! Finding the tools a JSON-RPC request body calls (MCP `tools/call`, single or batched).

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(untagged)]
enum Messages {
    One(Message),
    Batch(Vec<Message>),
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<serde_json::Value>,
}

/// The tool names of every `tools/call` request in `body`. `None` when the body is not JSON-RPC; the
/// MCP server refuses such bodies itself.
pub(crate) fn called_tools(body: &[u8]) -> Option<Vec<String>> {
    let messages = match serde_json::from_slice::<Messages>(body).ok()? {
        Messages::One(one) => vec![one],
        Messages::Batch(batch) => batch,
    };
    Some(
        messages
            .into_iter()
            .filter(|m| m.method.as_deref() == Some("tools/call"))
            .filter_map(|m| {
                m.params?
                    .get("name")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::called_tools;

    #[test]
    fn finds_single_and_batched_tool_calls() {
        let one = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#;
        assert_eq!(called_tools(one), Some(vec!["echo".to_owned()]));
        let batch = br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},
            {"jsonrpc":"2.0","id":2,"method":"tools/list"},
            {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"b"}}]"#;
        assert_eq!(
            called_tools(batch),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(called_tools(b"not json"), None);
        assert_eq!(called_tools(br#"{"method":"tools/list"}"#), Some(vec![]));
    }
}
