from erlen import Flask


def make_app():
    return Flask("made")
