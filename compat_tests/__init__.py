"""Reserved for its own issue; nothing is implemented here yet."""
