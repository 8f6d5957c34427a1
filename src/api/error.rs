//! What an API request can fail with, and the status code and `{"message": …}` body
//! docker clients read from it.

use hyper::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such container, image or exec instance (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the object's state (409).
    #[error("{0}")]
    Conflict(String),
    /// Nothing to do: already started or stopped (304, no body).
    #[error("not modified")]
    NotModified,
    /// The request itself is wrong (400).
    #[error("{0}")]
    BadRequest(String),
    /// The registry refused the credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The engine failed (500).
    #[error("{0}")]
    Engine(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::NotModified => StatusCode::NOT_MODIFIED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Engine(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A container that is not there, in dockerd's words.
    pub fn no_container(name: &str) -> ApiError {
        ApiError::NotFound(format!("No such container: {name}"))
    }

    pub fn no_image(name: &str) -> ApiError {
        ApiError::NotFound(format!("No such image: {name}"))
    }
}

impl From<libruntime::Error> for ApiError {
    fn from(e: libruntime::Error) -> ApiError {
        ApiError::Engine(e.to_string())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        match e.downcast::<libruntime::Error>() {
            Ok(l) => l.into(),
            Err(e) => ApiError::Engine(crate::exit::one_line(&e)),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
