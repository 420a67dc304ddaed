from erlen import Flask

server = Flask("from_app_py")
