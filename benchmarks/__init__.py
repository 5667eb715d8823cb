"""Load benchmark of SPEC §7: never run by tests or CI."""
