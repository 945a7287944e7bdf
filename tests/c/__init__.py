"""The C kernel's driver for sanitizers and valgrind: harness.py builds and runs it (see README.md)."""
