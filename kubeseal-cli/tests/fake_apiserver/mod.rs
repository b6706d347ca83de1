//! A tiny stand-in for the API server on loopback (plain HTTP/1.1, one request per
//! connection): enough to test the paths kubeseal calls and how it reports each
//! status. The real-API-server tests live elsewhere and skip without a cluster.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

/// What to answer: status, content type, body.
pub type Reply = (u16, &'static str, Vec<u8>);

pub struct FakeApiServer {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeApiServer {
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let log = Arc::clone(&log);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || serve(stream, &log, &*handler));
            }
        });
        FakeApiServer { url, seen }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Seen>>,
    handler: &(dyn Fn(&Seen) -> Reply + Send + Sync),
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut length = 0usize;
        let mut authorization = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "authorization" => authorization = Some(v.trim().to_owned()),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let seen = Seen {
            method,
            path,
            authorization,
            body,
        };
        log.lock().expect("lock").push(seen.clone());
        let (status, content_type, reply) = handler(&seen);
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(&reply))
            .is_err()
        {
            return;
        }
    }
}

/// A Service object whose first port has `port_name`.
pub fn service(port_name: Option<&str>) -> Vec<u8> {
    let port = match port_name {
        Some(n) => format!("{{\"name\": \"{n}\", \"port\": 8080}}"),
        None => "{\"port\": 8080}".to_owned(),
    };
    format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {{\"name\": \"x\"}}, \"spec\": {{\"ports\": [{port}]}}}}"
    )
    .into_bytes()
}

/// An API `Status` body.
pub fn status(code: u16, reason: &str, message: &str) -> Vec<u8> {
    format!(
        "{{\"kind\": \"Status\", \"apiVersion\": \"v1\", \"status\": \"Failure\", \"message\": \"{message}\", \"reason\": \"{reason}\", \"code\": {code}}}"
    )
    .into_bytes()
}
