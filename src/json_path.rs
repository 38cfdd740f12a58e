//! Where in a JSON text a parse failed, as a path (`offers[2].caps.perDay`):
//! serde_json says the line and column, this walks the text to them. One
//! plain deserializer per type instead of a path-tracking wrapper around
//! every one (`serde_path_to_error` cost the module 16 KB brotli, 70 KB raw).

/// One level of nesting and where in it the walk is.
enum Frame {
    Object { key: Option<String>, expecting_key: bool },
    Array { index: usize },
}

/// The path of the value serde_json was reading when `error` stopped it in
/// `text` (empty: the top level).
pub(crate) fn error_path(text: &str, error: &serde_json::Error) -> String {
    let offset = offset_of(text, error.line(), error.column());
    let (frames, after_key) = walk(text.as_bytes(), offset);
    let mut frames = frames;
    // An externally tagged enum's unknown tag is a key, but names the
    // variant, not a field: the path is the enum's value.
    if after_key && error.to_string().starts_with("unknown variant") {
        if let Some(Frame::Object { key, .. }) = frames.last_mut() {
            *key = None;
        }
    }
    let mut path = String::new();
    for frame in &frames {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// The byte offset of 1-based `line` and `column` (serde_json counts bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (start + column).min(text.len())
}

/// The open frames at `end`, and whether the last token read was a key.
fn walk(bytes: &[u8], end: usize) -> (Vec<Frame>, bool) {
    let mut frames: Vec<Frame> = Vec::new();
    let mut after_key = false;
    let mut i = 0;
    while i < end && i < bytes.len() {
        match bytes[i] {
            b'{' => {
                frames.push(Frame::Object { key: None, expecting_key: true });
                after_key = false;
            }
            b'[' => {
                frames.push(Frame::Array { index: 0 });
                after_key = false;
            }
            b'}' | b']' => {
                frames.pop();
                after_key = false;
            }
            b',' => {
                match frames.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { key, expecting_key }) => {
                        *key = None;
                        *expecting_key = true;
                    }
                    None => {}
                }
                after_key = false;
            }
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = frames.last_mut() {
                    *expecting_key = false;
                }
                after_key = false;
            }
            b'"' => {
                let (s, next) = string_at(bytes, i + 1);
                after_key = false;
                if let Some(Frame::Object { key, expecting_key: true }) = frames.last_mut() {
                    *key = Some(s);
                    after_key = true;
                }
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (frames, after_key)
}

/// The string whose body starts at `i` (escapes kept as written: keys with
/// escapes are rare and the path is for people), and the offset after it.
fn string_at(bytes: &[u8], mut i: usize) -> (String, usize) {
    let start = i;
    while i < bytes.len() && bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    let end = i.min(bytes.len());
    (String::from_utf8_lossy(&bytes[start..end]).into_owned(), end + 1)
}

#[cfg(test)]
mod tests {
    use super::error_path;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
        #[serde(default)]
        rules: std::collections::BTreeMap<String, Rule>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        per_day: u32,
        #[serde(default)]
        when: Vec<Rule>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    enum Rule {
        InStock(bool),
        Price { min: f64 },
    }

    fn path(json: &str) -> String {
        let e = serde_json::from_str::<Outer>(json).unwrap_err();
        error_path(json, &e)
    }

    #[test]
    fn the_path_of_the_value_a_parse_stopped_at() {
        assert_eq!(path(r#"{"items": [{"perDay": 1}, {"perDay": -1}]}"#), "items[1].perDay");
        assert_eq!(path(r#"{"items": [{"perDay": 1, "colour": "red"}]}"#), "items[0].colour");
        assert_eq!(path("{\"items\": [\n  {\"perDay\": 1},\n  {\"perDay\": \"x\"}\n]}"), "items[1].perDay");
        assert_eq!(
            path(r#"{"items": [{"perDay": 1, "when": [{"inStock": true}, {"cartVal": 1}]}]}"#),
            "items[0].when[1]"
        );
        assert_eq!(
            path(r#"{"items": [{"perDay": 1, "when": [{"price": {"min": "a"}}]}]}"#),
            "items[0].when[0].price.min"
        );
        assert_eq!(path(r#"{"items": [{}]}"#), "items[0]");
        assert_eq!(path(r#"{"items": [], "rules": {"a,\"b": {"inStock": 3}}}"#), "rules.a,\\\"b.inStock");
        assert_eq!(path(r#"{"items": "no"}"#), "items");
        assert_eq!(path(r#"[]"#), "");
        assert_eq!(path(r#"{"items": [{"perDay": 1}"#), "items[0]");
    }
}
