"""Throwaway servers on loopback for the suite to judge: each a context manager yielding a Target."""
