"""`python -m examples.publisher_app`: serve the example on PUBLISHER_APP_PORT (default 8001)."""

from examples.publisher_app.app import main

if __name__ == "__main__":
    main()
