//! Error collection: every problem found in every config file, each located as
//! `FILE:LINE:COL: KEY: message`. The validator never stops at the first error; it records and
//! carries on, and `load` fails at the end when anything was recorded.

use std::ops::Range;

use super::ConfigError;

/// One loaded file: its name (as shown in errors) and where its lines start.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub name: String,
    text_lines: Vec<usize>,
    text: String,
}

impl SourceFile {
    /// Indexes `text` so byte offsets can be turned into line:col.
    pub fn new(name: &str, text: &str) -> Self {
        let mut text_lines = vec![0];
        text_lines.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        SourceFile {
            name: name.to_owned(),
            text_lines,
            text: text.to_owned(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.text_lines.partition_point(|&s| s <= offset).max(1);
        let start = self.text_lines.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, col + 1)
    }
}

/// Collected errors and warnings, plus the files they point into.
#[derive(Debug, Default)]
pub(crate) struct Diag {
    files: Vec<SourceFile>,
    current: usize,
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<ConfigError>,
}

impl Diag {
    /// Registers a file and makes it the one new errors point into; returns its index.
    pub fn enter_file(&mut self, name: &str, text: &str) -> usize {
        self.files.push(SourceFile::new(name, text));
        self.current = self.files.len() - 1;
        self.current
    }

    /// Makes an earlier registered file current again.
    pub fn set_file(&mut self, index: usize) {
        if index < self.files.len() {
            self.current = index;
        }
    }

    /// Records an error at byte span `span` of the current file.
    pub fn error(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let e = self.locate(span, key, message.into());
        self.errors.push(e);
    }

    /// Records a warning (printed by `check`, never fatal).
    pub fn warn(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let e = self.locate(span, key, message.into());
        self.warnings.push(e);
    }

    /// Records the TOML syntax errors of the current file, only the first one per line (the
    /// parser's recovery produces cascades).
    pub fn syntax(&mut self, errors: &[toml::de::Error]) {
        let mut last_line = 0;
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            let err = self.locate(&span, "syntax", e.message().to_owned());
            if err.line != last_line {
                last_line = err.line;
                self.errors.push(err);
            }
        }
    }

    fn locate(&self, span: &Range<usize>, key: &str, message: String) -> ConfigError {
        let (file, (line, col)) = match self.files.get(self.current) {
            Some(f) => (f.name.clone(), f.line_col(span.start)),
            None => (String::new(), (1, 1)),
        };
        ConfigError {
            file,
            line,
            col,
            key: key.to_owned(),
            message,
        }
    }

    /// Errors sorted by file order then position, and warnings.
    pub fn finish(mut self) -> (Vec<ConfigError>, Vec<ConfigError>) {
        let order: Vec<String> = self.files.iter().map(|f| f.name.clone()).collect();
        let rank = |e: &ConfigError| order.iter().position(|n| *n == e.file).unwrap_or(usize::MAX);
        self.errors.sort_by_key(|e| (rank(e), e.line, e.col));
        self.warnings.sort_by_key(|e| (rank(e), e.line, e.col));
        (self.errors, self.warnings)
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_ascii_lowercase()), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// " (did you mean `x`?)" or "".
pub(crate) fn hint(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based() {
        let f = SourceFile::new("f", "ab\ncdé\nx");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(1), (1, 2));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 4));
        assert_eq!(f.line_col(8), (3, 1));
        assert_eq!(f.line_col(1000), (3, 2));
    }

    #[test]
    fn hints_close_words_only() {
        assert_eq!(
            did_you_mean("nonce_tll", &["nonce_ttl", "realm"]),
            Some("nonce_ttl")
        );
        assert_eq!(did_you_mean("relm", &["nonce_ttl", "realm"]), Some("realm"));
        assert_eq!(did_you_mean("zzzz", &["nonce_ttl", "realm"]), None);
    }

    #[test]
    fn syntax_errors_one_per_line() {
        let text = "a = \nb = [1,\n";
        let (_, errs) = toml::de::DeTable::parse_recoverable(text);
        let mut d = Diag::default();
        d.enter_file("t.toml", text);
        d.syntax(&errs);
        let lines: Vec<usize> = d.errors.iter().map(|e| e.line).collect();
        let mut dedup = lines.clone();
        dedup.dedup();
        assert_eq!(lines, dedup);
        assert!(!d.errors.is_empty());
    }
}
