"""An example LAS (pupil administration): a UWLR 2.2 Leerlinggegevens service that answers
HaalLeerlinggegevens with rosters it generates, checking the school's authorisation key.

`make_app(Config)` returns the WSGI application, `serve(Config)` a threaded server for it;
`python -m examples.las_app` serves it (see README.md).
"""

from examples.las_app.app import Config, School, make_app, school_key, serve

__all__ = ["Config", "School", "make_app", "school_key", "serve"]
