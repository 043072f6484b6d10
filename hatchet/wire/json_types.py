"""The JSON type of a playground value, as the SDK records it and the server checks it."""


def json_type_name(value: object) -> str:
    # bool before int: True is an int in Python but a boolean in JSON.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(
        "a playground default must be a str, int, float, bool, list or dict, "
        f"not {type(value).__name__}"
    )
