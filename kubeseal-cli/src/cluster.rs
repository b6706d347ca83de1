//! Talking to the controller through the API server's service proxy, as Go kubeseal
//! does: read the controller Service's first port name, then call
//! `/api/v1/namespaces/<ns>/services/http:<svc>:<port>/proxy/v1/…`.
//!
//! Everything here is blocking from the caller's point of view: a current-thread
//! tokio runtime is built only when a cluster call is about to happen, so offline
//! sealing never pays for it.

use std::time::Duration;

use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use sealed_secrets::annotations::{SEALING_KEY_ACTIVE, SEALING_KEY_LABEL};

use crate::cli::ClusterFlags;

/// The path of the controller's certificate endpoint (upstream `/v1/cert.pem`).
pub const CERT_PATH: &str = "/v1/cert.pem";
/// The path of the controller's verify endpoint.
pub const VERIFY_PATH: &str = "/v1/verify";
/// The path of the controller's rotate (re-encrypt) endpoint.
pub const ROTATE_PATH: &str = "/v1/rotate";

/// Who grants kubeseal's access to the controller Service.
const PROXIER_ROLE: &str = "the controller's role for system:authenticated grants it";

/// How many times a rate-limited `/v1/verify` (429) is retried before giving up.
const RATE_LIMIT_RETRIES: u32 = 10;

/// Why talking to the cluster or the controller failed. Every message says what to
/// do next.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable configuration.
    #[error(
        "cannot load cluster configuration: {0}\nhint: pass --kubeconfig or set KUBECONFIG (or --server and --token), or use --cert FILE to seal offline"
    )]
    Config(String),
    /// The tokio runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(String),
    /// The API server could not be reached at all.
    #[error(
        "cannot reach the Kubernetes API server at {server}: {message}\nhint: check --server / --context, or use --cert FILE to seal offline"
    )]
    Unreachable {
        /// The server URL.
        server: String,
        /// What the transport said.
        message: String,
    },
    /// 401.
    #[error(
        "the API server rejected the credentials (401 Unauthorized): {0}\nhint: check --token or the kubeconfig user, or log in again"
    )]
    Unauthorized(String),
    /// The controller Service does not exist.
    #[error(
        "cannot get sealed secret service: services \"{name}\" not found in namespace \"{namespace}\".\nPlease, use the flag --controller-name and --controller-namespace to set up the name and namespace of the sealed secrets controller"
    )]
    NoService {
        /// `--controller-namespace`.
        namespace: String,
        /// `--controller-name`.
        name: String,
    },
    /// 403 from RBAC.
    #[error(
        "forbidden: {message}\nhint: the user needs RBAC `{verb}` on `{resource}` in namespace \"{namespace}\" ({granted_by})"
    )]
    Forbidden {
        /// Who usually grants it.
        granted_by: &'static str,
        /// The server's message.
        message: String,
        /// The missing verb.
        verb: &'static str,
        /// The resource (e.g. `services/proxy`).
        resource: String,
        /// The controller namespace.
        namespace: String,
    },
    /// The Service has no ready endpoint (404 / 503 from the proxy).
    #[error(
        "the sealed-secrets controller is not ready: {message}\nhint: check that the controller pod is running and ready (kubectl -n {namespace} get pods), or use --cert FILE to seal offline"
    )]
    NotReady {
        /// The server's message.
        message: String,
        /// The controller namespace.
        namespace: String,
    },
    /// The controller has no key yet (`/v1/cert.pem` → 500).
    #[error(
        "cannot fetch certificate: the controller has no sealing key yet ({0})\nhint: check the controller's logs; it creates a key at start-up"
    )]
    NoKey(String),
    /// Anything else.
    #[error("{what}: {status}{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Http {
        /// What was being done.
        what: String,
        /// The HTTP status.
        status: StatusCode,
        /// Body or Status message.
        message: String,
    },
    /// Rate limited for too long.
    #[error(
        "the controller kept rate-limiting /v1/verify (429); retry later or raise its --rate-limit"
    )]
    RateLimited,
    /// A response we could not use.
    #[error("{0}")]
    BadResponse(String),
}

/// The controller's answer to `/v1/verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 200: the current keys can unseal it.
    Ok,
    /// 409: they cannot.
    CannotDecrypt,
}

