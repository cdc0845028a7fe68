"""Feature stores, one file each: its Protocol, SQL and in-memory implementations and `StoreSpec`.

`tigase_py.server.storage.registry.discover()` finds every `StoreSpec` declared here, so adding a
store is adding a file. See `server/storage/README.md` for the contract.
"""
