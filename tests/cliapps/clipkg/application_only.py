from erlen import Flask

application = Flask("named_application")
