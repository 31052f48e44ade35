"""The offline demo: the bundled dataset, seeding the emulators, and the runner."""
