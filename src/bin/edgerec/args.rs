//! A tiny flag parser: `--name value` pairs and positional arguments.

use edgerec::{Error, Result};
use std::collections::HashMap;
use std::str::FromStr;

pub struct Args {
    flags: HashMap<String, String>,
    pub positional: Vec<String>,
}

impl Args {
    pub fn parse(raw: impl Iterator<Item = String>) -> Result<Args> {
        let mut flags = HashMap::new();
        let mut positional = Vec::new();
        let mut raw = raw.peekable();
        while let Some(a) = raw.next() {
            match a.strip_prefix("--") {
                Some(name) => {
                    let value = raw.next().ok_or_else(|| bad(format!("--{name} needs a value")))?;
                    flags.insert(name.to_string(), value);
                }
                None => positional.push(a),
            }
        }
        Ok(Args { flags, positional })
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.opt(name).ok_or_else(|| bad(format!("missing --{name}")))
    }

    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.opt(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| bad(format!("--{name}: cannot parse {v:?}"))),
        }
    }
}

pub fn bad(msg: String) -> Error {
    Error::InvalidOptions(msg)
}