/// A connection to the API server and where the controller Service is.
pub struct Controller {
    runtime: tokio::runtime::Runtime,
    client: Client,
    server: String,
    namespace: String,
    name: String,
    port_name: std::sync::OnceLock<String>,
}

/// Builds the client configuration the way kubectl does: `--kubeconfig`, else
/// `KUBECONFIG`, else `~/.kube/config`, else in-cluster; then `--server`/`--token`
/// and the TLS flags override.
async fn load_config(flags: &ClusterFlags) -> Result<Config, ClusterError> {
    let options = KubeConfigOptions {
        context: flags.context.clone(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
    };
    let from_file = |kc: Kubeconfig| async {
        Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| ClusterError::Config(e.to_string()))
    };
    let kubeconfig = match &flags.kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display())))?,
        ),
        None => match Kubeconfig::from_env().map_err(|e| ClusterError::Config(e.to_string()))? {
            Some(kc) => Some(kc),
            None => Kubeconfig::read().ok(),
        },
    };
    let mut config = match kubeconfig {
        Some(kc) => from_file(kc).await?,
        None => match (&flags.server, Config::incluster()) {
            (_, Ok(c)) => c,
            (Some(server), Err(_)) => Config::new(parse_server(server)?),
            (None, Err(e)) => {
                return Err(ClusterError::Config(format!(
                    "no kubeconfig found (KUBECONFIG unset, no ~/.kube/config) and not in a cluster ({e})"
                )));
            }
        },
    };
    if let Some(server) = &flags.server {
        config.cluster_url = parse_server(server)?;
    }
    if let Some(token) = &flags.token {
        config.auth_info.token = Some(token.0.as_str().to_owned().into());
        config.auth_info.token_file = None;
        config.auth_info.exec = None;
        config.auth_info.auth_provider = None;
        config.auth_info.username = None;
        config.auth_info.password = None;
    }
    if let Some(ca) = &flags.certificate_authority {
        let text = std::fs::read(ca).map_err(|e| {
            ClusterError::Config(format!("--certificate-authority {}: {e}", ca.display()))
        })?;
        let certs: Vec<Vec<u8>> = pem::parse_many(&text)
            .map_err(|e| ClusterError::Config(format!("--certificate-authority: {e}")))?
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect();
        if certs.is_empty() {
            return Err(ClusterError::Config(format!(
                "--certificate-authority {}: no PEM certificate in it",
                ca.display()
            )));
        }
        config.root_cert = Some(certs);
    }
    if flags.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    // kube retries 429/503/504 with backoff by itself; a controller that is not
    // ready should be reported at once, and 429 is handled with Retry-After here.
    config.default_retry = false;
    Ok(config)
}

fn parse_server(server: &str) -> Result<http::Uri, ClusterError> {
    // kubectl accepts a bare host:port and assumes https.
    let with_scheme = if server.contains("://") {
        server.to_owned()
    } else {
        format!("https://{server}")
    };
    with_scheme
        .parse()
        .map_err(|e| ClusterError::Config(format!("invalid --server {server:?}: {e}")))
}

fn runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Runtime(e.to_string()))
}

/// A response read whole.
struct Reply {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl Reply {
    /// The API server's `Status.message` when the body is one, else the body text.
    fn message(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Status {
            #[serde(default)]
            message: String,
        }
        match serde_json::from_slice::<Status>(&self.body) {
            Ok(s) if !s.message.is_empty() => s.message,
            _ => String::from_utf8_lossy(&self.body).trim().to_owned(),
        }
    }
}

impl Controller {
    /// Loads the configuration and builds the client; nothing is sent yet.
    pub fn connect(flags: &ClusterFlags) -> Result<Self, ClusterError> {
        let runtime = runtime()?;
        let config = runtime.block_on(load_config(flags))?;
        let server = config.cluster_url.to_string();
        // Building the client needs the runtime (hyper's connector registers with it).
        let client = runtime
            .block_on(async { Client::try_from(config) })
            .map_err(|e| ClusterError::Config(e.to_string()))?;
        Ok(Controller {
            runtime,
            client,
            server,
            namespace: flags.controller_namespace.clone(),
            name: flags.controller_name.clone(),
            port_name: std::sync::OnceLock::new(),
        })
    }

