"""The K3s stand-in's modules (see ../README.md). `k3s` (next to this package) is the entry point; the
modules here hold what can be tested on its own with pytest (tests/)."""
