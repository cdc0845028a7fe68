"""Core Web cases: BOSH (XEP-0124/0206) and XMPP over WebSocket (RFC 7395)."""
