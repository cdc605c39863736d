"""guardian-bridge: drive Auth0's Guardian SMS enrollment widget headlessly, one HTTP step at a time."""

__version__ = "0.1.0"

__all__ = ["__version__"]
