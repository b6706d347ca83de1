//! The controller's RSA keys: reading and writing key Secrets ([`store`]), the
//! in-memory set every unseal and `/v1/cert.pem` use ([`registry`]), and when a new key
//! is due ([`rotation`]).

pub mod manager;
pub mod registry;
pub mod rotation;
pub mod store;

pub use registry::{KeyPair, KeyRegistry, KeySet};
