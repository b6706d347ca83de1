//! SealedSecrets as Kubernetes objects: the `bitnami.com/v1alpha1` CRD types, sealing
//! a `Secret` into a `SealedSecret`, unsealing it back (with `template.data` rendered
//! as Go templates), reading key files, and explaining failures to key holders.
//!
//! The wire format itself lives in [`sealed_secrets_core`], re-exported as [`core`].
#![deny(missing_docs)]

pub mod annotations;
pub mod crd;
pub mod documents;
pub mod explain;
pub mod go_duration;
pub mod key_secret;
pub mod names;
pub mod rotate;
pub mod seal;
pub mod secret;
pub mod template;
pub mod unseal;
pub mod v1alpha1;

pub use sealed_secrets_core as core;
pub use template::TemplateError;
pub use v1alpha1::{SealedSecret, SealedSecretSpec, SealedSecretStatus, SecretTemplateSpec};
