"""Advanced cases: MUC, PubSub, PEP, Stream Management, MAM, archiving, upload, ad-hoc, components."""
