"""SOP 5.5.5 log retention: sealing day files into signed hash chains and proving them.

Everything in this package except the report and the Typer commands uses only the standard
library and ``cryptography``, so the log server can run it from a zipapp (see ``bundle``).
"""
