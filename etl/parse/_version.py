"""The parser's version, recorded with every run (its own module: reading it loads none of the rules)."""

PARSER_VERSION = "0.2.0"
