//! Reaching a controller on loopback through the API server's service proxy, as
//! kubeseal does in a cluster.
//!
//! The API server only proxies to an endpoint address that is the IP of the Pod the
//! Endpoints entry references, and rejects loopback IPs there. So: a Pod that never runs
//! whose `status.podIP` is patched to `192.0.2.N`, an Endpoints object pointing at
//! `192.0.2.N:<port>` with a `targetRef` to it, and the controller on `127.0.0.N:<port>`.
//! The egress guard of `apiserver.sh` dials `192.0.2.N` as `127.0.0.N`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod,
    PodSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};

/// The controller Service name kubeseal looks for by default.
pub const CONTROLLER_SERVICE: &str = "sealed-secrets-controller";
/// Name of the first Service port (kubeseal proxies to the first port, by name).
pub const PORT_NAME: &str = "http";
/// The Service port, as in upstream's manifests.
pub const SERVICE_PORT: i32 = 8080;

/// The Service, Pod and Endpoints standing in for an in-cluster controller.
pub struct ProxyArrangement {
    client: Client,
    namespace: String,
    /// Service (and Endpoints) name.
    pub service: String,
    /// The stand-in Pod's IP, `192.0.2.N`.
    pub pod_ip: String,
}

impl ProxyArrangement {
    /// Creates Service `service` in `namespace` (port `http` 8080 → `port`), a Pod with IP
    /// `192.0.2.host`, and Endpoints `192.0.2.host:port` referencing it. Traffic reaches
    /// whatever listens on `127.0.0.host:port`.
    pub async fn create(
        client: &Client,
        namespace: &str,
        service: &str,
        host: u8,
        port: u16,
    ) -> ProxyArrangement {
        let pod_ip = format!("192.0.2.{host}");
        let labels = BTreeMap::from([("app.kubernetes.io/name".to_owned(), service.to_owned())]);

        let services: Api<Service> = Api::namespaced(client.clone(), namespace);
        let svc = Service {
            metadata: ObjectMeta {
                name: Some(service.to_owned()),
                labels: Some(labels.clone()),
                ..ObjectMeta::default()
            },
            // No selector: nothing would maintain its Endpoints anyway (no controllers).
            spec: Some(ServiceSpec {
                ports: Some(vec![ServicePort {
                    name: Some(PORT_NAME.to_owned()),
                    port: SERVICE_PORT,
                    target_port: Some(IntOrString::Int(i32::from(port))),
                    protocol: Some("TCP".to_owned()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        services
            .create(&PostParams::default(), &svc)
            .await
            .unwrap_or_else(|e| panic!("creating Service {service}: {e}"));

        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let pod_name = format!("{service}-standin");
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some(pod_name.clone()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "controller".to_owned(),
                    // Never pulled: there is no kubelet; the Pod only carries an IP.
                    image: Some("registry.invalid/sealed-secrets-e2e/never-runs:0".to_owned()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        let pod = pods
            .create(&PostParams::default(), &pod)
            .await
            .unwrap_or_else(|e| panic!("creating Pod {pod_name}: {e}"));
        let status = serde_json::json!({
            "status": {"podIP": pod_ip, "podIPs": [{"ip": pod_ip}]}
        });
        pods.patch_status(&pod_name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap_or_else(|e| panic!("setting the IP of Pod {pod_name}: {e}"));

        let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), namespace);
        let ep = Endpoints {
            metadata: ObjectMeta {
                name: Some(service.to_owned()),
                ..ObjectMeta::default()
            },
            subsets: Some(vec![EndpointSubset {
                addresses: Some(vec![EndpointAddress {
                    ip: pod_ip.clone(),
                    target_ref: Some(ObjectReference {
                        kind: Some("Pod".to_owned()),
                        name: Some(pod_name.clone()),
                        namespace: Some(namespace.to_owned()),
                        uid: pod.metadata.uid.clone(),
                        ..ObjectReference::default()
                    }),
                    ..EndpointAddress::default()
                }]),
                ports: Some(vec![endpoint_port(port)]),
                ..EndpointSubset::default()
            }]),
        };
        endpoints
            .create(&PostParams::default(), &ep)
            .await
            .unwrap_or_else(|e| panic!("creating Endpoints {service}: {e}"));

        ProxyArrangement {
            client: client.clone(),
            namespace: namespace.to_owned(),
            service: service.to_owned(),
            pod_ip,
        }
    }

    /// Points the Service and Endpoints at a new port on the same host (a restarted
    /// controller).
    pub async fn retarget(&self, port: u16) {
        let services: Api<Service> = Api::namespaced(self.client.clone(), &self.namespace);
        let svc_patch = serde_json::json!({"spec": {"ports": [{
            "name": PORT_NAME, "port": SERVICE_PORT, "targetPort": port, "protocol": "TCP"
        }]}});
        services
            .patch(
                &self.service,
                &PatchParams::default(),
                &Patch::Strategic(&svc_patch),
            )
            .await
            .unwrap_or_else(|e| panic!("retargeting Service {}: {e}", self.service));
        let endpoints: Api<Endpoints> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut ep = endpoints
            .get(&self.service)
            .await
            .unwrap_or_else(|e| panic!("reading Endpoints {}: {e}", self.service));
        for subset in ep.subsets.iter_mut().flatten() {
            subset.ports = Some(vec![endpoint_port(port)]);
        }
        endpoints
            .replace(&self.service, &PostParams::default(), &ep)
            .await
            .unwrap_or_else(|e| panic!("retargeting Endpoints {}: {e}", self.service));
    }

    /// The API server path that proxies to `path` on the Service's `http` port.
    pub fn proxy_path(&self, path: &str) -> String {
        format!(
            "/api/v1/namespaces/{}/services/http:{}:{PORT_NAME}/proxy{path}",
            self.namespace, self.service
        )
    }

    /// `GET` through the service proxy: (status, body).
    pub async fn get(&self, path: &str) -> Result<(u16, Vec<u8>), String> {
        let req = http::Request::get(self.proxy_path(path))
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        let resp = self
            .client
            .send(req.map(kube::client::Body::from))
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| e.to_string())?;
        Ok((status, body.to_vec()))
    }
}

fn endpoint_port(port: u16) -> EndpointPort {
    EndpointPort {
        name: Some(PORT_NAME.to_owned()),
        port: i32::from(port),
        protocol: Some("TCP".to_owned()),
        ..EndpointPort::default()
    }
}
