"""The SDK's version, sent to the server in the worker's `register` message."""

SDK_VERSION = "0.1.0"
