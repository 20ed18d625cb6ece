"""startup-harness: does this change make Python programs start slower, and why?"""

__version__ = "0.1.0"
