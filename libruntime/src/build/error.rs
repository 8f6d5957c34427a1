//! What fails in a build.

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Containerfile (named by `file`) does not parse.
    #[error("{file}: {error}")]
    Parse {
        file: String,
        #[source]
        error: ParseError,
    },
    /// A step failed; podman's words first (scripts match them), the line after.
    #[error("building at STEP \"{keyword} {text}\": {reason} (line {line})")]
    Step {
        keyword: String,
        text: String,
        line: usize,
        reason: String,
    },
    /// A RUN step's command exited non-zero.
    #[error("the command exited with status {0}")]
    CommandFailed(i32),
    /// A step's container ended without reporting how.
    #[error("the step's container ended without an exit code")]
    NoExitCode,
    #[error("target stage {0:?} could not be found")]
    StageNotFound(String),
    #[error(
        "{file}: line {line}: FROM {base}: image not known (pull it first, or build with --pull)"
    )]
    BaseNotFound {
        file: String,
        line: usize,
        base: String,
    },
}

/// A Containerfile that cannot be parsed, and the line that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based; 0 when no line is to blame.
    pub line: usize,
    pub message: String,
}

impl ParseError {
    pub fn at(line: usize, message: String) -> ParseError {
        ParseError { line, message }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}
