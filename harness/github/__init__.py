"""GitHub: the sticky PR comment bot and its small REST client."""
