//! Reads the test-vector files in this directory.
//!
//! Format: `# comment` lines, `[record]` headers, then `key = value` lines
//! where the value is hex (spaces allowed) or a `"double-quoted"` ASCII
//! string (no escapes).

#![allow(dead_code)]

use std::path::PathBuf;

/// One `[record]` of a vector file.
pub struct Record {
    pub name: String,
    fields: Vec<(String, String)>,
}

impl Record {
    /// The raw value of `key`.
    pub fn raw(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("[{}] has no `{key}`", self.name))
    }

    /// A quoted string value.
    pub fn text(&self, key: &str) -> &str {
        let v = self.raw(key);
        v.strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("[{}] `{key}` is not a quoted string", self.name))
    }

    /// A hex value.
    pub fn hex(&self, key: &str) -> Vec<u8> {
        let digits: String = self.raw(key).split_whitespace().collect();
        hex::decode(&digits).unwrap_or_else(|e| panic!("[{}] `{key}`: {e}", self.name))
    }

    /// A hex value of exactly `N` octets.
    pub fn arr<const N: usize>(&self, key: &str) -> [u8; N] {
        let v = self.hex(key);
        v.as_slice()
            .try_into()
            .unwrap_or_else(|_| panic!("[{}] `{key}` has {} octets, not {N}", self.name, v.len()))
    }
}

/// All records of `tests/vectors/<file>`.
pub fn load(file: &str) -> Vec<Record> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "vectors", file]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut records: Vec<Record> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            records.push(Record {
                name: name.to_owned(),
                fields: Vec::new(),
            });
            continue;
        }
        let (k, v) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("{file}:{}: not `key = value`", n + 1));
        records
            .last_mut()
            .unwrap_or_else(|| panic!("{file}:{}: field before any [record]", n + 1))
            .fields
            .push((k.to_owned(), v.to_owned()));
    }
    assert!(!records.is_empty(), "{file} has no records");
    records
}

/// The record called `name` in `tests/vectors/<file>`.
pub fn record(file: &str, name: &str) -> Record {
    load(file)
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{file} has no [{name}]"))
}
