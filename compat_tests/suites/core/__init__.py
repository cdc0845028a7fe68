"""Core Server cases: RFC 6120 streams, TLS, SASL, binding, errors, and the core XEPs."""
