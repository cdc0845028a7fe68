"""A pytest-based XMPP compatibility suite that judges any server over the wire.

Nothing here imports ``tigase_py.server``: the suite talks to its target only through sockets.
See ``README.md`` beside this file for how to add a case and how to point the suite at a server.
"""
