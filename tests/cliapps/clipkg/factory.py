from erlen import Flask


def create_app():
    return Flask("factory_default")


def build(name, mode="prod"):
    return Flask(f"built_{name}_{mode}")


def nothing():
    return None


def broken():
    # A TypeError raised by the factory's own code, not by the call.
    return len(5)


NOT_AN_APP = 42
