//! Response bodies: a whole body at once, or a stream fed from a channel (logs that
//! follow, pull progress, events), and the helpers that make docker's JSON and error
//! responses.

use super::error::ApiError;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use hyper::{Response, StatusCode};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A response body: whole, or chunks as they come.
pub enum Body {
    Whole(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Whole(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            // An empty chunk would read as the end of a chunked body: skip it.
            Body::Stream(rx) => loop {
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(b)) if b.is_empty() => continue,
                    other => return other.map(|c| c.map(|b| Ok(Frame::data(b)))),
                }
            },
        }
    }

    /// A whole body's exact size, so hyper sends Content-Length (as dockerd does)
    /// rather than chunks.
    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            Body::Whole(b) => {
                http_body::SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64))
            }
            Body::Stream(_) => http_body::SizeHint::default(),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Whole(None))
    }
}

/// A sender for a streamed body; blocking code (a log reader) writes through it.
pub fn stream() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel(64);
    (tx, Body::Stream(rx))
}

pub fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::Whole(None));
    *r.status_mut() = status;
    r
}

pub fn json(status: StatusCode, v: &serde_json::Value) -> Response<Body> {
    let text = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Body::Whole(Some(Bytes::from(text))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

pub fn error(e: &ApiError) -> Response<Body> {
    match e {
        ApiError::NotModified => empty(StatusCode::NOT_MODIFIED),
        _ => json(e.status(), &serde_json::json!({ "message": e.to_string() })),
    }
}

/// A writer whose bytes go to a streamed response, a chunk per write.
pub struct ChannelWriter(pub tokio::sync::mpsc::Sender<bytes::Bytes>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(bytes::Bytes::copy_from_slice(buf))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
            })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