    async fn send(
        client: &Client,
        server: &str,
        request: Request<Vec<u8>>,
    ) -> Result<Reply, ClusterError> {
        let response =
            client
                .send(request.map(Into::into))
                .await
                .map_err(|e| ClusterError::Unreachable {
                    server: server.to_owned(),
                    message: error_chain(&e),
                })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ClusterError::Unreachable {
                server: server.to_owned(),
                message: error_chain(&e),
            })?
            .to_bytes()
            .to_vec();
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// The controller's key Secrets, as `kubeseal keys backup` takes them: every
    /// active one in the controller namespace, and the legacy one named
    /// `legacy_name` (`--key-prefix`) if it exists.
    pub fn key_secrets(&self, legacy_name: &str) -> Result<Vec<serde_json::Value>, ClusterError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let selector = format!("{SEALING_KEY_LABEL}={SEALING_KEY_ACTIVE}");
        let mut secrets = self
            .runtime
            .block_on(api.list(&ListParams::default().labels(&selector)))
            .map_err(|e| self.api_error(e, "list", "secrets"))?
            .items;
        let legacy = self
            .runtime
            .block_on(api.get_opt(legacy_name))
            .map_err(|e| self.api_error(e, "get", "secrets"))?;
        if let Some(legacy) = legacy
            && !secrets
                .iter()
                .any(|s| s.metadata.name == legacy.metadata.name)
        {
            secrets.push(legacy);
        }
        secrets
            .iter()
            .map(|s| serde_json::to_value(s).map_err(|e| ClusterError::BadResponse(e.to_string())))
            .collect()
    }

