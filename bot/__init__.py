"""Platform-neutral bot logic, configuration and the command line. Imports engine, never a platform."""
