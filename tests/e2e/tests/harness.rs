//! The test harness itself against the API server: CRD install, namespaces, and the
//! service-proxy arrangement kubeseal's cluster features go through. No controller.

use e2e::proxy::ProxyArrangement;
use e2e::{TIMEOUT, TestEnv, loopback, next_host, wait_for};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;

#[tokio::test]
async fn crd_is_established_and_namespace_is_ours() {
    let Some(env) = TestEnv::start("harness-ns").await else {
        return;
    };
    // The CRD serves: listing SealedSecrets in the fresh namespace works and is empty.
    let list = env
        .sealed_secrets()
        .list(&Default::default())
        .await
        .expect("listing SealedSecrets");
    assert!(list.items.is_empty());
    let ns = Api::<Namespace>::all(env.client.clone())
        .get(&env.namespace)
        .await
        .expect("the test namespace exists");
    assert!(env.namespace.starts_with("e2e-harness-ns-"));
    assert_eq!(ns.status.and_then(|s| s.phase).as_deref(), Some("Active"));
    env.finish([]).await;
}

#[tokio::test]
async fn service_proxy_reaches_a_loopback_server() {
    let Some(env) = TestEnv::start("harness-proxy").await else {
        return;
    };
    let host = next_host();
    let (addr, server) =
        e2e::http::serve_fixed((loopback(host), 0).into(), "hello through the proxy").await;
    let arrangement =
        ProxyArrangement::create(&env.client, &env.namespace, "web", host, addr.port()).await;
    let body = wait_for(
        "the service proxy to answer 200",
        TIMEOUT,
        async || match arrangement.get("/anything").await? {
            (200, body) => Ok(body),
            (code, body) => Err(format!("HTTP {code}: {}", String::from_utf8_lossy(&body))),
        },
    )
    .await;
    assert_eq!(body, b"hello through the proxy");

    // Retargeting to another port moves the traffic there.
    let (addr2, server2) =
        e2e::http::serve_fixed((loopback(host), 0).into(), "second server").await;
    arrangement.retarget(addr2.port()).await;
    let body = wait_for(
        "the retargeted proxy to answer",
        TIMEOUT,
        async || match arrangement.get("/").await? {
            (200, body) if body == b"second server" => Ok(body),
            (code, body) => Err(format!("HTTP {code}: {}", String::from_utf8_lossy(&body))),
        },
    )
    .await;
    assert_eq!(body, b"second server");
    server.abort();
    server2.abort();
    env.finish([]).await;
}