    /// Creates key Secrets in the controller namespace. One that exists already is
    /// left as it is. Returns the names created and the names that existed.
    pub fn create_key_secrets(
        &self,
        secrets: &[serde_json::Value],
    ) -> Result<(Vec<String>, Vec<String>), ClusterError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let (mut created, mut existing) = (Vec::new(), Vec::new());
        for value in secrets {
            let mut secret: Secret = serde_json::from_value(value.clone())
                .map_err(|e| ClusterError::BadResponse(format!("not a Secret: {e}")))?;
            secret.metadata.namespace = Some(self.namespace.clone());
            let name = secret.metadata.name.clone().unwrap_or_default();
            match self
                .runtime
                .block_on(api.create(&PostParams::default(), &secret))
            {
                Ok(_) => created.push(name),
                Err(kube::Error::Api(status)) if status.code == 409 => existing.push(name),
                Err(e) => return Err(self.api_error(e, "create", "secrets")),
            }
        }
        Ok((created, existing))
    }

    /// An API error of a typed call, with what to do about it.
    fn api_error(&self, error: kube::Error, verb: &'static str, resource: &str) -> ClusterError {
        match error {
            kube::Error::Api(status) if status.code == 403 => ClusterError::Forbidden {
                granted_by: "key Secrets are the controller's private keys: an administrator's permission",
                message: status.message,
                verb,
                resource: resource.to_owned(),
                namespace: self.namespace.clone(),
            },
            kube::Error::Api(status) if status.code == 401 => {
                ClusterError::Unauthorized(status.message)
            }
            kube::Error::Api(status) => ClusterError::Http {
                what: format!("cannot {verb} {resource} in namespace {:?}", self.namespace),
                status: StatusCode::from_u16(status.code)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                message: status.message,
            },
            other => ClusterError::Unreachable {
                server: self.server.clone(),
                message: error_chain(&other),
            },
        }
    }

    /// `spec.ports[0].name` of the controller Service (fetched once).
    fn port_name(&self) -> Result<String, ClusterError> {
        if let Some(p) = self.port_name.get() {
            return Ok(p.clone());
        }
        let path = format!(
            "/api/v1/namespaces/{}/services/{}",
            self.namespace, self.name
        );
        let request = Request::get(path)
            .header(header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| ClusterError::BadResponse(e.to_string()))?;
        let reply = self
            .runtime
            .block_on(Self::send(&self.client, &self.server, request))?;
        match reply.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(ClusterError::NoService {
                    namespace: self.namespace.clone(),
                    name: self.name.clone(),
                });
            }
            StatusCode::FORBIDDEN => {
                return Err(ClusterError::Forbidden {
                    granted_by: PROXIER_ROLE,
                    message: reply.message(),
                    verb: "get",
                    resource: format!("services/{}", self.name),
                    namespace: self.namespace.clone(),
                });
            }
            StatusCode::UNAUTHORIZED => return Err(ClusterError::Unauthorized(reply.message())),
            status => {
                return Err(ClusterError::Http {
                    what: "cannot get sealed secret service".into(),
                    status,
                    message: reply.message(),
                });
            }
        }
        let service: Service = serde_json::from_slice(&reply.body).map_err(|e| {
            ClusterError::BadResponse(format!("cannot get sealed secret service: {e}"))
        })?;
        let port = service
            .spec
            .and_then(|s| s.ports)
            .and_then(|p| p.into_iter().next())
            .ok_or_else(|| {
                ClusterError::BadResponse(format!(
                    "service {}/{} has no ports; the controller's API must be its first port",
                    self.namespace, self.name
                ))
            })?;
        // Upstream uses the name even when empty (`http:<svc>:`), which the API
        // server resolves to the unnamed port.
        let name = port.name.unwrap_or_default();
        Ok(self.port_name.get_or_init(|| name).clone())
    }

    /// The proxy path to one controller endpoint.
    pub fn proxy_path(&self, endpoint: &str) -> Result<String, ClusterError> {
        Ok(proxy_path(
            &self.namespace,
            &self.name,
            &self.port_name()?,
            endpoint,
        ))
    }

    fn proxy_error(&self, what: &str, verb: &'static str, reply: &Reply) -> ClusterError {
        let message = reply.message();
        match reply.status {
            StatusCode::FORBIDDEN => ClusterError::Forbidden {
                granted_by: PROXIER_ROLE,
                message,
                verb,
                resource: "services/proxy".into(),
                namespace: self.namespace.clone(),
            },
            StatusCode::UNAUTHORIZED => ClusterError::Unauthorized(message),
            // The API server answers 404 while the Service has no Endpoints object
            // and 503 while it has no ready address.
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY => ClusterError::NotReady {
                message: if message.is_empty() {
                    reply.status.to_string()
                } else {
                    message
                },
                namespace: self.namespace.clone(),
            },
            StatusCode::NOT_FOUND if is_api_status(&reply.body) => ClusterError::NotReady {
                message,
                namespace: self.namespace.clone(),
            },
            status => ClusterError::Http {
                what: what.to_owned(),
                status,
                message,
            },
        }
    }

    /// `GET …/proxy/v1/cert.pem`: the newest certificate, PEM.
    pub fn cert_pem(&self) -> Result<Vec<u8>, ClusterError> {
        let request = Request::get(self.proxy_path(CERT_PATH)?)
            .header(header::ACCEPT, "application/x-pem-file, */*")
            .body(Vec::new())
            .map_err(|e| ClusterError::BadResponse(e.to_string()))?;
        let reply = self
            .runtime
            .block_on(Self::send(&self.client, &self.server, request))?;
        match reply.status {
            StatusCode::OK => Ok(reply.body),
            StatusCode::INTERNAL_SERVER_ERROR => Err(ClusterError::NoKey(reply.message())),
            _ => Err(self.proxy_error("cannot fetch certificate", "get", &reply)),
        }
    }

    /// `POST …/proxy/v1/verify` with one SealedSecret (JSON), retrying while rate-limited.
    pub fn verify(&self, sealed_json: &[u8]) -> Result<Verdict, ClusterError> {
        let path = self.proxy_path(VERIFY_PATH)?;
        for _ in 0..RATE_LIMIT_RETRIES {
            let request = Request::post(&path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(sealed_json.to_vec())
                .map_err(|e| ClusterError::BadResponse(e.to_string()))?;
            let reply = self
                .runtime
                .block_on(Self::send(&self.client, &self.server, request))?;
            match reply.status {
                StatusCode::OK => return Ok(Verdict::Ok),
                StatusCode::CONFLICT => return Ok(Verdict::CannotDecrypt),
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = reply.retry_after.unwrap_or(Duration::from_secs(1));
                    std::thread::sleep(wait.min(Duration::from_secs(10)));
                }
                _ => {
                    return Err(self.proxy_error(
                        "cannot validate sealed secret",
                        "create",
                        &reply,
                    ));
                }
            }
        }
        Err(ClusterError::RateLimited)
    }

    /// `POST …/proxy/v1/rotate` for each SealedSecret (JSON), a few at a time; the
    /// replies (re-sealed SealedSecret JSON) in input order.
    pub fn rotate_all(&self, bodies: &[Vec<u8>]) -> Vec<Result<Vec<u8>, ClusterError>> {
        use futures::StreamExt as _;
        let path = match self.proxy_path(ROTATE_PATH) {
            Ok(p) => p,
            Err(e) => {
                let message = e.to_string();
                return bodies
                    .iter()
                    .map(|_| Err(ClusterError::BadResponse(message.clone())))
                    .collect();
            }
        };
        let replies = self.runtime.block_on(
            futures::stream::iter(bodies.iter().map(|body| {
                let path = path.clone();
                async move {
                    let request = Request::post(path)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                        .map_err(|e| ClusterError::BadResponse(e.to_string()))?;
                    Self::send(&self.client, &self.server, request).await
                }
            }))
            .buffered(4)
            .collect::<Vec<_>>(),
        );
        replies
            .into_iter()
            .map(|reply| {
                let reply = reply?;
                match reply.status {
                    StatusCode::OK => Ok(reply.body),
                    // 409 from our controller, 500 from upstream's.
                    StatusCode::CONFLICT | StatusCode::INTERNAL_SERVER_ERROR => Err(ClusterError::Http {
                        what: "cannot re-encrypt secret: the controller could not unseal or re-seal it".into(),
                        status: reply.status,
                        message: reply.message(),
                    }),
                    _ => Err(self.proxy_error("cannot re-encrypt secret", "create", &reply)),
                }
            })
            .collect()
    }
}

