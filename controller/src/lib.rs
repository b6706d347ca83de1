//! The sealed-secrets controller (under construction).
