def create_app():
    # Fails inside the factory: the caller must see this TypeError.
    return "x" + 1
