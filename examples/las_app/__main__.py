"""`python -m examples.las_app [--schools N] [--school BRIN6=KEY] …`: serve the example LAS on
port 8002 (see README.md or --help)."""

from examples.las_app.app import main

if __name__ == "__main__":
    main()
