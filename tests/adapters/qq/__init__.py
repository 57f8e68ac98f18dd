"""QQ (NoneBot2) handler and end-to-end tests: a package, so its conftest does not clash with the top one."""