/// `/api/v1/namespaces/<ns>/services/http:<svc>:<port>/proxy<endpoint>`, as Go's
/// `net.JoinSchemeNamePort` builds the name segment.
pub fn proxy_path(namespace: &str, service: &str, port: &str, endpoint: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/services/http:{service}:{port}/proxy{endpoint}")
}

fn is_api_status(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| v.get("kind").and_then(|k| k.as_str()) == Some("Status"))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Fetches a certificate from an `http(s)://` URL (`--cert https://…`), with the
/// same TLS stack as the cluster client (rustls on aws-lc, system roots).
pub fn fetch_url(url: &str) -> Result<Vec<u8>, ClusterError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| ClusterError::Config(format!("invalid certificate URL {url:?}: {e}")))?;
    let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
        return Err(ClusterError::Config(format!(
            "invalid certificate URL {url:?}"
        )));
    };
    let origin: http::Uri = format!("{scheme}://{authority}")
        .parse()
        .map_err(|e| ClusterError::Config(format!("invalid certificate URL {url:?}: {e}")))?;
    let path = uri
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let runtime = runtime()?;
    let mut config = Config::new(origin);
    config.default_retry = false;
    let client = runtime
        .block_on(async { Client::try_from(config) })
        .map_err(|e| ClusterError::Config(e.to_string()))?;
    let request = Request::get(path)
        .header(header::ACCEPT, "application/x-pem-file, */*")
        .body(Vec::new())
        .map_err(|e| ClusterError::BadResponse(e.to_string()))?;
    let reply = runtime
        .block_on(Controller::send(&client, url, request))
        .map_err(|e| match e {
            ClusterError::Unreachable { message, .. } => {
                ClusterError::BadResponse(format!("cannot fetch {url:?}: {message}"))
            }
            other => other,
        })?;
    if reply.status != StatusCode::OK {
        // Upstream: `cannot fetch "<uri>": <status>`.
        return Err(ClusterError::BadResponse(format!(
            "cannot fetch {url:?}: {}",
            reply.status
        )));
    }
    Ok(reply.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths_match_upstream() {
        assert_eq!(
            proxy_path("kube-system", "sealed-secrets-controller", "", CERT_PATH),
            "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:/proxy/v1/cert.pem"
        );
        assert_eq!(
            proxy_path("ss", "sealed-secrets", "http", ROTATE_PATH),
            "/api/v1/namespaces/ss/services/http:sealed-secrets:http/proxy/v1/rotate"
        );
        assert_eq!(VERIFY_PATH, "/v1/verify");
    }

    #[test]
    fn bare_server_gets_https() {
        assert_eq!(
            parse_server("10.0.0.1:6443").unwrap().to_string(),
            "https://10.0.0.1:6443/"
        );
        assert_eq!(
            parse_server("http://127.0.0.1:1").unwrap().to_string(),
            "http://127.0.0.1:1/"
        );
    }
}
