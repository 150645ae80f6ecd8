//! The spec `kgpc new --from-patch` writes for a fix.
