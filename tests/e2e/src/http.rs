//! A minimal plain-HTTP/1.1 client for the controller's own listeners (`/healthz`,
//! `/v1/*`, `/metrics`), and a tiny one-response server for checking the proxy path.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bound on one request, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A response: status, `Content-Type` and body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// `GET path` on `addr`. `Err` describes a transport failure (e.g. nothing listening).
pub async fn get(addr: SocketAddr, path: &str) -> Result<Response, String> {
    request(addr, "GET", path, None).await
}

/// `POST path` on `addr` with a body of `content_type`.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<Response, String> {
    request(addr, "POST", path, Some((content_type, body))).await
}

async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Result<Response, String> {
    tokio::time::timeout(REQUEST_TIMEOUT, async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
        // The connection task ends when the response is read and `sender` is dropped.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, addr.to_string());
        let bytes = match body {
            Some((content_type, bytes)) => {
                builder = builder.header(hyper::header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Vec::new(),
        };
        let req = builder
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| format!("building the request: {e}"))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("{method} {path} on {addr}: {e}"))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the body of {method} {path}: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Response {
            status,
            content_type,
            body,
        })
    })
    .await
    .map_err(|_| format!("{method} {path} on {addr}: no answer within {REQUEST_TIMEOUT:?}"))?
}

/// A server answering every request with `200` and `body`, until the returned task is
/// aborted (or the runtime ends). Returns the bound address.
pub async fn serve_fixed(
    addr: SocketAddr,
    body: &'static str,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("binding {addr}: {e}"));
    let bound = listener
        .local_addr()
        .expect("a bound listener has an address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the request head; the proxied requests carry no body.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(resp.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (bound, task)
}
